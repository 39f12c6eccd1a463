/**
 * `berth shim <dir>`: one per Engine API container, one per CRI pod (its
 * holder and its containers, as tasks: protocol.ts), spawned detached by the
 * daemon (own session, stdio /dev/null), so it outlives the daemon. It is
 * each container init's parent (a child subreaper), holds its stdio or pty,
 * writes its log, records each exit in the task's exit.json, and serves the
 * control socket `<exec-root>/s/<id prefix>` (protocol.ts). It exits soon
 * after every task has exited and the exits are recorded.
 *
 * Keep this module graph small: it is loaded once per container.
 * @module
 */
import {
  encodeLine,
  readLine,
  type ShimConfig,
  type ShimReply,
  type ShimRequest,
  writeAll,
} from "./protocol.ts";
import { Task } from "./task.ts";
import { disposition, dropped, redeliverWhenCaught } from "./redeliver.ts";
import { setSubreaper, setWinsize } from "./sys_linux.ts";
import { collectGarbage, dropExecutablePages } from "../sys/memory.ts";
import {
  canRenice,
  cloexecFrom,
  close,
  dup2,
  O_CLOEXEC,
  O_RDWR,
  open,
  setProcessNice,
  setThreadNice,
  threadNice,
} from "../sys/libc_proc.ts";
import type { OciRuntime } from "../runtime/runtime.ts";
import type { BuiltinRuntime } from "../runtime/builtin.ts";
import type { WarmInit } from "../runtime/warm_init.ts";
import { handledElsewhere, peerGone, removeIfExists, tempLeftover } from "../errdefs/ignore.ts";

/** A shim whose container was never created gives up after this long. */
const CREATE_TIMEOUT_MS = 60_000;
/**
 * A pod shim's init booted ahead of the next container (op `prewarm`) is let
 * go after this long without a create: an idle Deno process is memory.
 */
const PREWARM_TTL_MS = 15_000;
/** How much nicer than the shim a prewarmed init boots (it should delay no one). */
const PREWARM_NICER = 10;

