/**
 * The exec helper (`berth init exec <sock>`) and the joined-pid-namespace
 * start of a container: the helper itself stays in the HOST's pid namespace,
 * where no container process can see it, while it still holds host things
 * (the host's mount namespace and root, Deno's threads and fds, its
 * environment). Only on its exec thread, once that thread is in the
 * container's mount namespace and root, with a private fd table holding just
 * fds 0-2 and the sync socket, with the container's credentials and seccomp
 * filter, does it `setns(CLONE_NEWPID)` (which only affects children) and
 * fork the process (fork_exec.ts, no JavaScript in the child). That child is
 * the first thing of this exec a container process can see. Then the helper
 * reports the child's host pid and exits; the child is re-parented to the
 * caller, which must be a subreaper (it is: the shim), and reaps it.
 *
 * Order and why (see docs/runtime.md "exec"):
 *   open ns fds, /proc/<pid>/root, console socket   host paths: only reachable now
 *   join the cgroups                                the child inherits them
 *   unshare(CLONE_FS); setns ipc/uts/net/cgroup/mnt this thread only; mnt last
 *   chroot to the container's root                  (runc's root after pivot_root)
 *   pty from the container's devpts if asked        the master goes to the caller
 *   rlimits, PATH lookup
 *   unshare(CLONE_FILES); 0-2, pipes, sync    Deno's fds are gone from this table
 *   setns(CLONE_NEWPID)                             children only; needs CAP_SYS_ADMIN
 *   seccomp, capabilities, ids, cwd, signals        finalizeAndExec, on this thread
 *   fork: close the helper's fds, setsid, TIOCSCTTY, [wait for start], execve   the child
 * @module
 */

import type { OciProcess } from "../oci/runtime_types.ts";
import type { InitConfig, InitMessage } from "./init_config.ts";
import * as c from "../sys/libc_proc.ts";
import { forkExec, prepareForkExec } from "../sys/fork_exec.ts";
import { applyRlimits, ExecError, finalizeAndExec, lastCap, lookPath } from "./init_process.ts";

export const NS_FLAGS: Record<string, number> = {
  ipc: c.CLONE_NEWIPC,
  uts: c.CLONE_NEWUTS,
  net: c.CLONE_NEWNET,
  cgroup: c.CLONE_NEWCGROUP,
  mnt: c.CLONE_NEWNS,
  pid: c.CLONE_NEWPID,
};

/** The sync socket, as a mutable cell: the fd number changes when the table is rebuilt. */
export interface Sync {
  fd: number;
}

/** Open the namespace files to join (their paths are host paths). */
export function openNs(joins: { type: string; path: string }[] = []): [number, number][] {
  return joins.map((ns) => {
    const flag = NS_FLAGS[ns.type];
    if (!flag) throw new Error(`cannot join a ${ns.type} namespace`);
    return [c.open(ns.path, c.O_RDONLY | c.O_CLOEXEC), flag];
  });
}

/** After pivot_root/chroot: allocate a pty in the container's devpts and send the master. */
export function ptyFromContainer(consoleSock: number, bindOnConsole: boolean): number {
  const { master, slavePath } = c.openPtmx("/dev/ptmx");
  const fd = c.open(slavePath, c.O_RDWR | c.O_NOCTTY | c.O_CLOEXEC);
  if (bindOnConsole) {
    try {
      Deno.lstatSync("/dev/console");
    } catch {
      Deno.writeFileSync("/dev/console", new Uint8Array());
    }
    c.mount(slavePath, "/dev/console", null, c.MS_BIND);
  }
  c.sendFd(consoleSock, master);
  c.close(master);
  c.close(consoleSock);
  return fd;
}

export interface ForkOptions {
  /** the pty slave to put on 0-2 (and make the controlling terminal) */
  ttyFd?: number;
  /** the pid namespace to fork into (an open ns fd) */
  pidNs?: number;
  sync: Sync;
  seccomp: InitConfig["seccomp"];
  /**
   * create mode: fork now, report `{pid}` and `{ok}`, and let the child
   * execve only when the caller sends "start" on the sync socket
   */
  gate?: boolean;
}

/**
 * The last step of exec mode (and of create with a joined pid namespace).
 * This thread gets a private fd table (unshare(CLONE_FILES)) holding 0-2
 * (the tty on all three when there is one), then the fds the child keeps,
 * then the helper's own (sync socket, pid ns, pipe ends), which the child
 * closes first thing; the pipes are made after the unshare so no other
 * thread holds their ends. Then: setns(CLONE_NEWPID) (children only), the
 * process's identity on this thread (finalizeAndExec), and the fork. Reports
 * on the sync socket and exits.
 */
