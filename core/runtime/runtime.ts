/**
 * The OCI runtime interface berth drives containers through. It has the shape
 * of the OCI runtime CLI (create / start / state / kill / pause / resume /
 * exec / delete), so berth's built-in runtime ({@link BuiltinRuntime} in
 * builtin.ts) and runc/crun ({@link ExternalRuntime} in external.ts) are
 * interchangeable.
 *
 * Who is the parent, who reaps:
 * - The caller (the shim) should be a child subreaper
 *   (`prctl(PR_SET_CHILD_SUBREAPER)`, see core/sys/libc_proc.ts `setSubreaper()`).
 * - `create()` and `exec()` return a {@link CreatedProcess} whose `status`
 *   promise resolves with the exit status of the container's init (resp. the
 *   exec'd process). Each implementation arranges the reaping itself: the
 *   built-in runtime's init (and exec helper) is the caller's direct child
 *   (`unshare` execs it without forking; the pid namespace is entered with
 *   FFI), so Deno's own child status is exact; the external runtime waits for
 *   the (re-parented) init with `waitpid` via FFI, which only works when the
 *   caller is a subreaper. Never `waitpid(-1)` in the caller: it would steal
 *   the children Deno itself waits for.
 * - State lives on disk (under the runtime's `root`), not in memory: any
 *   process (shim, daemon after a restart) can call state/kill/pause/delete on
 *   a container another process created, exactly like the runc CLI.
 *
 * @example
 * ```ts
 * import { BuiltinRuntime } from "./builtin.ts";
 * const rt = new BuiltinRuntime({ root: "/run/berth/runtime" }); // or new ExternalRuntime({name: "runc", root})
 * // bundle/config.json was written by core/oci/runtime_spec.ts; its root.path
 * // (the rootfs) is already mounted (overlayfs) by the caller.
 * const p = await rt.create("c1", "/run/berth/shims/c1/bundle", {
 *   stdio: { kind: "pipes" },
 * });                                  // namespaces + mounts done; user process not yet exec'd
 * p.stdin?.close();
 * p.stdout?.pipeTo(logSink("stdout"));
 * await rt.start("c1");               // execve(2) of process.args happens now
 * const { code, signal } = await p.status;   // 128+N and signal=N when killed
 * const st = await rt.state("c1");    // { status: "stopped", oomKilled, … }
 * await rt.delete("c1");              // cgroup + state dir gone
 * ```
 * @module
 */

import type { OciProcess } from "../oci/runtime_types.ts";

/** How fds 0, 1, 2 of the container process are provided. */
export type RuntimeStdio =
  /** pipes owned by the caller: CreatedProcess.stdin/stdout/stderr.
   * `stdin: false` gives the process /dev/null as stdin instead. */
  | { kind: "pipes"; stdin?: boolean }
  /** /dev/null for all three */
  | { kind: "null" }
  /**
   * A terminal. Either the caller allocated the pty and passes the slave
   * path (`ttyPath`, e.g. /dev/pts/3 of the host devpts; built-in runtime
   * only): init opens it, makes it the controlling tty (setsid+TIOCSCTTY),
   * dup2's it onto 0,1,2 and bind-mounts it on /dev/console.
   * Or `ttyPath` is omitted: the runtime allocates the pty itself (runc:
   * `--console-socket`) and hands the master fd back in
   * `CreatedProcess.ptyMaster` (the caller owns and must close it).
   * process.terminal in config.json must be true in both cases.
   */
  | { kind: "tty"; ttyPath?: string };

/** Exit status of a process. Killed by signal N: `code` = 128+N, `signal` = N. */
export interface ExitStatus {
  code: number;
  signal?: number;
}

/** A process started by create() or exec(). */
export interface CreatedProcess {
  /** host pid of the container's init (pid 1 inside) or of the exec'd process */
  pid: number;
  /** present with stdio kind "pipes" (stdin only when not disabled) */
  stdin?: WritableStream<Uint8Array>;
  stdout?: ReadableStream<Uint8Array>;
  stderr?: ReadableStream<Uint8Array>;
  /** stdio kind "tty" without ttyPath: raw fd of the pty master (caller owns it) */
  ptyMaster?: number;
  /** resolves when the process has exited (it is reaped by then) */
  status: Promise<ExitStatus>;
  /** non-fatal problems met while setting up (e.g. an rlimit clamped) */
  warnings?: string[];
}

