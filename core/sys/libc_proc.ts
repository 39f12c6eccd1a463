/**
 * FFI bindings for processes, namespaces, mounts, credentials and terminals
 * on Linux (glibc; x86_64 and aarch64).
 *
 * Startup cost matters here (the `init` personality pays it per container):
 * binding a libc symbol in Deno costs 40–130 µs, so every system call goes
 * through ONE symbol, glibc's `syscall(2)`, with pointers passed as integers.
 * That binds in ~0.1 ms instead of ~4.5 ms for named wrappers. Blocking calls
 * for long-lived callers (`waitpidAsync`, …) are in a second, lazily opened
 * group. Nothing happens at import time. Wrappers throw {@link SysError}.
 * @module
 */

let core:
  | Deno.DynamicLibrary<{
    syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"]; result: "i64" };
    __errno_location: { parameters: []; result: "pointer" };
  }>["symbols"]
  | undefined;

function lib() {
  if (!core) {
    core = Deno.dlopen("libc.so.6", {
      syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
      __errno_location: { parameters: [], result: "pointer" },
    }).symbols;
  }
  return core;
}

const X86 = Deno.build.arch === "x86_64";
/** syscall numbers: [x86_64, aarch64] */
const N = {
  read: X86 ? 0 : 63,
  write: X86 ? 1 : 64,
  close: X86 ? 3 : 57,
  ioctl: X86 ? 16 : 29,
  rt_sigaction: X86 ? 13 : 134,
  rt_sigprocmask: X86 ? 14 : 135,
  getpid: X86 ? 39 : 172,
  getpriority: X86 ? 140 : 141,
  setpriority: X86 ? 141 : 140,
  socket: X86 ? 41 : 198,
  connect: X86 ? 42 : 203,
  sendmsg: X86 ? 46 : 211,
  bind: X86 ? 49 : 200,
  listen: X86 ? 50 : 201,
  execve: X86 ? 59 : 221,
  kill: X86 ? 62 : 129,
  chdir: X86 ? 80 : 49,
  fchdir: X86 ? 81 : 50,
  umask: X86 ? 95 : 166,
  setsid: X86 ? 112 : 157,
  setgroups: X86 ? 116 : 159,
  setresuid: X86 ? 117 : 147,
  setresgid: X86 ? 119 : 149,
  capget: X86 ? 125 : 90,
  capset: X86 ? 126 : 91,
  pivot_root: X86 ? 155 : 41,
  prctl: X86 ? 157 : 167,
  chroot: X86 ? 161 : 51,
  mount: X86 ? 165 : 40,
  umount2: X86 ? 166 : 39,
  sethostname: X86 ? 170 : 161,
  setdomainname: X86 ? 171 : 162,
  openat: X86 ? 257 : 56,
  mknodat: X86 ? 259 : 33,
  unshare: X86 ? 272 : 97,
  dup3: X86 ? 292 : 24,
  prlimit64: X86 ? 302 : 261,
  setns: X86 ? 308 : 268,
  close_range: 436,
  pipe2: X86 ? 293 : 59,
  wait4: X86 ? 61 : 260,
  fcntl: X86 ? 72 : 25,
} as const;

type Arg = number | bigint | Uint8Array | null | undefined;
const AT_FDCWD = -100;

/** Pointer value of a buffer (the buffer must stay referenced during the call). */
export function ptr(b: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}
function a(x: Arg): bigint {
  if (x === null || x === undefined) return 0n;
  if (typeof x === "bigint") return x;
  if (typeof x === "number") return BigInt(x);
  return ptr(x);
}

/** Raw system call; returns the result (-1 on failure, see errno()). */
export function sys(nr: number, ...args: Arg[]): number {
  return Number(
    lib().syscall(
      BigInt(nr),
      a(args[0]),
      a(args[1]),
      a(args[2]),
      a(args[3]),
      a(args[4]),
      a(args[5]),
    ),
  );
}

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