export function forkInPidNs(p: OciProcess, path: string, o: ForkOptions): never {
  prepareForkExec();
  c.unshare(c.CLONE_FILES);
  if (o.ttyFd !== undefined) {
    for (const fd of [0, 1, 2]) c.dup2(o.ttyFd, fd);
  }
  const [errR0, errW0] = c.pipe();
  const [gateR0, gateW0] = o.gate ? c.pipe() : [-1, -1];
  const childFds = o.gate ? [errW0, gateR0] : [errW0];
  const own = [
    o.sync.fd,
    errR0,
    ...(o.gate ? [gateW0] : []),
    ...(o.pidNs !== undefined ? [o.pidNs] : []),
  ];
  const all = [...childFds, ...own].map((fd) => c.dupAbove(fd, 1 << 12));
  const n = all.map((fd, i) => c.dupCloexec(fd, 3 + i));
  c.closeRange(3 + n.length);
  const [errW, gateR] = [n[0], o.gate ? n[1] : -1];
  const closeFrom = 3 + childFds.length;
  const [sync, errR, gateW] = [n[closeFrom - 3], n[closeFrom - 2], o.gate ? n[closeFrom - 1] : -1];
  o.sync.fd = sync;
  const send = (m: InitMessage) => c.writeFd(sync, JSON.stringify(m) + "\n");
  if (o.pidNs !== undefined) {
    const ns = n[n.length - 1];
    c.setns(ns, c.CLONE_NEWPID);
    c.close(ns);
  }
  const launch = (file: string, argv: string[], env: string[]): never => {
    const child = forkExec({
      path: file,
      argv,
      env,
      errFd: errW,
      ctty: o.ttyFd !== undefined,
      closeFrom,
      waitFd: o.gate ? gateR : undefined,
    });
    c.close(errW);
    if (o.gate) {
      c.close(gateR);
      send({ pid: child });
      send({ ok: true });
      // start(): the caller says so on the sync socket (EOF: it went away, and so does the child)
      if (c.readLine(sync) !== "start") throw new Error("unexpected message from the runtime");
      c.writeFd(gateW, "1");
      c.close(gateW);
    }
    const b = new Uint8Array(8);
    if (c.readFd(errR, b) > 0) {
      const [errno, step] = new Int32Array(b.buffer);
      c.waitpidSync(child);
      const what = step === 1 ? "setting the controlling terminal" : `exec: "${argv[0]}"`;
      const e = new c.SysError(what, errno);
      throw new ExecError(e.message, step === 2 && errno === 2 ? 127 : 126);
    }
    if (!o.gate) send({ pid: child });
    send({ ok: true });
    c.exitNow(0);
  };
  finalizeAndExec(p, path, { lastCap: lastCap(), warn: () => {}, seccomp: o.seccomp, launch });
}

/** `init exec`: run cfg.process in the running container cfg.targetPid. */
export function execMode(cfg: InitConfig, sync: Sync, warn: (m: string) => void): never {
  const p: OciProcess = cfg.process!;
  const pid = cfg.targetPid!;
  let ttyFd = cfg.ttyPath ? c.open(cfg.ttyPath, c.O_RDWR | c.O_NOCTTY | c.O_CLOEXEC) : undefined;
  const consoleSock = cfg.consoleSocket ? c.connectUnix(cfg.consoleSocket) : -1;
  const joins = openNs(cfg.joinNs);
  const pidNs = cfg.joinPidNs ? c.open(cfg.joinPidNs, c.O_RDONLY | c.O_CLOEXEC) : undefined;
  const root = c.open(`/proc/${pid}/root`, c.O_PATH | c.O_DIRECTORY | c.O_CLOEXEC);
  for (const f of cfg.cgroupProcs) Deno.writeTextFileSync(f, "0");
  c.unshare(c.CLONE_FS);
  for (const [fd, flag] of joins) {
    c.setns(fd, flag);
    c.close(fd);
  }
  c.fchdir(root);
  c.chroot(".");
  c.close(root);
  c.chdir("/");
  if (consoleSock >= 0) ttyFd = ptyFromContainer(consoleSock, false);
  if (ttyFd !== undefined && p.consoleSize) {
    c.setWinsize(ttyFd, p.consoleSize.height, p.consoleSize.width);
  }
  applyRlimits(p, warn);
  const path = lookPath(p.args?.[0] ?? "", p.env, p.cwd || "/");
  forkInPidNs(p, path, { ttyFd, pidNs, sync, seccomp: cfg.seccomp });
}
