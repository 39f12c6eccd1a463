/**
 * An exclusive, non-blocking lock on a file (flock(2) through ./libc.ts), held for the
 * life of the process: the kernel drops it when the process dies, so a
 * crashed daemon never leaves a stale lock.
 *
 * @example
 * ```ts
 * import { tryLock } from "./lock.ts";
 * const held = tryLock("/tmp/x.lock");
 * ```
 * @module
 */

import { AT_FDCWD, close, cstr, NR, sys } from "./libc.ts";

const O_RDWR = 2, O_CREAT = 0o100, O_CLOEXEC = 0o2000000;
const LOCK_EX = 2, LOCK_NB = 4;

/** Returns the fd holding the lock, or -1 when another process holds it. */
export function tryLock(path: string): number {
  const fd = sys(NR.openat, AT_FDCWD, cstr(path), O_RDWR | O_CREAT | O_CLOEXEC, 0o600);
  if (fd < 0) throw new Error(`cannot open lock file ${path}`);
  if (sys(NR.flock, fd, LOCK_EX | LOCK_NB) !== 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/** Release a lock taken with tryLock. */
export function unlock(fd: number): void {
  close(fd);
}
