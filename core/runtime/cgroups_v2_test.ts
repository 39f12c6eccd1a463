/**
 * The cgroup v2 code paths on a real cgroup2 mount. This host is hybrid (its
 * controllers are bound to v1), so a private mount of the v2 hierarchy has
 * no controllers: what is tested is cgroup2's core — directories, joining,
 * freeze/thaw (cgroup.freeze), listing pids, OOM state (none), removal, and
 * that limits are refused with a clear error rather than written nowhere.
 *   deno test -A core/runtime/cgroups_v2_test.ts   (root)
 */
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { Cgroup } from "./cgroups.ts";
import { cgroup2Probe, scratchCgroup2, skipUnless } from "../testing/host.ts";

const NAME = "cgroup v2 core on a real cgroup2 mount: create, join, freeze, pids, remove";
const probe = await cgroup2Probe();

Deno.test({
  name: NAME,
  ignore: skipUnless(NAME, probe.missing),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const scratch = await scratchCgroup2("berth-cg2-");
    const { mnt, layout: l } = scratch;
    const cg = new Cgroup(`/berth-test-v2-${Deno.pid}/c1`, l);
    let child: Deno.ChildProcess | undefined;
    try {
      // no memory controller in this hierarchy: a memory limit is refused, and says why
      const limited = new Cgroup(`/berth-test-v2-${Deno.pid}/c0`, l);
      const premise = probe.controllers.includes("memory")
        ? "this host's cgroup2 has the memory controller"
        : undefined;
      if (!skipUnless("cgroup v2: a limit without its controller is refused", premise)) {
        assertThrows(
          () => limited.create({ memory: { limit: 64 << 20 } }),
          Error,
          "the memory controller is not enabled",
        );
      }
      await limited.remove();
      assertEquals(cg.mounts(), [{ name: "", source: `${mnt}${cg.path}` }]);
      assertEquals(cg.procsFiles(), [`${mnt}${cg.path}/cgroup.procs`]);
      cg.create(undefined);
      assert(Deno.statSync(`${mnt}${cg.path}`).isDirectory);
      child = new Deno.Command("sleep", { args: ["100"] }).spawn();
      Deno.writeTextFileSync(`${mnt}${cg.path}/cgroup.procs`, String(child.pid));
      assertEquals(cg.pids(), [child.pid]);
      assertEquals(cg.frozen(), false);
      await cg.freeze(true);
      assertEquals(cg.frozen(), true);
      assert(/\tT|State:\s+[TS]/.test(Deno.readTextFileSync(`/proc/${child.pid}/status`)));
      await cg.freeze(false);
      assertEquals(cg.frozen(), false);
      assertEquals(cg.oomKilled(), false);
      child.kill("SIGKILL");
      await child.status;
      child = undefined;
      await cg.remove();
      assertEquals(Deno.statSync(`${mnt}/berth-test-v2-${Deno.pid}`).isDirectory, true);
      let gone = false;
      try {
        Deno.statSync(`${mnt}${cg.path}`);
      } catch {
        gone = true;
      }
      assert(gone, "the container's cgroup directory is removed");
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      await Deno.remove(`${mnt}${cg.path}`).catch(() => {});
      await Deno.remove(`${mnt}/berth-test-v2-${Deno.pid}/c0`).catch(() => {});
      await Deno.remove(`${mnt}/berth-test-v2-${Deno.pid}`).catch(() => {});
      await scratch.release();
    }
  },
});
