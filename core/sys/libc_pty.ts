/**
 * Blocking libc calls for long-lived callers (shim, daemon), run on a Deno
 * worker thread: waitpid for (re-parented) children, receiving an fd over a
 * unix socket (runc's `--console-socket`), and streams over raw fds such as a
 * pty master. Also pty allocation in the host's devpts.
 *
 * errno is thread-local and these calls run on another thread, so failures
 * carry no errno.
 *
 * @example
 * ```ts
 * const { master, slavePath } = openPty();
 * // RuntimeStdio {kind: "tty", ttyPath: slavePath}
 * fdReadable(master).pipeTo(out);  // container output
 * setWinsize(master, 24, 80);
 * ```
 * @module
 */

import { close, hold, NR, ptr, sysAsync } from "./libc.ts";
import { listenUnix, openPtmx } from "./libc_proc.ts";

export { setWinsize } from "./libc_proc.ts";

/** Allocate a pty in the host's devpts. The caller owns `master` (a raw fd, close-on-exec). */
export function openPty(): { master: number; slavePath: string } {
  return openPtmx("/dev/ptmx");
}

/** Decoded wait status. */
export interface WaitStatus {
  code: number;
  signal?: number;
}
export function decodeWaitStatus(st: number): WaitStatus {
  const sig = st & 0x7f;
  if (sig === 0) return { code: (st >> 8) & 0xff };
  return { code: 128 + sig, signal: sig };
}

/** waitpid(pid) on a worker thread; only for a child (or re-parented orphan) of ours. */
export async function waitpidAsync(pid: number): Promise<WaitStatus> {
  const buf = new Int32Array(1);
  for (;;) {
    const r = await sysAsync(NR.wait4, pid, new Uint8Array(buf.buffer), 0, 0);
    if (r === pid) return decodeWaitStatus(buf[0]);
    try {
      Deno.statSync(`/proc/${pid}`);
    } catch {
      throw new Error(`waitpid ${pid}: not a child of this process`);
    }
  }
}

/** A listening unix socket that receives one fd (runc's `--console-socket`). */
export class FdReceiver {
  readonly path: string;
  #fd: number;
  constructor(path: string) {
    this.path = path;
    this.#fd = listenUnix(path);
  }
  /** Wait for one connection and return the fd it sends (close-on-exec). */
  async receive(): Promise<number> {
    const c = await sysAsync(NR.accept4, this.#fd, null, null, 0o2000000);
    if (c < 0) throw new Error("console socket: accept failed");
    try {
      const data = new Uint8Array(4096);
      const iov = new BigUint64Array([ptr(data), 4096n]);
      const iovb = new Uint8Array(iov.buffer);
      const ctl = new Uint8Array(64);
      const msg = new BigUint64Array([0n, 0n, ptr(iovb), 1n, ptr(ctl), 64n, 0n]);
      const n = await sysAsync(
        NR.recvmsg,
        c,
        new Uint8Array(msg.buffer),
        0o2000000, /* CMSG_CLOEXEC */
      );
      hold(data, iovb); // reached through msg's pointers only
      if (n < 0) throw new Error("console socket: recvmsg failed");
      const cv = new DataView(ctl.buffer);
      if (msg[5] < 20n || cv.getInt32(8, true) !== 1 || cv.getInt32(12, true) !== 1) {
        throw new Error("console socket: no fd received");
      }
      return cv.getInt32(16, true);
    } finally {
      close(c);
    }
  }
  close(): void {
    if (this.#fd >= 0) close(this.#fd);
    this.#fd = -1;
    try {
      Deno.removeSync(this.path);
    } catch { /* gone */ }
  }
}

/** A ReadableStream over a raw fd (reads on a worker thread); any failure (EIO = pty hung up) is EOF. */
export function fdReadable(fd: number, closeFd = false): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(ctrl) {
      const buf = new Uint8Array(16384);
      const n = await sysAsync(NR.read, fd, buf, 16384);
      if (n > 0) return ctrl.enqueue(buf.subarray(0, n));
      if (closeFd) close(fd);
      ctrl.close();
    },
  }, { highWaterMark: 0 });
}

/** A WritableStream over a raw fd (writes on a worker thread). */
export function fdWritable(fd: number, closeFd = false): WritableStream<Uint8Array> {
  return new WritableStream({
    async write(chunk) {
      const b = new Uint8Array(chunk);
      let off = 0;
      while (off < b.length) {
        const n = await sysAsync(NR.write, fd, b.subarray(off), b.length - off);
        if (n < 0) throw new Error(`write to fd ${fd} failed`);
        off += n;
      }
    },
    close() {
      if (closeFd) close(fd);
    },
  });
}
