/**
 * An exclusive, non-blocking lock on a file (flock via FFI), held for the
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

const O_RDWR = 2, O_CREAT = 0o100, O_CLOEXEC = 0o2000000;
const LOCK_EX = 2, LOCK_NB = 4;

let lib:
  | Deno.DynamicLibrary<{
    open: { parameters: ["buffer", "i32", "u32"]; result: "i32" };
    flock: { parameters: ["i32", "i32"]; result: "i32" };
    close: { parameters: ["i32"]; result: "i32" };
  }>
  | undefined;

function libc() {
  lib ??= Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
    flock: { parameters: ["i32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  return lib.symbols;
}

/** Returns the fd holding the lock, or -1 when another process holds it. */
export function tryLock(path: string): number {
  const c = libc();
  const fd = c.open(new TextEncoder().encode(path + "\0"), O_RDWR | O_CREAT | O_CLOEXEC, 0o600);
  if (fd < 0) throw new Error(`cannot open lock file ${path}`);
  if (c.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    c.close(fd);
    return -1;
  }
  return fd;
}

/** Release a lock taken with tryLock. */
export function unlock(fd: number): void {
  if (fd >= 0) libc().close(fd);
}