export type RuntimeStatus = "creating" | "created" | "running" | "stopped" | "paused";

export interface RuntimeState {
  id: string;
  status: RuntimeStatus;
  /** host pid of init; 0 when unknown */
  pid: number;
  bundle: string;
  /** true when the kernel OOM-killed a process in the container's memory cgroup */
  oomKilled: boolean;
}

export interface CreateOptions {
  stdio: RuntimeStdio;
  /** also write the init's host pid to this file */
  pidFile?: string;
  /** chroot (after MS_MOVE) instead of pivot_root, for rootfs on ramfs */
  noPivot?: boolean;
}

/** What {@link OciRuntime.run} gives the process: pipes (no stdin) or /dev/null. */
export interface RunOptions {
  stdio: { kind: "pipes"; stdin: false } | { kind: "null" };
}

/** A container run in the foreground by {@link OciRuntime.run}. */
export interface ForegroundProcess {
  /** present with stdio kind "pipes" */
  stdout?: ReadableStream<Uint8Array>;
  stderr?: ReadableStream<Uint8Array>;
  /** resolves once the container's init has exited and the container is forgotten */
  status: Promise<ExitStatus>;
}

export interface ExecOptions {
  stdio: RuntimeStdio;
  pidFile?: string;
}

/** Errors thrown by create/start/exec carry a Docker-style exit code class. */
export class RuntimeError extends Error {
  /** 127: command not found; 126: cannot be invoked; 125: anything else */
  readonly exitCode: number;
  constructor(message: string, exitCode = 125) {
    super(message);
    this.name = "RuntimeError";
    this.exitCode = exitCode;
  }
}

export interface OciRuntime {
  /** "berth" for the built-in runtime, else the external runtime's name ("runc", "crun") */
  readonly name: string;
  /**
   * Create the container from `bundle`/config.json: namespaces, mounts,
   * cgroups, everything up to (not including) the user process's execve;
   * the init then waits for start(). The command is already resolved in the
   * container's PATH: a missing command rejects here with a RuntimeError whose
   * exitCode is 127 (126 for permission denied), and nothing is left behind.
   */
  create(id: string, bundle: string, opts: CreateOptions): Promise<CreatedProcess>;
  /** Let the created init execve the user process. */
  start(id: string): Promise<void>;
  /** NotFound (core/errdefs) when the runtime does not know `id`. */
  state(id: string): Promise<RuntimeState>;
  /** Signal init (or, with `all`, every process in the container's cgroup). */
  kill(id: string, signal: number, all?: boolean): Promise<void>;
  /** Freeze / thaw every process of the container (freezer cgroup). */
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Host pids of all processes in the container (for `top`). */
  pids(id: string): Promise<number[]>;
  /**
   * Run another process in the container's namespaces and cgroup (like
   * `runc exec`). The process starts right away (no separate start step).
   */
  exec(id: string, process: OciProcess, opts: ExecOptions): Promise<CreatedProcess>;
  /**
   * Create, start and wait for the container, then forget it (as delete):
   * `runc run` in the foreground, for build steps. Unlike create(), the
   * caller need not be a subreaper. kill(id, …) reaches it until `status`
   * resolves. A process that cannot start rejects as create() does (the
   * built-in runtime), or shows as the runtime's message on stderr and its
   * exit status (an external one, as `runc run` reports it).
   */
  run(id: string, bundle: string, opts: RunOptions): Promise<ForegroundProcess>;
  /**
   * Forget the container: remove its cgroups and state. The rootfs mount
   * (root.path) belongs to the caller and is not touched. Rejects with
   * Conflict while it runs unless `force` (then SIGKILL first).
   */
  delete(id: string, force?: boolean): Promise<void>;
}
