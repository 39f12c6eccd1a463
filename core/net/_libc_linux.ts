/**
 * The few libc calls the network code needs that Deno has no API for:
 * opening a UDP socket inside another network namespace (setns on this
 * thread, socket(), setns back — a socket stays in the namespace it was
 * created in), and serving such sockets through one epoll set whose wait
 * runs on a worker thread (`nonblocking` FFI), so one thread serves them all.
 * Only the daemon loads this; nothing happens at import time. The calls go
 * through ../sys/libc.ts, the one module that opens libc.
 * @module
 */

import { AT_FDCWD, close, errno, NR, sys, sysAsync } from "../sys/libc.ts";

export { errno };

const O_RDONLY = 0, O_CLOEXEC = 0o2000000;
const CLONE_NEWNET = 0x40000000;
const AF_INET = 2,
  SOCK_STREAM = 1,
  SOCK_DGRAM = 2,
  SOCK_NONBLOCK = 0o4000,
  SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
const SOL_SOCKET = 1, SO_REUSEADDR = 2;
export const EAGAIN = 11;
const MSG_DONTWAIT = 0x40;
const EPOLLIN = 1;
const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2;

const cstr = (s: string) => new TextEncoder().encode(s + "\0");
const open = (path: string, flags: number) => sys(NR.openat, AT_FDCWD, cstr(path), flags, 0);

export function sockaddrIn(ip: number, port: number): Uint8Array {
  const sa = new Uint8Array(16);
  const dv = new DataView(sa.buffer);
  dv.setUint16(0, AF_INET, true);
  dv.setUint16(2, port, false);
  dv.setUint32(4, ip, false);
  return sa;
}

export function closeFd(fd: number): void {
  close(fd);
}

/**
 * A socket created inside the network namespace `nsPath` (setns on this
 * thread, socket(), setns back). Without `nsPath`: in our own namespace.
 */
export function socketInNetns(
  nsPath: string | undefined,
  domain: number,
  type: number,
  proto: number,
): number {
  if (!nsPath) {
    const fd = sys(NR.socket, domain, type | SOCK_CLOEXEC, proto);
    if (fd < 0) throw new Error(`socket: errno ${errno()}`);
    return fd;
  }
  const self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) throw new Error(`open own netns: errno ${errno()}`);
  const target = open(nsPath, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    const e = errno();
    close(self);
    throw new Error(`open ${nsPath}: errno ${e}`);
  }
  let fd = -1, err = 0;
  try {
    if (sys(NR.setns, target, CLONE_NEWNET) !== 0) {
      throw new Error(`setns ${nsPath}: errno ${errno()}`);
    }
    fd = sys(NR.socket, domain, type | SOCK_CLOEXEC, proto);
    if (fd < 0) err = errno();
    // Always go home, whatever happened: this thread runs every other JS task.
    if (sys(NR.setns, self, CLONE_NEWNET) !== 0) {
      throw new Error(`FATAL: cannot return to own network namespace: errno ${errno()}`);
    }
  } finally {
    close(target);
    close(self);
  }
  if (fd < 0) throw new Error(`socket: errno ${err}`);
  return fd;
}

/**
 * A non-blocking UDP socket bound to ip:port inside the network namespace
 * `nsPath` (e.g. /proc/PID/ns/net). Throws with errno on failure.
 */
