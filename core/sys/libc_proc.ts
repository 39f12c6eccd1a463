/**
 * Wrappers for processes, namespaces, mounts, credentials and terminals on
 * Linux (glibc; x86_64 and aarch64), over the raw system calls of
 * ./libc.ts (the one module that opens libc; see there why everything goes
 * through `syscall(2)`). Re-exports that module's shared calls (mount,
 * umount2, setns, unshare, …) for the many callers that import them from
 * here. Nothing happens at import time. Wrappers throw {@link SysError}.
 * @module
 */

import {
  type Arg,
  AT_FDCWD,
  check,
  close,
  cstr,
  errno,
  NR as N,
  ptr,
  sys,
  SysError,
} from "./libc.ts";

const X86 = Deno.build.arch === "x86_64";
const enc = new TextEncoder();

export {
  type Arg,
  check,
  CLONE_FILES,
  CLONE_FS,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  close,
  cstr,
  errno,
  MNT_DETACH,
  mount,
  MS_BIND,
  MS_DIRSYNC,
  MS_MANDLOCK,
  MS_MOVE,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
  ptr,
  setns,
  sys,
  SysError,
  umount2,
  unshare,
} from "./libc.ts";

/** The calling thread's nice value (on Linux, nice is a per-thread attribute). */
export function threadNice(): number {
  const r = sys(N.getpriority, 0, /* PRIO_PROCESS */ 0 /* this thread */);
  return r > 0 ? 20 - r : 0; // the raw call returns 20 - nice
}

/**
 * Set the calling thread's nice value; threads and processes it creates
 * inherit it. Lowering it needs CAP_SYS_NICE. False when refused.
 */
export function setThreadNice(nice: number): boolean {
  return sys(N.setpriority, 0, 0, clampNice(nice)) === 0;
}

const clampNice = (n: number) => Math.max(-20, Math.min(19, n));

/** Set the nice value of every thread of a process (default: this one; best effort). */
export function setProcessNice(nice: number, pid: number | "self" = "self"): void {
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    sys(N.setpriority, 0, Number(t.name), clampNice(nice));
  }
}

let sysNice: boolean | undefined;
/** May this process lower nice values again (CAP_SYS_NICE in its effective set)? */
export function canRenice(): boolean {
  if (sysNice === undefined) {
    try {
      const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"));
      sysNice = !!m && (BigInt("0x" + m[1]) & (1n << 23n)) !== 0n;
    } catch {
      sysNice = false;
    }
  }
  return sysNice;
}

// ---- process ---------------------------------------------------------------

export const getpid = (): number => sys(N.getpid);
export function kill(pid: number, sig: number): void {
  check(sys(N.kill, pid, sig), "kill", String(pid));
}
/** prctl(2) with numeric args; returns the result. */
export function prctl(op: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  return check(sys(N.prctl, op, a2, a3, a4, a5), `prctl(${op})`);
}
export const PR_SET_PDEATHSIG = 1,
  PR_SET_DUMPABLE = 4,
  PR_SET_KEEPCAPS = 8,
  PR_CAPBSET_READ = 23,
  PR_CAPBSET_DROP = 24,
  PR_SET_CHILD_SUBREAPER = 36,
  PR_SET_NO_NEW_PRIVS = 38,
  PR_CAP_AMBIENT = 47,
  PR_CAP_AMBIENT_RAISE = 2,
  PR_CAP_AMBIENT_CLEAR_ALL = 4;

