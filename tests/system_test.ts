/**
 * End-to-end: `system df` and `system prune` over the real daemon.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon } from "./fixtures/daemon.ts";

Deno.test("system: df counts, prune removes stopped containers, unused networks, dangling images", async () => {
  const img = await busyboxArchive();
  const d = await startDaemon();
  try {
    assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
    let r = await d.berth(["run", "--name", "done1", "--network", "none", "busybox", "true"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals((await d.berth(["network", "create", "spare"])).code, 0);
    r = await d.berth(["system", "df"]);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assertMatch(lines[0], /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    assertMatch(lines[1], /^Images\s+1\s+1\s+/);
    assertMatch(lines[2], /^Containers\s+1\s+0\s+/);
    r = await d.berth(["system", "prune", "-f"]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "Deleted Containers:");
    assertStringIncludes(r.stdout, "Deleted Networks:\nspare");
    assertStringIncludes(r.stdout, "Total reclaimed space:");
    assertEquals((await d.berth(["ps", "-aq"])).stdout, "");
    // The image is tagged, so a plain prune keeps it; -a removes it (no container uses it now).
    assertEquals((await d.berth(["images", "-q"])).stdout.trim().split("\n").length, 1);
    r = await d.berth(["system", "prune", "-a", "-f"]);
    assertStringIncludes(r.stdout, `deleted: ${img.configDigest}`);
    assertEquals((await d.berth(["images", "-q"])).stdout, "");
  } finally {
    await d.stop();
  }
});
