/**
 * A shim with several tasks (a CRI pod's shim), through its socket, with the
 * built-in runtime and real containers (root needed): the first task (the
 * pod's holder) and tasks added by `create` with a config and a dir, each
 * with its own exit.json; `task` addresses them; unknown ones are NotFound;
 * `delete` kills and forgets; no task is added once the first has exited;
 * the shim ends when its last task has exited or was deleted.
 *   deno test -A core/shim/tasks_test.ts
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { BuiltinRuntime } from "../runtime/builtin.ts";
import { layout } from "../runtime/cgroups.ts";
import { CGROUP_PARENT, makeBusyboxRootfs, writeBundle } from "../runtime/testutil.ts";
import { SHIM_V8_FLAGS, ShimClient, ShimError } from "./client.ts";
import type { ExitInfo, ShimConfig } from "./protocol.ts";
import { existsSync } from "../errdefs/ignore.ts";
import { isAlive } from "../runtime/proc.ts";

function cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const s = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]) === ppid) out.push(Number(e.name));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

async function kindOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    assert(e instanceof ShimError, String(e));
    return e.kind;
  }
  throw new Error("the call succeeded; an error was expected");
}

async function until(what: string, f: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name:
    "shim tasks: one shim runs a pod's holder and its containers; delete; ends with its last task",
  ignore: Deno.uid() !== 0,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "berth-shim-tasks-" });
    const rtRoot = `${base}/rt`;
    const sock = `${base}/sock`;
    await makeBusyboxRootfs(`${base}/rootfs`);
    const ids = ["pod", "a", "b", "c"].map((x) => `tasks-${x}-${Deno.pid}`);
    const [podId, aId, bId, cId] = ids;
    const cfgOf = (id: string): ShimConfig => ({
      id,
      socket: sock,
      bundle: `${base}/${id}`,
      runtime: { name: "berth", root: rtRoot },
      tty: false,
      openStdin: false,
      stdinOnce: false,
      logPath: `${base}/${id}.log`,
      logFormat: "cri",
    });
    const cmds: Record<string, string[]> = {
      [podId]: ["sleep", "3600"],
      [aId]: ["sh", "-c", "echo from-a; exec sleep 3600"],
      [bId]: ["sh", "-c", "echo from-b; exit 4"],
      [cId]: ["sleep", "3600"],
    };
    for (const id of ids) {
      await writeBundle(`${base}/${id}`, id, `${base}/rootfs`, { cmd: cmds[id] });
      await Deno.writeTextFile(`${base}/${id}/shim.json`, JSON.stringify(cfgOf(id)));
    }
    const entry = new URL("./entry.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--no-check", "--no-config", entry, `${base}/${podId}`],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
      env: { DENO_V8_FLAGS: SHIM_V8_FLAGS },
    }).spawn();
    const ready = child.stdout.getReader();
    try {
      assert(!(await ready.read()).done, "the shim did not come up");
      ready.releaseLock();
      const shimPid = child.pid;
      const pod = new ShimClient(`${base}/${podId}`, sock);
      const task = (id: string) => new ShimClient(`${base}/${id}`, sock, id);
      await pod.call({ op: "create" });
      await pod.call({ op: "start" });
      const podWait = pod.wait();

      // prewarm: the shim boots an init for the next task (its child, on `<sock>.i1`), once;
      // the next create takes it (the container's pid is that init's)
      await pod.call({ op: "prewarm" });
      await pod.call({ op: "prewarm" });
      const booted = () =>
        childrenOf(shimPid).filter((p) => cmdline(p).includes(` create ${sock}.i`));
      await until("the prewarmed init's exec", () => booted().length > 0); // fork before exec
      const warm = booted();
      assertEquals(warm.length, 1, "one init booted ahead");
      assert(cmdline(warm[0]).endsWith(` create ${sock}.i1`), cmdline(warm[0]));

      // two tasks added: own pid, own log, own exit.json; the shim is the parent of all
      const pids: Record<string, number> = {};
      for (const id of [aId, bId]) {
        const created = await task(id).call({
          op: "create",
          config: cfgOf(id),
          dir: `${base}/${id}`,
        });
        pids[id] = Number(created.pid);
      }
      assertEquals(pids[aId], warm[0], "the first create took the init booted ahead");
      assert(!existsSync(`${sock}.i1`), "the warm init's sync socket is left");
      const bWait = task(bId).wait();
      for (const id of [aId, bId]) await task(id).call({ op: "start" });
      assertEquals((await bWait)?.exitCode, 4);
      const bExit = JSON.parse(await Deno.readTextFile(`${base}/${bId}/exit.json`)) as ExitInfo;
      assertEquals(bExit.exitCode, 4);
      const st = await task(aId).call({ op: "state" });
      assertEquals([st.status, st.shimPid, st.pid], ["running", shimPid, pids[aId]]);
      assertEquals((await pod.call({ op: "state" })).status, "running");
      await until("a's log", () => {
        try {
          return Deno.readTextFileSync(`${base}/${aId}.log`).includes(" stdout F from-a\n");
        } catch {
          return false;
        }
      });
      assert(Deno.readTextFileSync(`${base}/${bId}.log`).includes(" stdout F from-b\n"));
      assert(!Deno.readTextFileSync(`${base}/${aId}.log`).includes("from-b"));
      for (const id of [aId, bId]) {
        assertEquals(Number(await Deno.readTextFile(`${base}/${id}/shim.pid`)), shimPid);
      }

      // addressing: unknown tasks, a second create of the same id
      assertEquals(await kindOf(task("nosuch").call({ op: "state" })), "NotFound");
      assert(!await task("nosuch").alive());
      assert(await task(aId).alive());
      assertEquals(
        await kindOf(
          task(aId).call({ op: "create", config: cfgOf(aId), dir: `${base}/${aId}` }),
        ),
        "Conflict",
      );

      // delete: an exited task is forgotten; a running one is killed first, its exit recorded
      await task(bId).call({ op: "delete" });
      assertEquals(await kindOf(task(bId).call({ op: "state" })), "NotFound");
      await task(aId).call({ op: "delete" });
      assert(!isAlive(pids[aId]), "a outlived its delete");
      assertEquals(
        (JSON.parse(await Deno.readTextFile(`${base}/${aId}/exit.json`)) as ExitInfo).signal,
        9,
      );

      // a created task left by a start the daemon did not finish is replaced by a new create
      const createC = () =>
        task(cId).call({ op: "create", config: cfgOf(cId), dir: `${base}/${cId}` });
      const stale = Number((await createC()).pid);
      const created = await createC();
      assert(Number(created.pid) !== stale && !isAlive(stale), "the stale task was not replaced");
      let noExit = true;
      await Deno.stat(`${base}/${cId}/exit.json`).then(() => noExit = false, () => {});
      assert(noExit, "the stale task's exit.json is left");

      // the holder exits, a container still runs: the shim stays, and takes no new task
      await task(cId).call({ op: "start" });
      await pod.call({ op: "prewarm" }); // one that no create will take
      // between fork and exec the child still shows the shim's own cmdline: wait for the exec
      const warmInits = () =>
        childrenOf(shimPid).filter((p) => cmdline(p).endsWith(` create ${sock}.i2`));
      await until("the prewarmed init's exec", () => warmInits().length > 0);
      const warm2 = warmInits();
      assertEquals(warm2.length, 1);
      await pod.call({ op: "kill", signal: 9 });
      assertEquals((await podWait)?.signal, 9);
      await new Promise((r) => setTimeout(r, 300));
      assert(isAlive(shimPid), "the shim ended while a container of its pod ran");
      assert(isAlive(Number(created.pid)));
      const late = cfgOf(`tasks-late-${Deno.pid}`);
      assertEquals(
        await kindOf(
          new ShimClient(base, sock, late.id).call({ op: "create", config: late, dir: base }),
        ),
        "Conflict",
      );

      // the last task's exit ends the shim, and with it an init booted ahead that no create took
      await task(cId).call({ op: "kill", signal: 9 });
      assertEquals((await child.status).code, 0);
      assert(!existsSync(`${sock}.i2`), "the prewarmed init's sync socket is left");
      await until("the unused init's end", () => !isAlive(warm2[0]));
      assert(!isAlive(Number(created.pid)));
      assert(!await pod.alive());
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* it ended: the usual case */ }
      await child.status;
      await child.stdout.cancel().catch(() => {/* released */});
      const rt = new BuiltinRuntime({ root: rtRoot });
      for (const id of ids) await rt.delete(id, true).catch(() => {/* deleted by its task */});
      for (const h of layout().hierarchies) {
        await Deno.remove(`${h.mountpoint}${CGROUP_PARENT}`).catch(() => {/* none made */});
      }
      await Deno.remove(base, { recursive: true });
    }
  },
});