/** Make this process a child subreaper: orphaned descendants are re-parented to it. */
export function setSubreaper(): void {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

// ---- files -----------------------------------------------------------------

export const O_RDONLY = 0,
  O_WRONLY = 1,
  O_RDWR = 2,
  O_CREAT = 0o100,
  O_NOCTTY = 0o400,
  O_NONBLOCK = 0o4000,
  O_DIRECTORY = X86 ? 0o200000 : 0o40000,
  O_NOFOLLOW = X86 ? 0o400000 : 0o100000,
  O_CLOEXEC = 0o2000000,
  O_PATH = 0o10000000;
export function open(path: string, flags: number, mode = 0): number {
  return check(sys(N.openat, AT_FDCWD, cstr(path), flags, mode), "open", path);
}
export function writeFd(fd: number, data: Uint8Array | string): void {
  const b = typeof data === "string" ? enc.encode(data) : data;
  let off = 0;
  while (off < b.length) {
    const n = sys(N.write, fd, b.subarray(off), b.length - off);
    if (n < 0) {
      const e = errno();
      if (e === 4) continue;
      throw new SysError("write", e);
    }
    off += n;
  }
}
/** Read one "\n"-terminated line from a blocking fd (without the newline). */
export function readLine(fd: number, max = 1 << 24): string {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const buf = new Uint8Array(65536);
    const n = sys(N.read, fd, buf, buf.length);
    if (n < 0) {
      const e = errno();
      if (e === 4) continue;
      throw new SysError("read", e);
    }
    if (n === 0) throw new Error("unexpected end of input");
    const part = buf.subarray(0, n);
    const nl = part.indexOf(10);
    chunks.push(nl >= 0 ? part.subarray(0, nl) : part);
    total += nl >= 0 ? nl : n;
    if (nl >= 0) break;
    if (total > max) throw new Error("line too long");
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const ch of chunks) {
    all.set(ch, off);
    off += ch.length;
  }
  return new TextDecoder().decode(all);
}

export function chdir(path: string): void {
  check(sys(N.chdir, cstr(path)), "chdir", path);
}
export function fchdir(fd: number): void {
  check(sys(N.fchdir, fd), "fchdir");
}
export function chroot(path: string): void {
  check(sys(N.chroot, cstr(path)), "chroot", path);
}
export function makedev(major: number, minor: number): bigint {
  const M = BigInt(major), m = BigInt(minor);
  return ((M & 0xfffff000n) << 32n) | ((M & 0xfffn) << 8n) | ((m & 0xffffff00n) << 12n) |
    (m & 0xffn);
}
export function mknod(path: string, mode: number, dev: bigint): void {
  check(sys(N.mknodat, AT_FDCWD, cstr(path), mode, dev), "mknod", path);
}
export function mkfifo(path: string, mode = 0o600): void {
  mknod(path, 0o010000 | mode, 0n);
}
export function umask(mask: number): number {
  return sys(N.umask, mask);
}
export function dup2(from: number, to: number): void {
  if (from !== to) check(sys(N.dup3, from, to, 0), "dup2");
}
/** Mark every fd >= first close-on-exec (close_range CLOSE_RANGE_CLOEXEC). */
export function cloexecFrom(first: number): void {
  check(sys(N.close_range, first, 0xffffffff, 4), "close_range");
}

/** Close every fd in [first, last] (close_range). */
export function closeRange(first: number, last = 0xffffffff): void {
  if (first <= last) check(sys(N.close_range, first, last, 0), "close_range");
}
/** dup3(from, to, O_CLOEXEC); returns `to`. */
export function dupCloexec(from: number, to: number): number {
  if (from !== to) check(sys(N.dup3, from, to, O_CLOEXEC), "dup3");
  return to;
}
/** fcntl(F_DUPFD_CLOEXEC): a copy of `fd` at the lowest free number >= `min`. */
export function dupAbove(fd: number, min: number): number {
  return check(sys(N.fcntl, fd, 1030, min), "fcntl(F_DUPFD_CLOEXEC)");
}
/** A close-on-exec pipe: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(sys(N.pipe2, new Uint8Array(fds.buffer), O_CLOEXEC), "pipe2");
  return [fds[0], fds[1]];
}
/** read(2) into `buf`; retries EINTR; 0 at EOF. */
export function readFd(fd: number, buf: Uint8Array): number {
  for (;;) {
    const n = sys(N.read, fd, buf, buf.length);
    if (n >= 0) return n;
    const e = errno();
    if (e !== 4) throw new SysError("read", e);
  }
}
/** Blocking waitpid(pid) (wait4); returns the raw wait status. Only for processes that exit soon. */
export function waitpidSync(pid: number): number {
  const st = new Int32Array(1);
  for (;;) {
    const r = sys(N.wait4, pid, new Uint8Array(st.buffer), 0, 0);
    if (r === pid) return st[0];
    if (errno() !== 4) throw new SysError("waitpid", errno(), String(pid));
  }
}