async function openRuntime(
  cfg: ShimConfig,
  warmInit?: WarmInit,
  nice?: number,
): Promise<OciRuntime> {
  const r = cfg.runtime;
  if (r.name === "berth" && !r.berthArgv) {
    const m = await import("../runtime/builtin.ts");
    return new m.BuiltinRuntime({ root: r.root, warmInit, warmInitNice: nice });
  }
  if (warmInit) (await import("../runtime/warm_init.ts")).discardWarmInit(warmInit);
  if (r.name === "berth") {
    const m = await import("../runtime/builtin.ts");
    return new m.BuiltinRuntime({ root: r.root, berthArgv: r.berthArgv });
  }
  const m = await import("../runtime/external.ts");
  return new m.ExternalRuntime({ name: r.name, path: r.path ?? r.name, root: r.root });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Tasks with the same runtime share one OciRuntime object. */
function runtimeKey(c: ShimConfig): string {
  return JSON.stringify([c.runtime.name, c.runtime.path ?? "", c.runtime.root]);
}

function errReply(e: unknown): ShimReply {
  const err = e as { message?: string; exitCode?: number; kind?: string };
  return {
    ok: false,
    error: err?.message ?? String(e),
    kind: err?.kind,
    exitCode: err?.exitCode,
  };
}

/**
 * Tell the daemon we listen: one byte on stdout (a pipe it reads, see
 * client.ts waitSocket), then stdout becomes /dev/null, so that nothing
 * ties us to the daemon any more.
 */
function signalReady(): void {
  try {
    Deno.stdout.writeSync(new Uint8Array([10]));
  } catch { /* nobody reads */ }
  try {
    const fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(fd, 1);
    close(fd);
  } catch { /* keep it */ }
}

/** The warm shim's socket and its warm init's sync socket. */
function removeWarmSockets(sock: string): void {
  for (const p of [sock, `${sock}.i`]) {
    try {
      Deno.removeSync(p);
    } catch { /* gone */ }
  }
}

/**
 * A warm shim (`berth shim --warm SOCK`) boots ahead of need and waits to be
 * adopted: `{"op":"hold"}` (a connection the daemon keeps open: when it
 * closes before adoption, the shim exits) and `{"op":"adopt","dir":…}`.
 */
async function waitAdoption(
  listener: Deno.Listener,
  sock: string,
): Promise<{ dir: string; conn: Deno.Conn }> {
  let adopted = false;
  let held = false;
  // Spawned by a daemon that died before holding us: nobody will ever come.
  const orphan = setTimeout(() => {
    if (!held && !adopted) {
      removeWarmSockets(sock);
      Deno.exit(0);
    }
  }, 10_000);
  for (;;) {
    const conn = await listener.accept();
    const line = await readLine(conn).catch(() => null); // hung up before asking: no request
    const req = line?.value as { op?: string; dir?: string } | undefined;
    if (req?.op === "adopt" && req.dir) {
      adopted = true;
      clearTimeout(orphan);
      return { dir: req.dir, conn };
    }
    if (req?.op === "hold") {
      held = true;
      (async () => {
        const b = new Uint8Array(64);
        // until the holder lets go (EOF) or its connection breaks (same meaning)
        while ((await conn.read(b).catch(() => null)) !== null) { /* nothing */ }
        if (!adopted) {
          removeWarmSockets(sock);
          Deno.exit(0);
        }
      })();
      continue;
    }
    if (req?.op === "shutdown") {
      removeWarmSockets(sock);
      Deno.exit(0);
    }
    if (req?.op === "stats") {
      (globalThis as { gc?: () => void }).gc?.();
      await writeAll(conn, encodeLine({ ok: true, memory: Deno.memoryUsage() })).catch(peerGone);
    }
    conn.close();
  }
}

/**
 * Shrink to the steady state, as the daemon does (core/sys/memory.ts): drop
 * the start-up code pages of the deno binary we mapped (~10 MB of RSS, ~2 MB
 * of PSS), then a full GC that also compacts and gives pages back ("last
 * resort" flavour of the gc extension), then malloc_trim. `gc` exists when
 * the shim runs with `--expose-gc` (see client.ts SHIM_V8_FLAGS).
 */
function collect(): void {
  // housekeeping: at a low priority, so that it delays no one (nice is per thread)
  const base = threadNice();
  const niced = canRenice() && setThreadNice(base + 10);
  try {
    dropExecutablePages();
    collectGarbage();
  } finally {
    if (niced) setThreadNice(base);
  }
}

export async function main(args: string[]): Promise<number> {
  if (!args[0]) {
    console.error("usage: berth shim <dir> | berth shim --warm <socket>");
    return 2;
  }
  setSubreaper();
  try {
    cloexecFrom(3); // nothing we inherited or opened reaches the runtime and the container
  } catch { /* best effort */ }
  let dir: string;
  let cfg: ShimConfig;
  let listener: Deno.Listener;
  let warmInit: WarmInit | undefined;
  let baseNice: number | undefined;
  if (args[0] === "--warm") {
    const warmSock = args[1];
    await removeIfExists(warmSock);
    listener = Deno.listen({ transport: "unix", path: warmSock });
    signalReady();
    // Load the runtimes now, while nobody waits; the built-in one also boots an init.
    const preload = args[2] === "external"
      ? import("../runtime/external.ts").then(() => {})
      : Promise.all([import("../runtime/builtin.ts"), import("../runtime/warm_init.ts")]).then(
        ([b, w]) => {
          warmInit = w.prewarmInit(b.defaultInitArgv(), `${warmSock}.i`);
        },
      );
    preload.catch(handledElsewhere);
    const a = await waitAdoption(listener, warmSock);
    // booted at a lower priority (client.ts WARM_NICE): from now on people wait on us
    const nice = Number(Deno.env.get("BERTH_SHIM_NICE"));
    if (Number.isInteger(nice) && nice !== threadNice() && canRenice()) {
      setProcessNice(nice);
      baseNice = nice;
    }
    dir = a.dir;
    cfg = JSON.parse(Deno.readTextFileSync(`${dir}/shim.json`)) as ShimConfig;
    Deno.renameSync(warmSock, cfg.socket);
    // a failed preload is the runtime's import failing: create repeats it and reports it
    await preload.catch(() => {});
    await writeAll(a.conn, encodeLine({ ok: true, pid: Deno.pid })).catch(peerGone);
    a.conn.close();
  } else {
    dir = args[0];
    cfg = JSON.parse(Deno.readTextFileSync(`${dir}/shim.json`)) as ShimConfig;
    try {
      Deno.removeSync(cfg.socket);
    } catch { /* none */ }
    listener = Deno.listen({ transport: "unix", path: cfg.socket });
    signalReady();
  }
  const rt = await openRuntime(cfg, warmInit, baseNice);
  const first = new Task(cfg, rt, dir);
  /** the tasks by runtime id: the first one, and a pod's containers added by `create` */
  const tasks = new Map<string, Task>([[cfg.id, first]]);
  const runtimes = new Map<string, OciRuntime>([[runtimeKey(cfg), rt]]);
  const sock = cfg.socket;
  // Sync file APIs on purpose: every Deno API a shim touches costs it memory
  // (lazily compiled runtime code), and these files are tiny.
  Deno.writeTextFileSync(`${dir}/shim.pid`, String(Deno.pid));

  const taskOf = (req: ShimRequest): Task => {
    const t = tasks.get(req.task ?? cfg.id);
    if (!t) {
      throw Object.assign(new Error(`task ${req.task ?? cfg.id} not found`), { kind: "NotFound" });
    }
    return t;
  };
  /** A pod's container: its own task, runtime (usually the first's) and files. */
  const addTask = async (req: ShimRequest & { op: "create" }): Promise<Task> => {
    const tc = req.config!, tdir = req.dir!;
    if (!req.task || tc.id !== req.task) {
      throw new Error("create: the task's config names another id");
    }
    if (first.exit) {
      throw Object.assign(new Error(`the sandbox ${cfg.id} has exited`), { kind: "Conflict" });
    }
    const old = tasks.get(tc.id);
    if (old && (old === first || old.status === "running" || old.status === "paused")) {
      throw Object.assign(new Error(`task ${tc.id} already exists`), { kind: "Conflict" });
    }
    if (old) {
      // left by a start the daemon did not finish (it crashed between create
      // and start): that one goes, its exit recorded before the new one starts
      if (old.status === "created") {
        await old.rt.delete(old.cfg.id, true).catch(() => {/* create retries it and reports */});
      }
      if (old.status !== "new") {
        await Promise.race([old.exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      tasks.delete(tc.id);
      await removeIfExists(`${tdir}/exit.json`);
    }
    const key = runtimeKey(tc);
    let trt = runtimes.get(key);
    if (!trt) runtimes.set(key, trt = await openRuntime(tc, undefined, baseNice));
    const t = new Task(tc, trt, tdir);
    tasks.set(tc.id, t);
    Deno.writeTextFileSync(`${tdir}/shim.pid`, String(Deno.pid));
    t.exited.then(() => setTimeout(check, 0));
    return t;
  };

  /**
   * The daemon expects another task soon (a pod's next container): boot the
   * built-in runtime's init for it now, so that its create takes a warm one
   * (docs/shim.md "Warm shims"). Kept PREWARM_TTL_MS, then let go.
   */
  let prewarms = 0;
  let prewarmTtl: ReturnType<typeof setTimeout> | undefined;
  const dropPrewarmed = () => {
    clearTimeout(prewarmTtl);
    (rt as Partial<BuiltinRuntime>).dropWarmInit?.();
  };
  const prewarm = () => {
    const b = rt as Partial<BuiltinRuntime>;
    if (!b.prewarm || first.exit) return;
    if (!b.hasWarmInit) b.prewarm(`${cfg.socket}.i${++prewarms}`, PREWARM_NICER);
    clearTimeout(prewarmTtl);
    prewarmTtl = setTimeout(dropPrewarmed, PREWARM_TTL_MS);
  };

  let active = 0;
  let replying = 0;
  const idle = Promise.withResolvers<void>();
  /** Done when every task has exited (or was deleted) and nobody is being served. */
  const check = () => {
    if (active || replying) return;
    for (const t of tasks.values()) if (!t.exit) return;
    idle.resolve();
  };
  const createTimer = setTimeout(() => {
    if (first.status === "new") idle.resolve();
  }, CREATE_TIMEOUT_MS);
  const outputChunks = () => {
    let n = 0;
    for (const t of tasks.values()) n += t.outputChunks;
    return n;
  };

  let served = 0, lastSeen = -1;
  let collecting = false;
  const handle = async (conn: Deno.Conn) => {
    active++;
    served++;
    let keep = false;
    try {
      const line = await readLine(conn);
      if (!line) return;
      const req = line.value as ShimRequest;
      const reply = (v: Omit<ShimReply, "ok"> = {}) =>
        writeAll(conn, encodeLine({ ok: true, ...v }));
      try {
        switch (req.op) {
          case "create": {
            if (req.config) {
              const t = await addTask(req);
              try {
                await t.create();
              } catch (e) {
                tasks.delete(t.cfg.id);
                throw e;
              }
              await reply({ pid: t.pid });
              break;
            }
            clearTimeout(createTimer);
            const t = taskOf(req);
            await t.create();
            await reply({ pid: t.pid });
            break;
          }
          case "start": {
            const t = taskOf(req);
            await t.start();
            await reply({ pid: t.pid });
            // Start-up garbage is big next to what a shim needs afterwards:
            // collect it once (gc is exposed by the daemon's V8 flags). Only a
            // "last-resort" GC gives the pages back (≈ 2.4 MB less than a plain
            // major GC), at ≈ 10–20 ms of CPU; a second one later bought nothing.
            setTimeout(() => {
              collect();
              lastSeen = outputChunks() + served;
            }, 100);
            // A chatty container leaves garbage behind: collect now and then,
            // but not in a shim that did nothing since the last time.
            if (!collecting) {
              collecting = true;
              Deno.unrefTimer(setInterval(() => {
                const seen = outputChunks() + served;
                if (seen !== lastSeen) collect();
                lastSeen = seen;
              }, 60_000));
            }
            break;
          }
          case "state":
            await reply(taskOf(req).state() as unknown as Record<string, unknown>);
            break;
          case "kill": {
            const t = taskOf(req);
            if (t.status === "stopped") {
              throw Object.assign(new Error("container is not running"), { kind: "Conflict" });
            }
            // a stop signal pid 1 drops while it is starting is sent again (redeliver.ts)
            const watch = req.signal !== 9 && !req.all && t.pid > 0;
            const before = watch ? disposition(t.pid, req.signal) : null;
            await t.rt.kill(t.cfg.id, req.signal, req.all);
            if (watch && dropped(before, disposition(t.pid, req.signal))) {
              redeliverWhenCaught(
                t.pid,
                req.signal,
                () => t.rt.kill(t.cfg.id, req.signal, false),
                t.exited,
              );
            }
            await reply();
            break;
          }
          case "wait": {
            const t = taskOf(req);
            await reply();
            keep = true;
            replying++;
            t.exited.then(async (info) => {
              await writeAll(conn, encodeLine(info)).catch(peerGone);
              conn.close();
              replying--;
              check();
            });
            break;
          }
          case "attach": {
            const t = taskOf(req);
            await reply();
            keep = true;
            t.attach(conn, line.rest, req);
            break;
          }
          case "resize":
            if (req.exec) {
              const { execMasters } = await import("./exec.ts");
              const m = execMasters.get(req.exec);
              if (m !== undefined) setWinsize(m, req.h, req.w);
            } else taskOf(req).resize(req.h, req.w);
            await reply();
            break;
          case "exec": {
            const t = taskOf(req);
            if (t.status !== "running") {
              throw Object.assign(new Error(`container ${t.cfg.id} is not running`), {
                kind: "Conflict",
              });
            }
            const { runExec } = await import("./exec.ts");
            keep = true;
            active++;
            runExec(t.rt, t.cfg.id, conn, line.rest, req as never).finally(() => {
              active--;
              check();
            });
            break;
          }
          case "pause": {
            const t = taskOf(req);
            await t.rt.pause(t.cfg.id);
            t.status = "paused";
            await reply();
            break;
          }
          case "resume": {
            const t = taskOf(req);
            await t.rt.resume(t.cfg.id);
            t.status = "running";
            await reply();
            break;
          }
          case "reopen-log":
            taskOf(req).reopenLog();
            await reply();
            break;
          case "stats":
            (globalThis as { gc?: () => void }).gc?.();
            await reply({ memory: Deno.memoryUsage(), tasks: tasks.size });
            break;
          case "pids": {
            const t = taskOf(req);
            await reply({ pids: await t.rt.pids(t.cfg.id) });
            break;
          }
          case "delete": {
            // A pod's container goes: killed if it still runs, its exit recorded, forgotten.
            const t = taskOf(req);
            if (t.status !== "new") {
              // SIGKILL to all of it: its exit path deletes the runtime state (a
              // delete from here as well would race that one), and its exit.json
              // is written before the daemon removes the task's dir
              const gone = () =>
                Promise.race([t.exited.then(() => true), delay(10_000).then(() => false)]);
              const exitedMeanwhile = () => {/* the wait below tells */};
              if (t.status === "paused") await t.rt.resume(t.cfg.id).catch(exitedMeanwhile);
              if (t.status !== "stopped") await t.rt.kill(t.cfg.id, 9, true).catch(exitedMeanwhile);
              if (!await gone()) await t.rt.delete(t.cfg.id, true); // SIGKILL did not end it
            }
            tasks.delete(t.cfg.id);
            await reply();
            break;
          }
          case "prewarm": {
            prewarm();
            await reply();
            break;
          }
          case "shutdown": {
            // Tasks the runtime could not delete are left to the daemon (it
            // reaps what is left): the reply says so, and the shim ends.
            const failed: string[] = [];
            for (const t of tasks.values()) {
              if (t.status === "stopped" || t.status === "new") continue;
              await t.rt.delete(t.cfg.id, true).catch((e) => failed.push(`${t.cfg.id}: ${e}`));
            }
            idle.resolve();
            if (failed.length) throw new Error(failed.join("; "));
            await reply();
            break;
          }
          default:
            throw new Error(`unknown op ${(req as { op: string }).op}`);
        }
      } catch (e) {
        await writeAll(conn, encodeLine(errReply(e))).catch(peerGone);
        if (req.op === "create" && !req.config) idle.resolve();
      }
    } catch {
      // a broken connection
    } finally {
      if (!keep) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      active--;
      check();
    }
  };

  (async () => {
    for (;;) handle(await listener.accept());
  })().catch(() => {}); // accept fails once the listener is closed at the end: the loop ends

  first.exited.then(() => setTimeout(check, 0));
  await idle.promise;
  dropPrewarmed(); // killed now; its sync socket is removed below (we exit before discard does)
  listener.close();
  await removeIfExists(sock);
  await removeIfExists(`${dir}/shim.pid`); // a stale one would name a dead shim
  // a warm init no create() took: its sync socket is still there
  if (warmInit) await Deno.remove(warmInit.syncSocket).catch(tempLeftover);
  for (let i = 1; i <= prewarms; i++) await removeIfExists(`${cfg.socket}.i${i}`);
  return 0;
}
