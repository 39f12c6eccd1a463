/**
 * The few libc calls the shim needs that Deno does not offer: becoming a
 * child subreaper, allocating a pty, and reading/writing raw fds (a pty
 * master handed over by runc is a bare fd). Blocking reads and writes run as
 * `nonblocking` FFI calls (on Deno's blocking thread pool), so the event loop
 * never stalls. libc is opened on first use, never at import.
 *
 * Kept separate from core/sys on purpose: the shim runs once per container
 * and must load as little as possible.
 *
 * @example
 * ```ts ignore
 * import { openPty, fdRead, setSubreaper } from "./sys_linux.ts";
 * setSubreaper();
 * const { master, slavePath } = openPty();
 * const chunk = await fdRead(master, new Uint8Array(4096));
 * ```
 * @module
 */

const SYMBOLS = {
  __errno_location: { parameters: [], result: "pointer" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  posix_openpt: { parameters: ["i32"], result: "i32" },
  grantpt: { parameters: ["i32"], result: "i32" },
  unlockpt: { parameters: ["i32"], result: "i32" },
  ptsname_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize", nonblocking: true },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize", nonblocking: true },
  close: { parameters: ["i32"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Libc | undefined;
function libc(): Libc {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

function errno(): number {
  const p = libc().__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

const PR_SET_CHILD_SUBREAPER = 36;
const O_RDWR = 2, O_NOCTTY = 0o400, O_CLOEXEC = 0o2000000;
const TIOCSWINSZ = 0x5414;

/** prctl(PR_SET_CHILD_SUBREAPER): orphans of our descendants are re-parented to us. */
export function setSubreaper(): void {
  if (libc().prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) !== 0) {
    throw new Error(`prctl(PR_SET_CHILD_SUBREAPER): errno ${errno()}`);
  }
}

/** A new pty pair: the master fd (ours, close-on-exec) and the slave's path. */
export function openPty(): { master: number; slavePath: string } {
  const c = libc();
  const m = c.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) throw new Error(`posix_openpt: errno ${errno()}`);
  if (c.grantpt(m) !== 0 || c.unlockpt(m) !== 0) {
    const e = errno();
    c.close(m);
    throw new Error(`grantpt/unlockpt: errno ${e}`);
  }
  const buf = new Uint8Array(128);
  if (c.ptsname_r(m, buf, BigInt(buf.length)) !== 0) {
    c.close(m);
    throw new Error("ptsname_r failed");
  }
  const slavePath = new TextDecoder().decode(buf.subarray(0, buf.indexOf(0)));
  return { master: m, slavePath };
}

/** TIOCSWINSZ on a pty (master or slave fd). */
export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  libc().ioctl(fd, BigInt(TIOCSWINSZ), new Uint8Array(ws.buffer));
}

/**
 * read(2) without blocking the event loop. Returns the bytes read (a view of
 * `buf`), or null at end of file — which for a pty master is EIO, once every
 * slave fd is closed.
 */
export async function fdRead(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<Uint8Array | null> {
  // errno is thread-local and the read ran on a pool thread, so any failure
  // counts as the end (EIO is what a pty master returns once the slave is gone).
  const n = Number(await libc().read(fd, buf, BigInt(buf.length)));
  return n > 0 ? buf.subarray(0, n) : null;
}

/** write(2) all of `data` without blocking the event loop. */
export async function fdWrite(fd: number, data: Uint8Array): Promise<void> {
  const copy = new Uint8Array(data); // FFI needs a stable, ArrayBuffer-backed buffer
  let off = 0;
  while (off < copy.length) {
    const n = Number(await libc().write(fd, copy.subarray(off), BigInt(copy.length - off)));
    if (n <= 0) throw new Error(`write to fd ${fd} failed`);
    off += n;
  }
}

export function fdClose(fd: number): void {
  if (fd >= 0) libc().close(fd);
}
