/**
 * reap.ts against real containers (root needed), with the built-in runtime
 * and runc: `reapContainer` kills every process of a shim-less container
 * (children of init included) and leaves no runtime state or cgroup;
 * `sweepRuntimeState` does the same for state nobody keeps and spares the
 * state that is kept.
 *   deno test -A core/shim/reap_test.ts
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { BuiltinRuntime } from "../runtime/builtin.ts";
import { ExternalRuntime } from "../runtime/external.ts";
import type { OciRuntime } from "../runtime/runtime.ts";
import { isAlive } from "../runtime/proc.ts";
import { Cgroup, layout } from "../runtime/cgroups.ts";
import { CGROUP_PARENT, hasRunc, makeBusyboxRootfs, writeBundle } from "../runtime/testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";
import type { ShimConfig } from "./protocol.ts";
import { reapContainer, sweepRuntimeState } from "./reap.ts";

const root = Deno.uid() === 0;

interface Rt {
  name: string;
  make(root: string): OciRuntime;
}
const RUNTIMES: Rt[] = [
  { name: "berth", make: (r) => new BuiltinRuntime({ root: r }) },
  { name: "runc", make: (r) => new ExternalRuntime({ name: "runc", root: r }) },
];

/** A running container (init + a child) in `bundle`; its pids once both run. */
async function runOne(rt: OciRuntime, id: string, bundle: string, rootfs: string) {
  await writeBundle(bundle, id, rootfs, { cmd: ["sh", "-c", "sleep 1001 & exec sleep 1002"] });
  const p = await rt.create(id, bundle, { stdio: { kind: "null" } });
  p.status.catch(() => {/* reaped by whoever: only the pids matter here */});
  await rt.start(id);
  const cg = new Cgroup(`${CGROUP_PARENT}/${id}`);
  let pids: number[] = [];
  for (let i = 0; i < 400 && (pids = cg.pids()).length < 2; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert(pids.length >= 2, `container ${id}: ${pids.length} process(es)`);
  return pids;
}

function cgroupGone(id: string): boolean {
  const cg = new Cgroup(`${CGROUP_PARENT}/${id}`);
  return layout().hierarchies.every((h) => {
    try {
      Deno.statSync(cg.dir(h));
      return false;
    } catch {
      return true;
    }
  });
}

async function waitDead(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 200 && pids.some((p) => isAlive(p)); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return pids.filter((p) => isAlive(p));
}

for (const r of RUNTIMES) {
  const ignore = !root || (r.name === "runc" && !hasRunc);
  Deno.test({
    name: `reap[${r.name}]: a shim-less container is killed cgroup-wide and forgotten`,
    ignore,
    async fn() {
      setSubreaper();
      const base = await Deno.makeTempDir({ prefix: "berth-reap-" });
      const rtRoot = `${base}/rt/${r.name}`;
      const rt = r.make(rtRoot);
      const rootfs = `${base}/rootfs`;
      await makeBusyboxRootfs(rootfs);
      const ids = ["reap-a", "keep-b", "sweep-c"].map((x) => `${x}${Deno.pid}`);
      const all: number[] = [];
      try {
        // reapContainer: a shim dir (bundle + shim.json), the shim gone
        const dir = `${base}/shims/a`;
        const a = await runOne(rt, ids[0], dir, rootfs);
        all.push(...a);
        const cfg = {
          id: ids[0],
          bundle: dir,
          runtime: { name: r.name, root: rtRoot },
        } as Partial<ShimConfig>;
        await Deno.writeTextFile(`${dir}/shim.json`, JSON.stringify(cfg));
        const res = await reapContainer(dir);
        assertEquals(res.problems, []);
        assert(res.found && res.killed >= 2, `killed ${res.killed}`);
        assertEquals(await waitDead(a), []);
        assert(cgroupGone(ids[0]), "cgroup removed");
        assertEquals([...Deno.readDirSync(rtRoot)].map((e) => e.name).includes(ids[0]), false);

        // sweepRuntimeState: b is kept, c is not
        const b = await runOne(rt, ids[1], `${base}/shims/b`, rootfs);
        const c = await runOne(rt, ids[2], `${base}/shims/c`, rootfs);
        all.push(...b, ...c);
        const swept = await sweepRuntimeState(`${base}/rt`, (id) => id === ids[1], {});
        assertEquals(swept, [`${r.name}/${ids[2]}`]);
        assertEquals(await waitDead(c), []);
        assert(cgroupGone(ids[2]), "swept cgroup removed");
        assert(b.every((p) => isAlive(p)), "the kept container runs on");
        assertEquals((await rt.state(ids[1])).status, "running");
      } finally {
        for (const id of ids) await rt.delete(id, true).catch(() => {});
        for (const p of all) {
          try {
            if (isAlive(p)) Deno.kill(p, "SIGKILL");
          } catch { /* gone */ }
        }
        for (const h of layout().hierarchies) {
          await Deno.remove(`${h.mountpoint}${CGROUP_PARENT}`).catch(() => {});
        }
        await Deno.remove(base, { recursive: true });
      }
    },
  });
}