/** errno of the last failed call on this thread. */
export function errno(): number {
  const p = lib().__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

const ERRNO: Record<number, [string, string]> = {
  1: ["EPERM", "operation not permitted"],
  2: ["ENOENT", "no such file or directory"],
  3: ["ESRCH", "no such process"],
  4: ["EINTR", "interrupted system call"],
  5: ["EIO", "input/output error"],
  7: ["E2BIG", "argument list too long"],
  8: ["ENOEXEC", "exec format error"],
  9: ["EBADF", "bad file descriptor"],
  10: ["ECHILD", "no child processes"],
  11: ["EAGAIN", "resource temporarily unavailable"],
  12: ["ENOMEM", "cannot allocate memory"],
  13: ["EACCES", "permission denied"],
  14: ["EFAULT", "bad address"],
  16: ["EBUSY", "device or resource busy"],
  17: ["EEXIST", "file exists"],
  18: ["EXDEV", "invalid cross-device link"],
  19: ["ENODEV", "no such device"],
  20: ["ENOTDIR", "not a directory"],
  21: ["EISDIR", "is a directory"],
  22: ["EINVAL", "invalid argument"],
  24: ["EMFILE", "too many open files"],
  25: ["ENOTTY", "inappropriate ioctl for device"],
  26: ["ETXTBSY", "text file busy"],
  28: ["ENOSPC", "no space left on device"],
  30: ["EROFS", "read-only file system"],
  36: ["ENAMETOOLONG", "file name too long"],
  38: ["ENOSYS", "function not implemented"],
  40: ["ELOOP", "too many levels of symbolic links"],
  95: ["EOPNOTSUPP", "operation not supported"],
  111: ["ECONNREFUSED", "connection refused"],
};

/** A failed system call. `code` is the errno name ("ENOENT"), `errno` the number. */
export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(op: string, e: number, what?: string) {
    super(`${op}${what ? " " + what : ""}: ${ERRNO[e]?.[1] ?? `errno ${e}`}`);
    this.name = "SysError";
    this.errno = e;
    this.code = ERRNO[e]?.[0] ?? `E${e}`;
  }
}

/** Throw SysError when `r` is negative. */
export function check(r: number, op: string, what?: string): number {
  if (r < 0) throw new SysError(op, errno(), what);
  return r;
}

const enc = new TextEncoder();
/** NUL-terminated copy of a string, for FFI. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(enc.encode(s).length + 1);
  enc.encodeInto(s, b);
  return b;
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

export const CLONE_NEWNS = 0x00020000,
  CLONE_NEWCGROUP = 0x02000000,
  CLONE_NEWUTS = 0x04000000,
  CLONE_NEWIPC = 0x08000000,
  CLONE_NEWUSER = 0x10000000,
  CLONE_NEWPID = 0x20000000,
  CLONE_NEWNET = 0x40000000,
  CLONE_FS = 0x00000200,
  CLONE_FILES = 0x00000400;
export function unshare(flags: number): void {
  check(sys(N.unshare, flags), "unshare");
}
export function setns(fd: number, nstype: number): void {
  check(sys(N.setns, fd, nstype), "setns");
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
export function close(fd: number): void {
  sys(N.close, fd);
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

export const MS_RDONLY = 1,
  MS_NOSUID = 2,
  MS_NODEV = 4,
  MS_NOEXEC = 8,
  MS_SYNCHRONOUS = 16,
  MS_REMOUNT = 32,
  MS_MANDLOCK = 64,
  MS_DIRSYNC = 128,
  MS_NOSYMFOLLOW = 256,
  MS_NOATIME = 1024,
  MS_NODIRATIME = 2048,
  MS_BIND = 4096,
  MS_MOVE = 8192,
  MS_REC = 16384,
  MS_SILENT = 32768,
  MS_UNBINDABLE = 1 << 17,
  MS_PRIVATE = 1 << 18,
  MS_SLAVE = 1 << 19,
  MS_SHARED = 1 << 20,
  MS_RELATIME = 1 << 21,
  MS_STRICTATIME = 1 << 24;
export const MNT_DETACH = 2;

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const r = sys(
    N.mount,
    source === null ? null : cstr(source),
    cstr(target),
    fstype === null ? null : cstr(fstype),
    flags,
    data === null || data === "" ? null : cstr(data),
  );
  check(r, "mount", `${source ?? ""} on ${target}`);
}
export function umount2(target: string, flags = 0): void {
  check(sys(N.umount2, cstr(target), flags), "umount", target);
}
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
  sys(X86 ? 231 : 94, /* exit_group */ code);
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