export function udpSocketInNetns(nsPath: string, ip: number, port: number): number {
  const fd = socketInNetns(nsPath, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  const one = new Uint8Array(new Int32Array([1]).buffer);
  sys(NR.setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
  const sa = sockaddrIn(ip, port);
  if (sys(NR.bind, fd, sa, 16) !== 0) {
    const e = errno();
    close(fd);
    throw new Error(`bind in ${nsPath}: errno ${e}`);
  }
  return fd;
}

/** A non-blocking TCP listener on ip:port inside `nsPath`. */
export function tcpListenInNetns(nsPath: string, ip: number, port: number): number {
  const fd = socketInNetns(nsPath, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const one = new Uint8Array(new Int32Array([1]).buffer);
  sys(NR.setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
  if (sys(NR.bind, fd, sockaddrIn(ip, port), 16) !== 0 || sys(NR.listen, fd, 64) !== 0) {
    const e = errno();
    close(fd);
    throw new Error(`tcp listen in ${nsPath}: errno ${e}`);
  }
  return fd;
}

/** Accept one pending connection (non-blocking, close-on-exec); -1 when none. */
export function acceptConn(fd: number): number {
  return sys(NR.accept4, fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/** recv without blocking: bytes, 0 at EOF, -1 when nothing is there (or error). */
export function recvNow(fd: number, buf: Uint8Array): number {
  return sys(NR.recvfrom, fd, buf, buf.length, MSG_DONTWAIT, null, null);
}

/** send without blocking or SIGPIPE; true when all was sent. */
export function sendNow(fd: number, data: Uint8Array): boolean {
  return sys(NR.sendto, fd, data, data.length, MSG_DONTWAIT | MSG_NOSIGNAL, null, 0) ===
    data.length;
}

/** Receive one datagram without blocking; undefined when none is queued. */
export function recvFrom(
  fd: number,
  buf: Uint8Array,
): { n: number; from: Uint8Array } | undefined {
  const from = new Uint8Array(16);
  const flen = new Uint8Array(new Uint32Array([16]).buffer);
  const n = sys(NR.recvfrom, fd, buf, buf.length, MSG_DONTWAIT, from, flen);
  if (n < 0) return undefined;
  return { n, from };
}

export function sendTo(fd: number, data: Uint8Array, to: Uint8Array): boolean {
  return sys(NR.sendto, fd, data, data.length, MSG_DONTWAIT, to, 16) >= 0;
}

/** An epoll set plus an eventfd to wake its waiter. */
export class Epoll {
  readonly fd: number;
  readonly #wake: number;
  #evs = new Uint8Array(12 * 64);

  constructor() {
    this.fd = sys(NR.epoll_create1, O_CLOEXEC);
    if (this.fd < 0) throw new Error(`epoll_create1: errno ${errno()}`);
    this.#wake = sys(NR.eventfd2, 0, O_CLOEXEC | SOCK_NONBLOCK);
    this.add(this.#wake);
  }

  add(fd: number): void {
    const ev = new Uint8Array(12);
    const dv = new DataView(ev.buffer);
    dv.setUint32(0, EPOLLIN, true);
    dv.setUint32(4, fd, true);
    if (sys(NR.epoll_ctl, this.fd, EPOLL_CTL_ADD, fd, ev) !== 0) {
      throw new Error(`epoll_ctl add: errno ${errno()}`);
    }
  }

  del(fd: number): void {
    sys(NR.epoll_ctl, this.fd, EPOLL_CTL_DEL, fd, new Uint8Array(12));
  }

  /** Wait (on a worker thread) for readable fds; [] after wake(). */
  async wait(timeoutMs = -1): Promise<number[]> {
    const n = await sysAsync(NR.epoll_pwait, this.fd, this.#evs, 64, timeoutMs, null, 8);
    const out: number[] = [];
    const dv = new DataView(this.#evs.buffer);
    for (let i = 0; i < n; i++) {
      const fd = dv.getUint32(i * 12 + 4, true);
      if (fd === this.#wake) {
        sys(NR.read, this.#wake, new Uint8Array(8), 8); // drain the eventfd counter
        continue;
      }
      out.push(fd);
    }
    return out;
  }

  wake(): void {
    sys(NR.write, this.#wake, new Uint8Array(new BigUint64Array([1n]).buffer), 8);
  }

  close(): void {
    close(this.#wake);
    close(this.fd);
  }
}

const EINPROGRESS = 115, SO_ERROR = 4, EPOLLOUT = 4, F_GETFL = 3, F_SETFL = 4;

/**
 * A blocking TCP connection to ip:port made inside the network namespace
 * `nsPath` (the socket is created there; the connect itself does not block
 * this thread: non-blocking, then a wait for writability on a worker thread).
 * For a stream relayed with {@link recvAsync}/{@link sendAllAsync}.
 */
export async function tcpConnectInNetns(
  nsPath: string | undefined,
  ip: number,
  port: number,
  timeoutMs = 10_000,
): Promise<number> {
  const fd = socketInNetns(nsPath, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const sa = sockaddrIn(ip, port);
  try {
    if (sys(NR.connect, fd, sa, 16) !== 0) {
      const e = errno();
      if (e !== EINPROGRESS) throw new Error(connectError(e));
      const ep = sys(NR.epoll_create1, O_CLOEXEC);
      try {
        const ev = new Uint8Array(12);
        new DataView(ev.buffer).setUint32(0, EPOLLOUT, true);
        sys(NR.epoll_ctl, ep, EPOLL_CTL_ADD, fd, ev);
        const n = await sysAsync(NR.epoll_pwait, ep, new Uint8Array(12), 1, timeoutMs, null, 8);
        if (n <= 0) throw new Error("connection timed out");
      } finally {
        close(ep);
      }
      const err = new Uint8Array(4), len = new Uint8Array(new Uint32Array([4]).buffer);
      sys(NR.getsockopt, fd, SOL_SOCKET, SO_ERROR, err, len);
      const soErr = new DataView(err.buffer).getInt32(0, true);
      if (soErr) throw new Error(connectError(soErr));
    }
    // blocking from now on: reads and writes run on worker threads
    sys(NR.fcntl, fd, F_SETFL, sys(NR.fcntl, fd, F_GETFL) & ~SOCK_NONBLOCK);
    return fd;
  } catch (e) {
    close(fd);
    throw e;
  }
}

function connectError(e: number): string {
  return e === 111 ? "connection refused" : e === 113 ? "no route to host" : `errno ${e}`;
}

/** shutdown(2): 0 = no more reads, 1 = no more writes (FIN), 2 = both (wakes a blocked recv). */
export function shutdownFd(fd: number, how: 0 | 1 | 2): void {
  sys(NR.shutdown, fd, how);
}

/** Write all of `data` on a blocking socket from a worker thread (no SIGPIPE); false on error. */
export async function sendAllAsync(fd: number, data: Uint8Array): Promise<boolean> {
  let off = 0;
  while (off < data.length) {
    const rest = data.subarray(off);
    const n = await sysAsync(NR.sendto, fd, rest, rest.length, MSG_NOSIGNAL, null, 0);
    if (n <= 0) return false;
    off += n;
  }
  return true;
}

/** sendto on a worker thread; bytes sent or -1. */
export async function sendToAsync(fd: number, data: Uint8Array, to: Uint8Array): Promise<number> {
  return await sysAsync(NR.sendto, fd, data, data.length, 0, to, to.length);
}

/** recv on a worker thread; bytes received or -1. */
export async function recvAsync(fd: number, buf: Uint8Array): Promise<number> {
  return await sysAsync(NR.recvfrom, fd, buf, buf.length, 0, null, null);
}
