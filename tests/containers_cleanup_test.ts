/**
 * Nothing leaks: after many `run --rm` cycles (and detached runs removed with
 * -f), there are no mounts under the test root, no shim processes, no cgroup
 * directories and no files under the exec root's shims/.
 */
import { assertEquals } from "../core/testing/assert.ts";
import {
  cgroupDirs,
  containerDaemon,
  entries,
  eventually,
  expectCode,
  mountsUnder,
  RUNTIMES,
  shimPids,
  teardown,
} from "./containers_helpers.ts";

const CYCLES = Number(Deno.env.get("BERTH_CLEANUP_CYCLES") ?? 25);

for (const rt of RUNTIMES) {
  Deno.test(`containers[${rt}]: ${CYCLES} run --rm cycles leave nothing behind`, async () => {
    const d = await containerDaemon({ defaultRuntime: rt });
    const ids: string[] = [];
    try {
      for (let i = 0; i < CYCLES; i++) {
        const r = expectCode(
          await d.berth(["run", "--rm", "--cidfile", `${d.base}/cid${i}`, "busybox", "true"]),
          0,
        );
        assertEquals(r.stdout, "");
        ids.push(await Deno.readTextFile(`${d.base}/cid${i}`));
      }
      for (let i = 0; i < 3; i++) {
        const id = expectCode(await d.berth(["run", "-d", "busybox", "sleep", "100"]), 0).stdout
          .trim();
        ids.push(id);
        expectCode(await d.berth(["rm", "-f", id]), 0);
      }
      expectCode(await d.berth(["run", "--rm", "busybox", "sh", "-c", "exit 3"]), 3);
      // what may stay: the daemon's warm shims, two after a burst of starts (ShimPool)
      await eventually(async () => (await shimPids(d.execRoot)).length <= 2, 5000, "shims gone");
      assertEquals((await d.berth(["ps", "-aq"])).stdout, "");
      assertEquals(await mountsUnder(d.base), []);
      assertEquals(await entries(`${d.execRoot}/shims`), []);
      // only the daemon's warm (not yet adopted) shims' sockets may be there
      assertEquals((await entries(`${d.execRoot}/s`)).filter((e) => !e.startsWith("w-")), []);
      assertEquals(await entries(`${d.root}/containers`), []);
      assertEquals(await cgroupDirs(d, ids), []);
      await d.stopDaemon();
      await eventually(
        async () => (await shimPids(d.execRoot)).length === 0,
        5000,
        "warm shim gone",
      );
    } finally {
      await teardown(d);
    }
  });
}
