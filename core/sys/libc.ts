/**
 * The one place berth opens libc (glibc; x86_64 and aarch64). Every other
 * module that needs a system call goes through this one: `sys` (on the
 * calling thread), `sysAsync` (on a worker thread, for calls that block),
 * the syscall numbers {@link NR}, errno and {@link SysError}, and the calls
 * several places need (mount, umount2, setns, unshare) bound once here.
 *
 * Start-up cost matters (the `init` personality pays it per container, the
 * shim once per container): binding a libc symbol in Deno costs about
 * 0.1 ms, so system calls go through glibc's `syscall(2)`, with pointers
 * passed as integers, and the library is opened with four symbols, lazily,
 * on the first call. Nothing happens at import time.
 *
 * errno is thread-local: a failed `sysAsync` call returns -1 without it.
 *
 * @example
 * ```ts ignore
 * import { CLONE_NEWNET, NR, setns, sys } from "./libc.ts";
 * setns(fd, CLONE_NEWNET);
 * sys(NR.close, fd);
 * ```
 * @module
 */

const I64 = ["i64", "i64", "i64", "i64", "i64", "i64", "i64"] as const;
const SYMBOLS = {
  syscall: { parameters: I64, result: "i64" },
  // the same function run on Deno's blocking pool: the event loop never waits on it
  syscall_nb: { name: "syscall", parameters: I64, result: "i64", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;
function libc() {
  return lib ??= Deno.dlopen("libc.so.6", SYMBOLS).symbols;
}

const X86 = Deno.build.arch === "x86_64";
/** System call numbers (x86_64 or aarch64, whichever this is). */
export const NR = {
  read: X86 ? 0 : 63,
  write: X86 ? 1 : 64,
  close: X86 ? 3 : 57,
  ioctl: X86 ? 16 : 29,
  rt_sigaction: X86 ? 13 : 134,
  rt_sigprocmask: X86 ? 14 : 135,
  madvise: X86 ? 28 : 233,
  getpid: X86 ? 39 : 172,
  getpriority: X86 ? 140 : 141,
  setpriority: X86 ? 141 : 140,
  socket: X86 ? 41 : 198,
  connect: X86 ? 42 : 203,
  accept4: X86 ? 288 : 242,
  sendto: X86 ? 44 : 206,
  shutdown: X86 ? 48 : 210,
  recvfrom: X86 ? 45 : 207,
  sendmsg: X86 ? 46 : 211,
  recvmsg: X86 ? 47 : 212,
  bind: X86 ? 49 : 200,
  listen: X86 ? 50 : 201,
  setsockopt: X86 ? 54 : 208,
  getsockopt: X86 ? 55 : 209,
  execve: X86 ? 59 : 221,
  wait4: X86 ? 61 : 260,
  kill: X86 ? 62 : 129,
  fcntl: X86 ? 72 : 25,
  flock: X86 ? 73 : 32,
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
  lsetxattr: X86 ? 189 : 6,
  lgetxattr: X86 ? 192 : 9,
  llistxattr: X86 ? 195 : 12,
  lremovexattr: X86 ? 198 : 15,
  exit_group: X86 ? 231 : 94,
  epoll_ctl: X86 ? 233 : 21,
  openat: X86 ? 257 : 56,
  mknodat: X86 ? 259 : 33,
  unshare: X86 ? 272 : 97,
  epoll_pwait: X86 ? 281 : 22,
  eventfd2: X86 ? 290 : 19,
  epoll_create1: X86 ? 291 : 20,
  dup3: X86 ? 292 : 24,
  pipe2: X86 ? 293 : 59,
  prlimit64: X86 ? 302 : 261,
  syncfs: X86 ? 306 : 267,
  setns: X86 ? 308 : 268,
  close_range: 436,
} as const;

/** An argument: numbers as they are, buffers as their address, null/undefined as 0. */
export type Arg = number | bigint | Uint8Array | null | undefined;
export const AT_FDCWD = -100;

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

/** Raw system call on this thread; returns the result (-1 on failure, see errno()). */
export function sys(nr: number, ...args: Arg[]): number {
  return Number(
    libc().syscall(
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

/**
 * Raw system call on a worker thread (for calls that block: waitpid, reads of
 * a pty, epoll_wait …). -1 on failure; errno stays on the worker thread.
 * Buffers passed must stay referenced until the promise settles.
 */
export async function sysAsync(nr: number, ...args: Arg[]): Promise<number> {
  const r = Number(
    await libc().syscall_nb(
      BigInt(nr),
      a(args[0]),
      a(args[1]),
      a(args[2]),
      a(args[3]),
      a(args[4]),
      a(args[5]),
    ),
  );
  hold(args); // the buffers stay reachable until the worker is done with them
  return r;
}

/** Uses its arguments, so a suspended async function keeps them alive up to here. */
export function hold(..._values: unknown[]): void {}

/** errno of the last failed call on this thread. */
export function errno(): number {
  const p = libc().__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/** glibc malloc_trim(0): release the free heap pages of all arenas. */
export function mallocTrim(): void {
  libc().malloc_trim(0n);
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
  34: ["ERANGE", "numerical result out of range"],
  36: ["ENAMETOOLONG", "file name too long"],
  38: ["ENOSYS", "function not implemented"],
  40: ["ELOOP", "too many levels of symbolic links"],
  61: ["ENODATA", "no data available"],
  95: ["EOPNOTSUPP", "operation not supported"],
  111: ["ECONNREFUSED", "connection refused"],
  122: ["EDQUOT", "disk quota exceeded"],
};

/** The symbolic name of an errno ("ENOENT"), or `E<n>`. */
export const errnoName = (e: number): string => ERRNO[e]?.[0] ?? `E${e}`;
/** glibc's text for an errno, lower-cased ("no such file or directory"), or `errno <n>`. */
export const strerror = (e: number): string => ERRNO[e]?.[1] ?? `errno ${e}`;

/** A failed system call. `code` is the errno name ("ENOENT"), `errno` the number. */
export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(op: string, e: number, what?: string) {
    super(`${op}${what ? " " + what : ""}: ${strerror(e)}`);
    this.name = "SysError";
    this.errno = e;
    this.code = errnoName(e);
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

/** close(2); errors ignored (the fd is gone either way). */
export function close(fd: number): void {
  if (fd >= 0) sys(NR.close, fd);
}

// ---- namespaces --------------------------------------------------------------

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
  check(sys(NR.unshare, flags), "unshare");
}
export function setns(fd: number, nstype: number): void {
  check(sys(NR.setns, fd, nstype), "setns");
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
export const ENOENT = 2, EINVAL = 22;

/** mount(2); throws SysError ("mount SOURCE on TARGET: reason"). */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const r = sys(
    NR.mount,
    source === null ? null : cstr(source),
    cstr(target),
    fstype === null ? null : cstr(fstype),
    flags,
    data === null || data === "" ? null : cstr(data),
  );
  check(r, "mount", `${source ?? ""} on ${target}`);
}
/** umount2(2); throws SysError. */
export function umount2(target: string, flags = 0): void {
  check(sys(NR.umount2, cstr(target), flags), "umount", target);
}
/** umount2(target, MNT_DETACH); a path that is not mounted (EINVAL) or is gone (ENOENT) is no error. */
export function unmountDetached(target: string): void {
  if (sys(NR.umount2, cstr(target), MNT_DETACH) === 0) return;
  const e = errno();
  if (e !== EINVAL && e !== ENOENT) throw new SysError("umount", e, target);
}
