/**
 * The container as the shim sees it: created through the OCI runtime, its
 * stdio (pipes, or a pty whose master the shim holds), its output going to
 * the json-file log and to attached streams, its exit recorded to exit.json
 * (atomically) before anyone is told.
 * @module
 */
import type { CreatedProcess, OciRuntime, RuntimeStdio } from "../runtime/runtime.ts";
import type { ExitInfo, ShimConfig, ShimState, ShimStatus } from "./protocol.ts";
import { rfc3339Nano } from "./protocol.ts";
import { JsonLogWriter } from "./jsonlog.ts";
import { Attached, feedStdin, Output, pumpFd, pumpStream, Stdin } from "./io.ts";
import { fdClose, setWinsize } from "./sys_linux.ts";
import { isKind, messageOf } from "../errdefs/mod.ts";

/** How long output may keep flowing after the init died (leaked fds). */
const DRAIN_TIMEOUT_MS = 2000;
/** The pause before the runtime's delete is tried a second time. */
const DELETE_RETRY_MS = 200;

/** exit.json, atomically and durably (temp, fsync, rename), with sync APIs. */
function writeExitFile(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  try {
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    try {
      f.writeSync(new TextEncoder().encode(text));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch { /* the daemon falls back to "shim gone" */ }
}

export class Task {
  readonly cfg: ShimConfig;
  readonly rt: OciRuntime;
  readonly dir: string;
  status: ShimStatus | "new" = "new";
  pid = 0;
  startedAt?: string;
  exit?: ExitInfo;
  #proc?: CreatedProcess;
  #master = -1;
  #stdin = new Stdin(undefined);
  #output!: Output;

  /** A number that changes whenever the container writes output. */
  get outputChunks(): number {
    return this.#output?.chunks ?? 0;
  }
  #log?: JsonLogWriter;
  #pumps: Promise<void>[] = [];
  #exited = Promise.withResolvers<ExitInfo>();

  constructor(cfg: ShimConfig, rt: OciRuntime, dir: string) {
    this.cfg = cfg;
    this.rt = rt;
    this.dir = dir;
  }

  /** Resolves once the exit is recorded in exit.json. */
  get exited(): Promise<ExitInfo> {
    return this.#exited.promise;
  }

  get master(): number {
    return this.#master;
  }

  state(): ShimState {
    return {
      id: this.cfg.id,
      status: this.status === "new" ? "created" : this.status,
      pid: this.pid,
      shimPid: Deno.pid,
      startedAt: this.startedAt,
      exit: this.exit,
    };
  }

  async create(): Promise<void> {
    const c = this.cfg;
    if (c.logPath) {
      this.#log = await JsonLogWriter.open(c.logPath, {
        maxSize: c.logMaxSize,
        maxFile: c.logMaxFile,
        format: c.logFormat,
      });
    }
    const logs = this.#log
      ? { stdout: this.#log.stream("stdout"), stderr: this.#log.stream("stderr") }
      : {};
    this.#output = new Output(c.tty, logs);
    let stdio: RuntimeStdio;
    if (c.tty) {
      // both runtimes open the pty in the container's own devpts and hand
      // the master back (console socket): `tty` says /dev/pts/0, as with runc
      stdio = { kind: "tty" };
    } else {
      stdio = { kind: "pipes", stdin: c.openStdin };
    }
    let proc: CreatedProcess;
    try {
      const opts = { stdio, pidFile: `${this.dir}/init.pid` };
      try {
        proc = await this.rt.create(c.id, c.bundle, opts);
      } catch (e) {
        // Left over by a start that a daemon crash interrupted: clear and retry once.
        if (!/already exists/.test((e as Error)?.message ?? "")) throw e;
        await this.rt.delete(c.id, true).catch(() => {}); // still there: the create below says so
        proc = await this.rt.create(c.id, c.bundle, opts);
      }
    } catch (e) {
      if (this.#master >= 0) fdClose(this.#master);
      this.#master = -1;
      await this.#log?.close();
      throw e;
    }
    this.#proc = proc;
    this.pid = proc.pid;
    this.status = "created";
    if (c.tty) {
      if (proc.ptyMaster !== undefined) {
        this.#master = proc.ptyMaster;
        if (c.consoleSize) setWinsize(this.#master, c.consoleSize[0], c.consoleSize[1]);
      }
      this.#pumps.push(pumpFd(this.#master, this.#output));
      this.#stdin = new Stdin(c.openStdin ? this.#master : undefined);
    } else {
      if (proc.stdout) this.#pumps.push(pumpStream(proc.stdout, 1, this.#output));
      if (proc.stderr) this.#pumps.push(pumpStream(proc.stderr, 2, this.#output));
      this.#stdin = new Stdin(proc.stdin);
    }
    proc.status.then(
      (st) => this.#onExit(st.code, st.signal),
      (e) => this.#onExit(255, undefined, String(e)),
    );
  }

  async start(): Promise<void> {
    if (this.status !== "created") throw new Error(`container is ${this.status}`);
    await this.rt.start(this.cfg.id);
    this.startedAt = rfc3339Nano();
    if (this.status === "created") this.status = "running";
  }

  /** Hook up an attached connection (before or after start). */
  attach(
    conn: Deno.Conn,
    rest: Uint8Array,
    o: { stdin?: boolean; stdout?: boolean; stderr?: boolean },
  ) {
    const a = new Attached(conn, o.stdout ?? true, o.stderr ?? true);
    if (this.exit) {
      a.kill();
      return;
    }
    this.#output.attached.add(a);
    if (o.stdin && this.cfg.openStdin) {
      feedStdin(conn, rest, this.#stdin).then(() => {
        if (this.cfg.stdinOnce) this.#stdin.close();
      });
    }
  }

  /** The log file again by its path (kubelet renamed the old one). */
  reopenLog(): void {
    if (!this.#log) throw new Error("the container has no log");
    this.#log.reopen();
  }

  resize(h: number, w: number): void {
    if (this.#master >= 0) setWinsize(this.#master, h, w);
  }

  /**
   * The runtime forgets the exited container (state, cgroup). A failure is
   * retried once after a pause (a cgroup can be busy for a moment after its
   * last process died); a second one is returned for exit.json, where the
   * daemon reads it, logs it and deletes what is left itself (the shim has
   * no log of its own: its stdio is /dev/null).
   */
  async #deleteRuntime(): Promise<string | undefined> {
    for (let attempt = 1;; attempt++) {
      try {
        await this.rt.delete(this.cfg.id, true);
        return undefined;
      } catch (e) {
        if (isKind(e, "NotFound")) return undefined; // forgotten already: what delete wanted
        if (attempt === 2) return `${this.cfg.runtime.name} delete: ${messageOf(e)}`;
        await new Promise((r) => setTimeout(r, DELETE_RETRY_MS));
      }
    }
  }

  async #onExit(code: number, signal?: number, error?: string): Promise<void> {
    this.status = "stopped";
    const exitedAt = rfc3339Nano();
    this.#stdin.close();
    await Promise.race([
      Promise.all(this.#pumps),
      new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS)),
    ]);
    let oomKilled = false;
    try {
      oomKilled = (await this.rt.state(this.cfg.id)).oomKilled;
    } catch { /* already gone */ }
    const cleanupError = await this.#deleteRuntime();
    await this.#output.end();
    await this.#log?.close();
    if (this.#master >= 0) fdClose(this.#master);
    this.#master = -1;
    const info: ExitInfo = { exitCode: code, exitedAt, oomKilled };
    if (signal) info.signal = signal;
    if (oomKilled && !signal) info.exitCode = code;
    if (error) info.error = error;
    if (cleanupError) info.cleanupError = cleanupError;
    writeExitFile(`${this.dir}/exit.json`, JSON.stringify(info));
    this.exit = info;
    this.#exited.resolve(info);
  }
}
