/**
 * The `init` personality: berth's built-in runtime inside the container.
 *
 *   berth init create <sock>  started by BuiltinRuntime.create() as pid 1 of a new pid
 *                             namespace, under `unshare --mount --uts --ipc --net`
 *   berth init exec <sock>    started by BuiltinRuntime.exec() inside the container's
 *                             pid namespace; joins the other namespaces itself
 *
 * init connects to the caller's unix socket `<sock>` and reads its InitConfig
 * (one JSON line). Progress and errors go back as JSON lines on the same
 * socket; after "ok", create mode waits for start()
 * on the exec fifo, then execve(2)s the user process (which stays pid 1).
 * The import graph is kept tiny on purpose: it is paid for every container.
 * @module
 */

import type { OciSpec } from "../oci/runtime_types.ts";
import type { InitConfig, InitMessage } from "./init_config.ts";
import * as c from "../sys/libc_proc.ts";
import {
  bindConsole,
  enterRootfs,
  finishRootfs,
  prepareRootfs,
  refuseHostSysctls,
} from "./init_rootfs.ts";
import { applyRlimits, ExecError, finalizeAndExec, lastCap, lookPath } from "./init_process.ts";
import { execMode, forkInPidNs, openNs, ptyFromContainer, type Sync } from "./init_exec.ts";

export function main(args: string[]): Promise<number> {
  const [mode, sock] = args;
  if ((mode !== "create" && mode !== "exec") || !sock) {
    console.error("usage: berth init create|exec <socket>  (internal)");
    return Promise.resolve(2);
  }
  const sync: Sync = { fd: -1 };
  const send = (m: InitMessage) => c.writeFd(sync.fd, JSON.stringify(m) + "\n");
  const warn = (w: string) => send({ warn: w });
  try {
    // first: no ptrace-level access (/proc/<pid>/root, mem, fds) without CAP_SYS_PTRACE
    c.prctl(c.PR_SET_DUMPABLE, 0);
    sync.fd = c.connectUnix(sock);
    const cfg: InitConfig = JSON.parse(c.readLine(sync.fd));
    if (mode === "exec") return execMode(cfg, sync, warn);
    // our pid in the host's procfs (still mounted at /proc here)
    send({ pid: Number(Deno.readLinkSync("/proc/self")) });
    return create(cfg, sync, send, warn);
  } catch (e) {
    const exitCode = e instanceof ExecError ? e.exitCode : 1;
    const msg = e instanceof Error ? e.message : String(e);
    if (sync.fd >= 0) send({ error: msg, exitCode });
    else console.error(`berth init: ${msg}`);
    c.exitNow(exitCode);
  }
}

function openTty(cfg: InitConfig): number | undefined {
  if (!cfg.ttyPath) return undefined;
  return c.open(cfg.ttyPath, c.O_RDWR | c.O_NOCTTY | c.O_CLOEXEC);
}

function create(
  cfg: InitConfig,
  sync: Sync,
  send: (m: InitMessage) => void,
  warn: (m: string) => void,
): never {
  const spec: OciSpec = JSON.parse(Deno.readTextFileSync(`${cfg.bundle}/config.json`));
  const p = spec.process;
  const maxCap = lastCap();
  // a warm init booted at a lower priority; from here on the container's start waits on us
  // (nice is per thread: this one is the one that execs)
  if (cfg.nice !== undefined) c.setThreadNice(cfg.nice);
  // on this thread only (it gets its own fs_struct): it is the one that execs
  if (cfg.unshareMount) c.unshare(c.CLONE_NEWNS);
  for (const [fd, flag] of openNs(cfg.joinNs)) {
    c.setns(fd, flag); // e.g. a network namespace path (only this thread execs)
    c.close(fd);
  }
  refuseHostSysctls(spec, cfg.hostNs); // before anything is mounted; /proc is the host's
  // a joined pid namespace: init stays in the host's, where the container's processes cannot
  // see it; /proc shows the joined one, and the process is forked into it (init_exec.ts)
  const pidNs = cfg.joinPidNs ? c.open(cfg.joinPidNs, c.O_RDONLY | c.O_CLOEXEC) : undefined;
  prepareRootfs(spec, { ...cfg, warn, procPidNs: cfg.joinPidNs });
  if (cfg.ttyPath) bindConsole(cfg.rootfs, cfg.ttyPath);
  let ttyFd = openTty(cfg);
  const consoleSock = cfg.consoleSocket ? c.connectUnix(cfg.consoleSocket) : -1;
  const fifo = pidNs === undefined ? c.open(cfg.execFifo!, c.O_PATH | c.O_CLOEXEC) : -1;
  // cgroup.procs of the host, reachable only before pivot_root
  const procs = cfg.cgroupProcs.map((f) => c.open(f, c.O_WRONLY | c.O_CLOEXEC));
  enterRootfs(cfg.rootfs, !!cfg.noPivot);
  if (consoleSock >= 0) ttyFd = ptyFromContainer(consoleSock, true);
  finishRootfs(spec, warn);
  // the container's own /dev/null, as Docker shows it
  const devNull = cfg.nullStdio?.some(Boolean) ? c.open("/dev/null", c.O_RDWR | c.O_CLOEXEC) : -1;
  applyRlimits(p, warn);
  const cwd = p.cwd || "/";
  try {
    Deno.mkdirSync(cwd, { recursive: true, mode: 0o755 });
  } catch { /* read-only root or exists */ }
  const path = lookPath(p.args?.[0] ?? "", p.env, cwd);
  for (const fd of procs) {
    c.writeFd(fd, "0");
    c.close(fd);
  }
  if (cfg.newCgroupNs) c.unshare(c.CLONE_NEWCGROUP);
  if (pidNs !== undefined) {
    forkInPidNs(p, path, { ttyFd, pidNs, sync, seccomp: cfg.seccomp, gate: true });
  }
  send({ ok: true });
  // wait for start(): opening the fifo for writing blocks until it is opened for reading
  const gate = c.open(`/proc/self/fd/${fifo}`, c.O_WRONLY | c.O_CLOEXEC);
  c.close(fifo);
  c.writeFd(gate, "0");
  if (devNull >= 0) {
    cfg.nullStdio!.forEach((on, fd) => on && c.dup2(devNull, fd));
    c.close(devNull);
  }
  try {
    finalizeAndExec(p, path, { ttyFd, lastCap: maxCap, warn: () => {}, seccomp: cfg.seccomp });
  } catch (e) {
    const exitCode = e instanceof ExecError ? e.exitCode : 1;
    c.writeFd(gate, "\n" + JSON.stringify({ error: (e as Error).message, exitCode }));
    c.exitNow(exitCode);
  }
}
