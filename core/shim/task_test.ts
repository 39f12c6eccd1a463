/**
 * Task's clean-up after an exit, with the built-in runtime and a real
 * container (root needed): a runtime delete that fails once is retried; one
 * that fails twice is written to exit.json (cleanupError), and the daemon's
 * side (reap.ts finishRuntimeCleanup) then deletes the runtime state and the
 * cgroup itself. The failures are injected in delete only; the container,
 * its state and its cgroup are real.
 *   deno test -A core/shim/task_test.ts
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { BuiltinRuntime } from "../runtime/builtin.ts";
import { Cgroup, layout } from "../runtime/cgroups.ts";
import { CGROUP_PARENT, makeBusyboxRootfs, writeBundle } from "../runtime/testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";
import type { ExitInfo, ShimConfig } from "./protocol.ts";
import { finishRuntimeCleanup } from "./reap.ts";
import { existsSync as exists } from "../errdefs/ignore.ts";
import { Task } from "./task.ts";

/** The built-in runtime, its first `failures` deletes failing as a busy cgroup would. */
class FailingDelete extends BuiltinRuntime {
  failures: number;
  calls = 0;
  constructor(root: string, failures: number) {
    super({ root });
    this.failures = failures;
  }
  override async delete(id: string, force?: boolean): Promise<void> {
    this.calls++;
    if (this.failures-- > 0) throw new Error("rmdir cgroup: device or resource busy");
    await super.delete(id, force);
  }
}

function cgroupGone(id: string): boolean {
  const cg = new Cgroup(`${CGROUP_PARENT}/${id}`);
  return layout().hierarchies.every((h) => !exists(cg.dir(h)));
}

/** Run `exit 3` in a container through a Task; its shim dir and what exit.json says. */
async function runToExit(rt: BuiltinRuntime, base: string, rtRoot: string, id: string) {
  const dir = `${base}/shims/${id}`;
  await writeBundle(dir, id, `${base}/rootfs`, { cmd: ["sh", "-c", "exit 3"] });
  const cfg: ShimConfig = {
    id,
    socket: `${dir}/sock`,
    bundle: dir,
    runtime: { name: "berth", root: rtRoot },
    tty: false,
    openStdin: false,
    stdinOnce: false,
    logPath: "",
  };
  await Deno.writeTextFile(`${dir}/shim.json`, JSON.stringify(cfg));
  const task = new Task(cfg, rt, dir);
  await task.create();
  await task.start();
  const info = await task.exited;
  const written = JSON.parse(await Deno.readTextFile(`${dir}/exit.json`)) as ExitInfo;
  assertEquals(written, info);
  assertEquals(info.exitCode, 3);
  return { dir, info };
}

Deno.test({
  name: "task: a failed runtime delete after the exit is retried, then left to the daemon",
  ignore: Deno.uid() !== 0,
  async fn() {
    setSubreaper();
    const base = await Deno.makeTempDir({ prefix: "berth-task-" });
    const rtRoot = `${base}/rt/berth`;
    await makeBusyboxRootfs(`${base}/rootfs`);
    const [once, twice] = ["once", "twice"].map((x) => `task-${x}-${Deno.pid}`);
    const plain = new BuiltinRuntime({ root: rtRoot });
    try {
      // one failure: the retry deletes it; nothing for the daemon to do
      const rt1 = new FailingDelete(rtRoot, 1);
      const a = await runToExit(rt1, base, rtRoot, once);
      assertEquals(rt1.calls, 2);
      assertEquals(a.info.cleanupError, undefined);
      assert(!exists(`${rtRoot}/${once}`), "runtime state deleted by the retry");
      assert(cgroupGone(once), "cgroup removed by the retry");
      assertEquals(await finishRuntimeCleanup(a.dir), []);

      // two failures: exit.json says so; the daemon's side deletes what is left
      const rt2 = new FailingDelete(rtRoot, 2);
      const b = await runToExit(rt2, base, rtRoot, twice);
      assertEquals(rt2.calls, 2);
      assertEquals(b.info.cleanupError, "berth delete: rmdir cgroup: device or resource busy");
      assert(exists(`${rtRoot}/${twice}`), "runtime state left by the shim");
      const lines = await finishRuntimeCleanup(b.dir);
      assertEquals(lines, [
        "the shim could not clean up after the exit (berth delete: rmdir cgroup: device or " +
        "resource busy); the daemon did",
      ]);
      assert(!exists(`${rtRoot}/${twice}`), "runtime state deleted by the daemon's side");
      assert(cgroupGone(twice), "cgroup removed by the daemon's side");
    } finally {
      for (const id of [once, twice]) {
        await plain.delete(id, true).catch(() => {/* deleted by the test: the usual case */});
      }
      for (const h of layout().hierarchies) {
        await Deno.remove(`${h.mountpoint}${CGROUP_PARENT}`).catch(() => {/* none made */});
      }
      await Deno.remove(base, { recursive: true });
    }
  },
});