// ---- mounts ----------------------------------------------------------------

export function pivotRoot(newRoot: string, putOld: string): void {
  check(sys(N.pivot_root, cstr(newRoot), cstr(putOld)), "pivot_root", newRoot);
}

// ---- identity, limits, capabilities ------------------------------------------

export function sethostname(name: string): void {
  const b = enc.encode(name);
  check(sys(N.sethostname, b, b.length), "sethostname");
}
export function setdomainname(name: string): void {
  const b = enc.encode(name);
  check(sys(N.setdomainname, b, b.length), "setdomainname");
}
export const RLIM_INFINITY = 0xffffffffffffffffn;
/** prlimit on this process; returns the old [soft, hard]. Pass null to only read. */
export function prlimit(resource: number, limit: [bigint, bigint] | null): [bigint, bigint] {
  const old = new BigUint64Array(2);
  const nu = limit ? new BigUint64Array(limit) : null;
  check(
    sys(
      N.prlimit64,
      0,
      resource,
      nu ? new Uint8Array(nu.buffer) : null,
      new Uint8Array(old.buffer),
    ),
    "prlimit",
  );
  return [old[0], old[1]];
}
/** Capability sets as bigint masks (bit N = capability N). */
export interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}
const CAP_V3 = 0x20080522;
export function capget(): CapSets {
  const hdr = new Uint32Array([CAP_V3, 0]);
  const d = new Uint32Array(6);
  check(sys(N.capget, new Uint8Array(hdr.buffer), new Uint8Array(d.buffer)), "capget");
  const join = (lo: number, hi: number) => (BigInt(hi) << 32n) | BigInt(lo);
  return {
    effective: join(d[0], d[3]),
    permitted: join(d[1], d[4]),
    inheritable: join(d[2], d[5]),
  };
}
export function capset(c: CapSets): void {
  const hdr = new Uint32Array([CAP_V3, 0]);
  const lo = (v: bigint) => Number(v & 0xffffffffn), hi = (v: bigint) => Number(v >> 32n);
  const d = new Uint32Array([
    lo(c.effective),
    lo(c.permitted),
    lo(c.inheritable),
    hi(c.effective),
    hi(c.permitted),
    hi(c.inheritable),
  ]);
  check(sys(N.capset, new Uint8Array(hdr.buffer), new Uint8Array(d.buffer)), "capset");
}
// raw syscalls change only the calling thread's credentials: that is the
// thread that execs, and the exec'd image inherits them.
export function setgroups(gids: number[]): void {
  const g = new Uint32Array(gids.length || 1);
  g.set(gids);
  check(sys(N.setgroups, gids.length, new Uint8Array(g.buffer)), "setgroups");
}
export function setresgid(gid: number): void {
  check(sys(N.setresgid, gid, gid, gid), "setgid", String(gid));
}
export function setresuid(uid: number): void {
  check(sys(N.setresuid, uid, uid, uid), "setuid", String(uid));
}

// ---- sessions, terminals, signals, exec --------------------------------------

export const TIOCSCTTY = 0x540e,
  TIOCSWINSZ = 0x5414,
  TIOCGWINSZ = 0x5413,
  TIOCSPTLCK = 0x40045431,
  TIOCGPTN = 0x80045430;
