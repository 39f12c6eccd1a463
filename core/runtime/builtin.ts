/**
 * berth's built-in OCI runtime, caller side. create() prepares the cgroup and
 * spawns `unshare --mount [--uts --ipc --net] -- berth init create <dir>` as
 * pid 1 of a new pid namespace (see spawnInPidNs), whose own code
 * (init_main.ts) does the mounts, pivot_root and the rest, reports on a sync
 * socket, and waits on `<dir>/exec.fifo` for start(). The caller is init's
 * parent, so CreatedProcess.status is the container's real exit status.
 * State is on disk under `root`, like runc's.
 * @module
 */

import type { OciProcess, OciSpec } from "../oci/runtime_types.ts";
import type { InitConfig, InitMessage } from "./init_config.ts";
import type {
  CreatedProcess,
  CreateOptions,
  ExecOptions,
  ForegroundProcess,
  OciRuntime,
  RunOptions,
  RuntimeState,
  RuntimeStdio,
} from "./runtime.ts";
import { RuntimeError } from "./runtime.ts";
import { Cgroup } from "./cgroups.ts";
import { exitStatus, isAlive, procStat, spawnInPidNs, waitGone } from "./proc.ts";
import type { PidNsMode } from "./proc.ts";
import { Conflict, InvalidArgument, NotFound } from "../errdefs/mod.ts";
import { bundleUnit, isCompiled, selfPrefix } from "../sys/self.ts";
import * as c from "../sys/libc_proc.ts";
import { FdReceiver, waitpidAsync } from "../sys/libc_pty.ts";
import { discardWarmInit, prewarmInit, type WarmInit, warmJoins } from "./warm_init.ts";
import { prepareSeccomp, savedSeccomp } from "./seccomp_prepare.ts";
import { nsId } from "../oci/sysctl.ts";
import { handledElsewhere, keepFirstError, peerGone, tempLeftover } from "../errdefs/ignore.ts";

interface SavedState {
  id: string;
  pid: number;
  startTime: number;
  bundle: string;
  rootfs: string;
  cgroupsPath: string;
  namespaces: { type: string; path?: string }[];
  created: string;
}

export interface BuiltinRuntimeOptions {
  /** state directory root (default /run/berth/runtime) */
  root?: string;
  /** argv prefix that starts berth; init runs as `<berthArgv> init …` */
  berthArgv?: string[];
  /** argv prefix that starts the init personality (default: see defaultInitArgv) */
  initArgv?: string[];
  /** a pre-booted init (warm_init.ts) that the next create() may use */
  warmInit?: WarmInit;
  /** the nice value a container gets when the warm init was booted at another one */
  warmInitNice?: number;
}

/**
 * How to start init: from a checkout (`deno run`), its own entry file
 * (init_entry.ts: no personality dispatch, ~5 ms less); the single file, its
 * extracted init chunk (tools/bundle.ts); compiled, `berth init`.
 */
