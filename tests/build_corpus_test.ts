/**
 * The Dockerfile corpus (tests/fixtures/dockerfiles/<case>): each case is
 * built through the berth client and checked by running its check.sh inside
 * the result, by its config, and (where asked) by its layer tars.
 */
import { assertEquals } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon } from "./fixtures/daemon.ts";
import { CASES, runCase } from "./fixtures/dockerfiles/_harness.ts";

Deno.test({
  name: "build corpus: every case builds, runs and has Docker's config",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const img = await busyboxArchive();
    const d = await startDaemon();
    try {
      assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
      for (const name of CASES) await t.step(name, () => runCase(d, name));
    } finally {
      await d.stop();
    }
  },
});