export function ioctl(fd: number, req: number, arg: Arg): number {
  return check(sys(N.ioctl, fd, req, arg), `ioctl(0x${req.toString(16)})`);
}
export function setsid(): void {
  check(sys(N.setsid), "setsid");
}
/** Make `fd` (a tty) the controlling terminal of this session. */
export function setControllingTty(fd: number): void {
  ioctl(fd, TIOCSCTTY, 0);
}
/** Set a terminal's window size (on the pty master or slave). */
export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  ioctl(fd, TIOCSWINSZ, new Uint8Array(ws.buffer));
}
/** Open /dev/ptmx (or `ptmx`), unlock it; returns the master fd and the slave's path. */
export function openPtmx(ptmx = "/dev/ptmx"): { master: number; slavePath: string } {
  const master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
  try {
    const n = new Uint32Array(1);
    ioctl(master, TIOCSPTLCK, new Uint8Array(n.buffer));
    ioctl(master, TIOCGPTN, new Uint8Array(n.buffer));
    const dir = ptmx.slice(0, ptmx.lastIndexOf("/"));
    const pts = dir.endsWith("/pts") ? dir : `${dir}/pts`;
    return { master, slavePath: `${pts}/${n[0]}` };
  } catch (e) {
    close(master);
    throw e;
  }
}

/** Reset every signal disposition to default and unblock all signals (before execve). */
export function resetSignals(): void {
  const act = new Uint8Array(32); // handler SIG_DFL, no flags, empty mask
  for (let s = 1; s < 65; s++) {
    if (s === 9 || s === 19) continue; // raw syscall: 32, 33 (glibc-internal) too
    sys(N.rt_sigaction, s, act, null, 8);
  }
  sys(N.rt_sigprocmask, 2, /* SIG_SETMASK */ new Uint8Array(8), null, 8);
}

/** execve(2). Only returns by throwing. */
export function execve(path: string, argv: string[], env: string[]): never {
  const keep: Uint8Array[] = [];
  const vec = (list: string[]) => {
    const v = new BigUint64Array(list.length + 1);
    list.forEach((s, i) => {
      const b = cstr(s);
      keep.push(b);
      v[i] = ptr(b);
    });
    return new Uint8Array(v.buffer);
  };
  const av = vec(argv), ev = vec(env), p = cstr(path);
  sys(N.execve, p, av, ev);
  const e = errno();
  void keep;
  throw new SysError("execve", e, path);
}

/** Leave at once with `code`, without running Deno's shutdown. */
export function exitNow(code: number): never {
  sys(N.exit_group, code);
  throw new Error("unreachable");
}

// ---- unix sockets (synchronous, for init) -------------------------------------

const SOCK_STREAM = 1, SOCK_CLOEXEC = 0o2000000;
function sockaddr(path: string): Uint8Array {
  const p = cstr(path);
  if (p.length > 108) throw new SysError("socket", 36, path);
  const sa = new Uint8Array(110);
  sa[0] = 1; // AF_UNIX
  sa.set(p, 2);
  return sa;
}
/** socket + connect to a unix stream socket; returns the fd (close-on-exec). */
export function connectUnix(path: string): number {
  const s = check(sys(N.socket, 1, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
  try {
    check(sys(N.connect, s, sockaddr(path), 110), "connect", path);
    return s;
  } catch (e) {
    close(s);
    throw e;
  }
}
/** socket + bind + listen on a unix stream socket path; returns the fd. */
export function listenUnix(path: string): number {
  const s = check(sys(N.socket, 1, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
  try {
    check(sys(N.bind, s, sockaddr(path), 110), "bind", path);
    check(sys(N.listen, s, 4), "listen");
    return s;
  } catch (e) {
    close(s);
    throw e;
  }
}
/** Send `fd` with SCM_RIGHTS on a connected unix socket (runc console-socket protocol). */
export function sendFd(sock: number, fd: number, name = "/dev/ptmx"): void {
  const data = enc.encode(name);
  const iov = new BigUint64Array([ptr(data), BigInt(data.length)]);
  const ctl = new Uint8Array(24);
  const cv = new DataView(ctl.buffer);
  cv.setBigUint64(0, 20n, true); // cmsg_len = CMSG_LEN(4)
  cv.setInt32(8, 1, true); // SOL_SOCKET
  cv.setInt32(12, 1, true); // SCM_RIGHTS
  cv.setInt32(16, fd, true);
  const iovb = new Uint8Array(iov.buffer);
  const msg = new BigUint64Array([0n, 0n, ptr(iovb), 1n, ptr(ctl), 24n, 0n]);
  check(sys(N.sendmsg, sock, new Uint8Array(msg.buffer), 0), "sendmsg");
}
