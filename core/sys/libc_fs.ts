/**
 * libc file-system calls that neither Deno nor node:fs offer: mknod (device
 * nodes, fifos, overlay whiteouts) and the l*xattr family (no symlink
 * following), as raw system calls through ./libc.ts (opened on first use,
 * never at import).
 *
 * FFI is stable in Deno 2.9 (no `--unstable-ffi`); it needs `--allow-ffi`
 * (or `-A`). Failures throw {@link ErrnoError} carrying the errno and its
 * symbolic code, e.g. `EPERM: operation not permitted, mknod '/x/dev/null'`.
 *
 * @example
 * ```ts ignore
 * import { mknod, S_IFCHR, lsetxattr, lgetxattr } from "./libc_fs.ts";
 * mknod("/tmp/wh", S_IFCHR | 0o000, 0, 0);        // an overlay whiteout
 * lsetxattr("/tmp/d", "trusted.overlay.opaque", new TextEncoder().encode("y"));
 * console.log(lgetxattr("/tmp/d", "trusted.overlay.opaque"));
 * ```
 * @module
 */

import { AT_FDCWD, close, cstr, errno, errnoName, NR, strerror, sys, sysAsync } from "./libc.ts";

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** An errno failure from a libc call. `code` is the symbolic name ("EPERM"). */
export class ErrnoError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly path: string;
  constructor(errno: number, syscall: string, path: string) {
    const code = errnoName(errno);
    super(`${code}: ${strerror(errno)}, ${syscall} '${path}'`);
    this.name = "ErrnoError";
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
    this.path = path;
  }
}

function check(rc: number, syscall: string, path: string): number {
  if (rc < 0) throw new ErrnoError(errno(), syscall, path);
  return rc;
}

/** glibc's makedev(). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0), mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) |
    ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** glibc's major()/minor() of a dev_t (as Deno's stat `rdev` number). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { major, minor };
}

/**
 * mknod(2): `mode` is the file type (S_IFCHR, S_IFBLK, S_IFIFO, S_IFREG)
 * or'ed with permission bits (the umask applies; chmod afterwards for exact bits).
 */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check(sys(NR.mknodat, AT_FDCWD, cstr(path), mode >>> 0, makedev(major, minor)), "mknod", path);
}

/** lsetxattr(2): set an extended attribute without following a final symlink. */
export function lsetxattr(path: string, name: string, value: Uint8Array, flags = 0): void {
  const v = new Uint8Array(value.byteLength || 1);
  v.set(value);
  check(
    sys(NR.lsetxattr, cstr(path), cstr(name), v, value.byteLength, flags),
    "lsetxattr",
    path,
  );
}

/** lgetxattr(2): the value, or null when the attribute is absent (ENODATA). */
export function lgetxattr(path: string, name: string): Uint8Array | null {
  const p = cstr(path), n = cstr(name);
  for (let tries = 0; tries < 8; tries++) {
    const want = sys(NR.lgetxattr, p, n, null, 0);
    if (want < 0) {
      const e = errno();
      if (e === 61) return null; // ENODATA
      throw new ErrnoError(e, "lgetxattr", path);
    }
    const buf = new Uint8Array(Math.max(want, 1));
    const got = sys(NR.lgetxattr, p, n, buf, buf.byteLength);
    if (got >= 0) return buf.slice(0, got);
    const e = errno();
    if (e === 61) return null;
    if (e !== 34) throw new ErrnoError(e, "lgetxattr", path); // ERANGE: it grew, retry
  }
  throw new ErrnoError(34, "lgetxattr", path);
}

/** llistxattr(2): attribute names (empty when the fs has no xattr support). */
export function llistxattr(path: string): string[] {
  const p = cstr(path);
  for (let tries = 0; tries < 8; tries++) {
    const want = sys(NR.llistxattr, p, null, 0);
    if (want < 0) {
      const e = errno();
      if (e === 95) return []; // EOPNOTSUPP
      throw new ErrnoError(e, "llistxattr", path);
    }
    if (want === 0) return [];
    const buf = new Uint8Array(want);
    const got = sys(NR.llistxattr, p, buf, want);
    if (got >= 0) {
      const names = new TextDecoder().decode(buf.subarray(0, got)).split("\0");
      return names.filter((s) => s.length > 0);
    }
    const e = errno();
    if (e !== 34) throw new ErrnoError(e, "llistxattr", path);
  }
  throw new ErrnoError(34, "llistxattr", path);
}

/** lremovexattr(2); absent attributes are not an error. */
export function lremovexattr(path: string, name: string): void {
  const rc = sys(NR.lremovexattr, cstr(path), cstr(name));
  if (rc < 0) {
    const e = errno();
    if (e !== 61) throw new ErrnoError(e, "lremovexattr", path);
  }
}

/** All xattrs of a path (names and raw values), without following a final symlink. */
export function lgetxattrs(path: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of llistxattr(path)) {
    const v = lgetxattr(path, name);
    if (v) out.set(name, v);
  }
  return out;
}

/**
 * Flush the whole filesystem holding `path` to disk (syncfs(2)): one call
 * makes a freshly unpacked layer durable before it is renamed into place.
 */
export async function syncFs(path: string): Promise<void> {
  const fd = check(
    sys(NR.openat, AT_FDCWD, cstr(path), 0o2000000, /* O_RDONLY|O_CLOEXEC */ 0),
    "open",
    path,
  );
  try {
    // on a worker thread: errno stays there
    if (await sysAsync(NR.syncfs, fd) < 0) throw new Error(`syncfs '${path}' failed`);
  } finally {
    close(fd);
  }
}