export function defaultInitArgv(): string[] {
  const pre = selfPrefix();
  const unit = bundleUnit("core/runtime/init_entry.js");
  if (unit) {
    return [pre[0], "run", "-A", "--quiet", "--no-prompt", "--no-check", "--no-config", unit];
  }
  if (!isCompiled() && import.meta.url.startsWith("file:")) {
    const entry = new URL("./init_entry.ts", import.meta.url);
    try {
      Deno.statSync(entry);
      const path = decodeURIComponent(entry.pathname);
      return [pre[0], "run", "-A", "--quiet", "--no-prompt", "--no-check", path];
    } catch { /* bundled: no separate file */ }
  }
  return [...pre, "init"];
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const NS_NAME: Record<string, string> = {
  network: "net",
  mount: "mnt",
  ipc: "ipc",
  uts: "uts",
  cgroup: "cgroup",
};

export class BuiltinRuntime implements OciRuntime {
  readonly name = "berth";
  readonly root: string;
  readonly #argv: string[];
  /** exit promises of the inits this instance created (lets start() skip a watchdog timer) */
  readonly #exits = new Map<string, Promise<unknown>>();
  /** sync connections of created containers whose init waits there for start() */
  readonly #gates = new Map<string, Deno.Conn>();
  #warm?: WarmInit;
  #warmNice?: number;
  /** how many creates used a warm init (for tests and diagnostics) */
  warmInitsUsed = 0;

  constructor(o: BuiltinRuntimeOptions = {}) {
    this.root = o.root ?? "/run/berth/runtime";
    this.#argv = o.initArgv ?? (o.berthArgv ? [...o.berthArgv, "init"] : defaultInitArgv());
    this.#warm = o.warmInit;
    this.#warmNice = o.warmInitNice;
  }

  /** Give the next create() a pre-booted init (warm_init.ts); a previous one is let go. */
  offerWarmInit(w: WarmInit): void {
    if (this.#warm) discardWarmInit(this.#warm);
    this.#warm = w;
  }

  /**
   * Boot the next create()'s init now, waiting on `syncSocket` (a path the
   * caller owns): its Deno start-up then overlaps the caller's own set-up.
   */
  prewarm(syncSocket: string, nicer = 0): void {
    // nice is per thread and inherited at fork: lower ours around the spawn;
    // the init is put back at our nice when a create takes it (#takeWarm)
    const base = c.threadNice();
    const niced = nicer > 0 && c.canRenice() && c.setThreadNice(base + nicer);
    try {
      this.offerWarmInit(prewarmInit(this.#argv, syncSocket));
    } finally {
      if (niced) {
        c.setThreadNice(base);
        this.#warmNice ??= base;
      }
    }
  }

  /** Is a warm init waiting for the next create()? */
  get hasWarmInit(): boolean {
    return !!this.#warm && !this.#warm.exited;
  }

  /** Let an offered warm init that no create() took go. */
  dropWarmInit(): void {
    if (this.#warm) discardWarmInit(this.#warm);
    this.#warm = undefined;
  }

  /** The warm init, if it can serve `spec` (taken: later creates spawn their own). */
  #takeWarm(spec: OciSpec): { warm: WarmInit; joins: { type: string; path: string }[] } | null {
    const warm = this.#warm;
    if (!warm) return null;
    this.#warm = undefined;
    const joins = warm.exited ? null : warmJoins(spec);
    if (!joins) {
      discardWarmInit(warm);
      return null;
    }
    this.warmInitsUsed++;
    // It booted at a low priority; the container's start waits on it from now on.
    // (Renice it before it gets its config, or that wakes a thread at nice 10.)
    if (this.#warmNice !== undefined) {
      try {
        c.setProcessNice(this.#warmNice, warm.child.pid);
      } catch { /* gone: create() will say so */ }
    }
    return { warm, joins };
  }

  #dir(id: string): string {
    if (!ID_RE.test(id)) throw new InvalidArgument(`invalid container id ${JSON.stringify(id)}`);
    return `${this.root}/${id}`;
  }

  #load(id: string): SavedState {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.#dir(id)}/state.json`));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new NotFound(`container ${id} does not exist`);
      throw e;
    }
  }

  async create(id: string, bundle: string, opts: CreateOptions): Promise<CreatedProcess> {
    const dir = this.#dir(id);
    Deno.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      Deno.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new Conflict(`container ${id} already exists`);
      }
      throw e;
    }
    let cg: Cgroup | undefined;
    let child: Deno.ChildProcess | undefined;
    try {
      bundle = Deno.realPathSync(bundle);
      const spec: OciSpec = JSON.parse(Deno.readTextFileSync(`${bundle}/config.json`));
      const rootfs = spec.root.path.startsWith("/")
        ? spec.root.path
        : `${bundle}/${spec.root.path}`;
      const nss = spec.linux?.namespaces ?? [];
      const has = (t: string) => nss.find((n) => n.type === t);
      cg = new Cgroup(spec.linux?.cgroupsPath ?? `/berth/${id}`);
      // propagation left as it is (unshare(1) would make it all private): init sets "/" to the
      // spec's rootfsPropagation (rslave by default), as runc and the warm path do
      const unshareArgs = ["--mount", "--propagation", "unchanged"];
      if (has("uts") && !has("uts")!.path) unshareArgs.push("--uts");
      if (has("ipc") && !has("ipc")!.path) unshareArgs.push("--ipc");
      if (has("network") && !has("network")!.path) unshareArgs.push("--net");
      let pidns: PidNsMode = !has("pid")
        ? { kind: "host" }
        : has("pid")!.path
        ? { kind: "join", path: has("pid")!.path! }
        : { kind: "new" };
      // a joined pid namespace: init stays in the host's and forks the process into it at
      // the end (init_exec.ts), so the other container never sees init holding host things
      let joinPidNs: string | undefined;
      if (pidns.kind === "join" && procfsHasPidns()) {
        joinPidNs = pidns.path;
        pidns = { kind: "host" };
      }
      let warnings: string[] = [];
      const w = this.#takeWarm(spec);
      // the cgroup is made while init's runtime boots; init waits for its config
      const prepare = (): InitConfig => {
        warnings = cg!.create(spec.linux?.resources);
        c.mkfifo(`${dir}/exec.fifo`, 0o600);
        return {
          mode: "create",
          syncSocket: "",
          bundle,
          rootfs: Deno.realPathSync(rootfs),
          execFifo: `${dir}/exec.fifo`,
          cgroupProcs: cg!.procsFiles(),
          cgroupMounts: cg!.mounts(),
          cgroupLinks: cg!.layout.links,
          newCgroupNs: !!has("cgroup") && !has("cgroup")!.path,
          noPivot: opts.noPivot,
          joinPidNs,
          seccomp: prepareSeccomp(spec, {
            bundle,
            stateDir: dir,
            cacheDir: `${this.root}/.seccomp`,
          }),
          hostNs: { net: nsId("net"), ipc: nsId("ipc"), uts: nsId("uts") },
          joinNs: [
            ...(w?.joins ?? []),
            ...nss.filter((n) => n.path && NS_NAME[n.type] && n.type !== "mount")
              .map((n) => ({ type: NS_NAME[n.type], path: n.path! })),
          ],
        };
      };
      const run = await this.#spawn(
        dir,
        opts.stdio,
        prepare,
        (o, sock) =>
          spawnInPidNs("unshare", {
            ...o,
            args: [...unshareArgs, "--", ...this.#argv, "create", sock],
            // the forked process shows init's environment until it execs
            ...(joinPidNs ? { clearEnv: true, env: helperEnv() } : {}),
          }, pidns),
        "init",
        w?.warm,
      );
      child = run.child;
      if (run.gate) this.#gates.set(id, run.gate);
      const saved: SavedState = {
        id,
        pid: run.pid,
        startTime: procStat(run.pid)?.startTime ?? 0,
        bundle,
        rootfs: run.cfg.rootfs,
        cgroupsPath: cg.path,
        namespaces: nss,
        created: new Date().toISOString(),
      };
      writeAtomic(`${dir}/state.json`, JSON.stringify(saved));
      this.#exits.set(id, run.proc.status);
      if (opts.pidFile) writeAtomic(opts.pidFile, String(run.pid));
      return { ...run.proc, warnings: [...warnings, ...run.warnings] };
    } catch (e) {
      if (child) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
      }
      await cg?.remove().catch(keepFirstError);
      await Deno.remove(dir, { recursive: true }).catch(keepFirstError);
      throw e;
    }
  }

  /**
   * Spawn init (create or exec mode) and run the sync-socket handshake: init
   * connects, receives its InitConfig as one JSON line (prepared by
   * `prepare` while init starts up), and reports back.
   */
  async #spawn(
    dir: string,
    stdio: RuntimeStdio,
    prepare: () => InitConfig,
    spawn: (o: Deno.CommandOptions, syncSocket: string) => Deno.ChildProcess,
    prefix = "init",
    warm?: WarmInit,
  ): Promise<
    {
      child: Deno.ChildProcess;
      pid: number;
      proc: CreatedProcess;
      warnings: string[];
      cfg: InitConfig;
      /** create with a joined pid ns: the sync connection start() sends "start" on */
      gate?: Deno.Conn;
    }
  > {
    const tmpDirs: string[] = [];
    const syncSocket = warm?.syncSocket ?? socketPath(dir, `${prefix}.sock`, tmpDirs);
    const listener = warm?.listener ?? Deno.listen({ transport: "unix", path: syncSocket });
    let receiver: FdReceiver | undefined;
    const pipes = stdio.kind === "pipes";
    const wantStdin = pipes && stdio.stdin !== false;
    let child: Deno.ChildProcess | undefined;
    try {
      child = warm?.child ?? spawn({
        stdin: wantStdin ? "piped" : "null",
        stdout: pipes ? "piped" : "null",
        stderr: pipes ? "piped" : "null",
      }, syncSocket);
      const status = warm?.status ?? child.status.then(exitStatus);
      const cfg = prepare();
      cfg.syncSocket = syncSocket;
      if (warm) {
        // a warm init was spawned with every stream piped: give back what is not wanted
        cfg.nullStdio = [!wantStdin, !pipes, !pipes];
        cfg.unshareMount = true;
        cfg.nice = this.#warmNice;
        if (!wantStdin) child.stdin.close().catch(peerGone);
        if (!pipes) {
          child.stdout.cancel().catch(peerGone);
          child.stderr.cancel().catch(peerGone);
        }
      }
      if (stdio.kind === "tty") {
        if (stdio.ttyPath) cfg.ttyPath = stdio.ttyPath;
        else {
          receiver = new FdReceiver(
            cfg.consoleSocket = socketPath(dir, `${prefix}-console.sock`, tmpDirs),
          );
        }
      }
      const conn = await Promise.race([listener.accept(), status.then(() => null)]);
      if (!conn) throw new RuntimeError(`init exited (${(await status).code}) before it started`);
      await writeAll(conn, new TextEncoder().encode(JSON.stringify(cfg) + "\n"));
      const ptyMaster = receiver ? receiver.receive() : undefined;
      ptyMaster?.catch(handledElsewhere);
      let pid = 0, ok = false;
      const warnings: string[] = [];
      // plain reads, not a stream pipeline: this runs in every shim, and each
      // Web API touched costs a shim CPU and memory for its code
      const dec = new TextDecoder();
      const chunk = new Uint8Array(4096);
      let buf = "";
      try {
        while (!ok) {
          const n = await conn.read(chunk);
          if (n === null) break;
          buf += dec.decode(chunk.subarray(0, n), { stream: true });
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const m: InitMessage = JSON.parse(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
            if ("pid" in m) pid = m.pid;
            else if ("warn" in m) warnings.push(m.warn);
            else if ("error" in m) throw new RuntimeError(m.error, m.exitCode);
            else if ("ok" in m) ok = true;
          }
        }
      } finally {
        if (!ok || cfg.mode !== "create" || !cfg.joinPidNs) {
          try {
            conn.close();
          } catch { /* closed */ }
        }
      }
      const gate = cfg.mode === "create" && cfg.joinPidNs ? conn : undefined;
      if (!ok) throw new RuntimeError(`init exited (${(await status).code}) during set-up`);
      // a process forked by the helper (init_exec.ts) is re-parented to us when the helper exits
      const forked = cfg.mode === "exec" || !!cfg.joinPidNs;
      const proc: CreatedProcess = {
        pid: pid || child.pid,
        stdin: pipes && stdio.stdin !== false ? child.stdin : undefined,
        stdout: pipes ? child.stdout : undefined,
        stderr: pipes ? child.stderr : undefined,
        ptyMaster: ptyMaster ? await ptyMaster : undefined,
        status: forked ? status.then(() => waitpidAsync(pid)) : status,
      };
      return { child, pid: proc.pid, proc, warnings, cfg, gate };
    } catch (e) {
      if (child) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
        if (pipes) {
          await child.stdout.cancel().catch(peerGone);
          await child.stderr.cancel().catch(peerGone);
        }
      }
      throw e;
    } finally {
      listener.close();
      receiver?.close();
      await Deno.remove(syncSocket).catch(tempLeftover);
      for (const t of tmpDirs) await Deno.remove(t, { recursive: true }).catch(tempLeftover);
    }
  }

  async start(id: string): Promise<void> {
    const gate = this.#gates.get(id);
    if (gate) return await this.#startForked(id, gate);
    const st = this.#load(id);
    const fifo = `${this.#dir(id)}/exec.fifo`;
    try {
      Deno.lstatSync(fifo);
    } catch {
      throw new Conflict(`container ${id} is not in created state`);
    }
    if (!isAlive(st.pid, st.startTime)) throw new Conflict(`container ${id} has stopped`);
    // If init dies before opening its end, open the writer side to unblock our
    // open(). We watch its exit promise when we created it, else poll (the first
    // timer of a Deno process costs ~3 ms, so not on the common path).
    const unblock = () => {
      try {
        c.close(c.open(fifo, c.O_WRONLY | c.O_NONBLOCK | c.O_CLOEXEC));
      } catch { /* reader not there yet */ }
    };
    let done = false;
    const exit = this.#exits.get(id);
    const timer = exit ? undefined : setInterval(() => {
      if (!isAlive(st.pid, st.startTime)) unblock();
    }, 20);
    exit?.then(() => !done && unblock());
    let text = "";
    try {
      const f = await Deno.open(fifo, { read: true });
      try {
        const dec = new TextDecoder();
        const b = new Uint8Array(1024);
        for (let n; (n = await f.read(b)) !== null;) {
          text += dec.decode(b.subarray(0, n), { stream: true });
        }
      } finally {
        f.close();
      }
    } finally {
      done = true;
      clearInterval(timer);
    }
    await Deno.remove(fifo).catch(tempLeftover);
    const nl = text.indexOf("\n");
    if (nl >= 0) {
      const m = JSON.parse(text.slice(nl + 1));
      throw new RuntimeError(m.error, m.exitCode);
    }
    if (text !== "0") throw new RuntimeError(`container ${id} exited before it started`);
  }

  /** start() of a create with a joined pid namespace: init waits on its sync connection. */
  async #startForked(id: string, conn: Deno.Conn): Promise<void> {
    this.#gates.delete(id);
    const dec = new TextDecoder();
    let buf = "";
    try {
      await writeAll(conn, new TextEncoder().encode("start\n"));
      const chunk = new Uint8Array(4096);
      while (!buf.includes("\n")) {
        const n = await conn.read(chunk);
        if (n === null) break;
        buf += dec.decode(chunk.subarray(0, n), { stream: true });
      }
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await Deno.remove(`${this.#dir(id)}/exec.fifo`).catch(tempLeftover);
    const line = buf.slice(0, buf.indexOf("\n"));
    const m: InitMessage | undefined = line ? JSON.parse(line) : undefined;
    if (m && "error" in m) throw new RuntimeError(m.error, m.exitCode);
    if (!m || !("ok" in m)) throw new RuntimeError(`container ${id} exited before it started`);
  }

  state(id: string): Promise<RuntimeState> {
    return promised(() => this.#state(id));
  }

  #state(id: string): RuntimeState {
    const st = this.#load(id);
    const cg = new Cgroup(st.cgroupsPath);
    let status: RuntimeState["status"] = "running";
    if (!isAlive(st.pid, st.startTime)) status = "stopped";
    else if (exists(`${this.#dir(id)}/exec.fifo`)) status = "created";
    else if (cg.frozen()) status = "paused";
    return { id, status, pid: st.pid, bundle: st.bundle, oomKilled: cg.oomKilled() };
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    const st = this.#load(id);
    const cg = new Cgroup(st.cgroupsPath);
    if (all) {
      for (const pid of cg.pids()) {
        try {
          c.kill(pid, signal);
        } catch { /* exited meanwhile */ }
      }
    } else {
      if (!isAlive(st.pid, st.startTime)) throw new Conflict(`container ${id} is not running`);
      c.kill(st.pid, signal);
    }
    // a frozen task only dies once thawed (runc does the same)
    if (signal === 9 && cg.frozen()) await cg.freeze(false);
  }

  async pause(id: string): Promise<void> {
    const st = this.#load(id);
    if (!isAlive(st.pid, st.startTime)) throw new Conflict(`container ${id} is not running`);
    await new Cgroup(st.cgroupsPath).freeze(true);
  }

  async resume(id: string): Promise<void> {
    const st = this.#load(id);
    await new Cgroup(st.cgroupsPath).freeze(false);
  }

  pids(id: string): Promise<number[]> {
    return promised(() => new Cgroup(this.#load(id).cgroupsPath).pids());
  }

  async exec(id: string, process: OciProcess, opts: ExecOptions): Promise<CreatedProcess> {
    const st = this.#load(id);
    if (!isAlive(st.pid, st.startTime)) throw new Conflict(`container ${id} is not running`);
    const cg = new Cgroup(st.cgroupsPath);
    if (cg.frozen()) {
      throw new Conflict(`container ${id} is paused, unpause the container before exec`);
    }
    const nss = st.namespaces.filter((n) => NS_NAME[n.type]);
    // mnt last: after it, host paths are out of reach
    nss.sort((a, b) => (a.type === "mount" ? 1 : 0) - (b.type === "mount" ? 1 : 0));
    const prepare = (): InitConfig => ({
      mode: "exec",
      syncSocket: "",
      bundle: st.bundle,
      process,
      rootfs: st.rootfs,
      cgroupProcs: cg.procsFiles(),
      cgroupMounts: [],
      cgroupLinks: [],
      newCgroupNs: false,
      targetPid: st.pid,
      joinPidNs: st.namespaces.some((n) => n.type === "pid") ? `/proc/${st.pid}/ns/pid` : undefined,
      seccomp: savedSeccomp(this.#dir(id)),
      joinNs: nss.map((n) => ({
        type: NS_NAME[n.type],
        path: `/proc/${st.pid}/ns/${NS_NAME[n.type]}`,
      })),
    });
    const [cmd, ...pre] = this.#argv;
    // the helper stays in the host's pid namespace; only the process it forks
    // once it holds nothing of the host enters the container's (init_exec.ts)
    const run = await this.#spawn(
      this.#dir(id),
      opts.stdio,
      prepare,
      (o, sock) =>
        new Deno.Command(cmd, {
          ...o,
          args: [...pre, "exec", sock],
          clearEnv: true,
          env: helperEnv(),
        })
          .spawn(),
      `exec-${crypto.randomUUID().slice(0, 8)}`,
    );
    if (opts.pidFile) writeAtomic(opts.pidFile, String(run.pid));
    return { ...run.proc, warnings: run.warnings };
  }

  /**
   * create + start, and delete once init exited (init is the caller's child:
   * no subreaper needed). init is spawned before create's first await, so a
   * caller's descriptor hygiene right before the call (close_range) holds.
   */
  async run(id: string, bundle: string, opts: RunOptions): Promise<ForegroundProcess> {
    const p = await this.create(id, bundle, { stdio: opts.stdio });
    try {
      await this.start(id);
    } catch (e) {
      await p.stdout?.cancel().catch(peerGone);
      await p.stderr?.cancel().catch(peerGone);
      await this.delete(id, true).catch(keepFirstError);
      throw e;
    }
    return {
      stdout: p.stdout,
      stderr: p.stderr,
      status: p.status.then(async (st) => {
        await this.delete(id, true);
        return st;
      }),
    };
  }

  async delete(id: string, force = false): Promise<void> {
    const st = this.#load(id);
    const cg = new Cgroup(st.cgroupsPath);
    if (isAlive(st.pid, st.startTime)) {
      if (!force) throw new Conflict(`container ${id} is running: stop it first or use force`);
    }
    const pids = cg.pids();
    if (isAlive(st.pid, st.startTime)) pids.push(st.pid);
    if (pids.length) {
      for (const pid of pids) {
        try {
          c.kill(pid, 9);
        } catch { /* gone */ }
      }
      // still frozen, the processes do not die: waitGone below reports that
      if (cg.frozen()) await cg.freeze(false).catch(() => {});
      await waitGone(st.pid, st.startTime, 5000);
    }
    await cg.remove();
    await Deno.remove(this.#dir(id), { recursive: true });
    this.#exits.delete(id);
    try {
      this.#gates.get(id)?.close();
    } catch { /* closed */ }
    this.#gates.delete(id);
  }
}

/**
 * Can procfs be mounted for another pid namespace (`pidns=`, Linux ≥ 6.15)?
 * Without it, init joins a pid namespace at spawn as before (runc's way).
 */
function procfsHasPidns(): boolean {
  const m = /^(\d+)\.(\d+)/.exec(Deno.osRelease());
  return !!m && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 15));
}

/**
 * The environment of an exec helper: what Deno needs, nothing else of the
 * caller's (a forked child shows its parent's environment until it execs).
 */
function helperEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (/^(PATH|HOME|TMPDIR|XDG_CACHE_HOME|NO_COLOR|LD_LIBRARY_PATH)$|^DENO_/.test(k)) env[k] = v;
  }
  return env;
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
}

/** `<dir>/<name>`, or a short temporary path when that exceeds sun_path (108 bytes). */
function socketPath(dir: string, name: string, tmpDirs: string[]): string {
  const p = `${dir}/${name}`;
  if (new TextEncoder().encode(p).length < 100) return p;
  const t = Deno.makeTempDirSync({ prefix: "berth-rt-" });
  tmpDirs.push(t);
  return `${t}/${name}`;
}

/** Run a synchronous function, turning a throw into a rejection. */
function promised<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

function exists(p: string): boolean {
  try {
    Deno.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  Deno.writeTextFileSync(tmp, data);
  Deno.renameSync(tmp, path);
}
