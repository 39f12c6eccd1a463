/**
 * The few system calls the shim needs that Deno does not offer: becoming a
 * child subreaper, sizing a pty, and reading/writing raw fds (a pty
 * master handed over by runc is a bare fd). Blocking reads and writes run on
 * Deno's blocking thread pool (`sysAsync`), so the event loop never stalls.
 * All of it goes through core/sys/libc.ts (the one module that opens libc,
 * on first use, never at import), which the shim loads anyway; nothing else
 * of core/sys is pulled in here.
 *
 * @example
 * ```ts ignore
 * import { fdRead, setSubreaper } from "./sys_linux.ts";
 * setSubreaper();
 * const chunk = await fdRead(master, new Uint8Array(4096));
 * ```
 * @module
 */

import { close, errno, NR, sys, sysAsync } from "../sys/libc.ts";

const PR_SET_CHILD_SUBREAPER = 36;
const TIOCSWINSZ = 0x5414;

/** prctl(PR_SET_CHILD_SUBREAPER): orphans of our descendants are re-parented to us. */
export function setSubreaper(): void {
  if (sys(NR.prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) {
    throw new Error(`prctl(PR_SET_CHILD_SUBREAPER): errno ${errno()}`);
  }
}

/** TIOCSWINSZ on a pty (master or slave fd); a pty already gone is ignored. */
export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  sys(NR.ioctl, fd, TIOCSWINSZ, new Uint8Array(ws.buffer));
}

/**
 * read(2) without blocking the event loop. Returns the bytes read (a view of
 * `buf`), or null at end of file — which for a pty master is EIO, once every
 * slave fd is closed.
 */
export async function fdRead(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<Uint8Array | null> {
  // errno is thread-local and the read ran on a pool thread, so any failure
  // counts as the end (EIO is what a pty master returns once the slave is gone).
  const n = await sysAsync(NR.read, fd, buf, buf.length);
  return n > 0 ? buf.subarray(0, n) : null;
}

/** write(2) all of `data` without blocking the event loop. */
export async function fdWrite(fd: number, data: Uint8Array): Promise<void> {
  const copy = new Uint8Array(data); // a stable, ArrayBuffer-backed buffer
  let off = 0;
  while (off < copy.length) {
    const n = await sysAsync(NR.write, fd, copy.subarray(off), copy.length - off);
    if (n <= 0) throw new Error(`write to fd ${fd} failed`);
    off += n;
  }
}

export function fdClose(fd: number): void {
  close(fd);
}
