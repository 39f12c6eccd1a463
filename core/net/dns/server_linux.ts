/**
 * The embedded DNS server's sockets. For each container on a user-defined
 * network it opens, *inside the container's network namespace* (setns trick
 * of _libc_linux.ts), a UDP socket and a TCP listener at 127.0.0.11:53 — no
 * NAT rule in the container, no process per container. One epoll set,
 * waited on by a worker thread, serves them all; queries go to the
 * {@link DnsResponder} (answers from the name table, or forwarding).
 *
 * The sockets live as long as the daemon: after a restart the network
 * service calls addContainer() again for every running container.
 *
 * @example
 * ```ts ignore
 * const dns = new EmbeddedDns({ table, upstreams: () => [{ ip: "10.0.0.53", port: 53 }] });
 * dns.addContainer("c1", "/proc/1234/ns/net", { nets: ["net1"], forward: true });
 * ```
 * @module
 */
import {
  acceptConn,
  closeFd,
  EAGAIN,
  Epoll,
  errno,
  recvFrom,
  recvNow,
  sendNow,
  sendTo,
  tcpListenInNetns,
  udpSocketInNetns,
} from "../_libc_linux.ts";
import { parseIp } from "../ipv4.ts";
import { DnsResponder, type DnsView, type ResponderOptions } from "./responder.ts";

export type { DnsView, Upstream } from "./responder.ts";
export const DNS_IP = "127.0.0.11";
export type EmbeddedDnsOptions = ResponderOptions;

/** TCP connections idle this long are closed. */
const TCP_IDLE_MS = 10_000;

interface Entry {
  cid: string;
  udp: number;
  tcp: number;
  view: DnsView;
  conns: Set<number>;
}

type Sock =
  | { kind: "udp" | "listen"; e: Entry }
  | { kind: "conn"; e: Entry; buf: Uint8Array; timer?: ReturnType<typeof setTimeout> };

export class EmbeddedDns {
  readonly #responder: DnsResponder;
  #byCid = new Map<string, Entry>();
  #socks = new Map<number, Sock>();
  #epoll: Epoll | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;
  #buf = new Uint8Array(65536);

  readonly #log: (msg: string) => void;

  constructor(o: EmbeddedDnsOptions) {
    this.#responder = new DnsResponder(o);
    this.#log = o.log ?? (() => {});
  }

  has(cid: string): boolean {
    return this.#byCid.has(cid);
  }

  get size(): number {
    return this.#byCid.size;
  }

  /** Start answering at 127.0.0.11:53 (UDP and TCP) inside `nsPath` for `cid`. */
  addContainer(cid: string, nsPath: string, view: DnsView): void {
    const old = this.#byCid.get(cid);
    if (old) {
      old.view = view;
      return;
    }
    const ip = parseIp(DNS_IP);
    const udp = udpSocketInNetns(nsPath, ip, 53);
    let tcp: number;
    try {
      tcp = tcpListenInNetns(nsPath, ip, 53);
    } catch (e) {
      closeFd(udp);
      throw e;
    }
    const e: Entry = { cid, udp, tcp, view, conns: new Set() };
    this.#byCid.set(cid, e);
    this.#epoll ??= new Epoll();
    this.#add(udp, { kind: "udp", e });
    this.#add(tcp, { kind: "listen", e });
    this.#loop ??= this.#run();
  }

  setView(cid: string, view: DnsView): void {
    const e = this.#byCid.get(cid);
    if (e) e.view = view;
  }

  removeContainer(cid: string): void {
    const e = this.#byCid.get(cid);
    if (!e) return;
    this.#byCid.delete(cid);
    for (const fd of [...e.conns, e.udp, e.tcp]) this.#drop(fd);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const cid of [...this.#byCid.keys()]) this.removeContainer(cid);
    this.#responder.close();
    if (this.#epoll) {
      this.#epoll.wake();
      await this.#loop?.catch(() => {}); // closing: how the loop ended no longer matters
      this.#epoll.close();
      this.#epoll = undefined;
    }
  }

  #add(fd: number, s: Sock): void {
    this.#socks.set(fd, s);
    this.#epoll!.add(fd);
  }

  #drop(fd: number): void {
    const s = this.#socks.get(fd);
    if (!s) return;
    if (s.kind === "conn") {
      clearTimeout(s.timer);
      s.e.conns.delete(fd);
    }
    this.#socks.delete(fd);
    this.#epoll?.del(fd);
    closeFd(fd);
  }

  async #run(): Promise<void> {
    while (!this.#closed && this.#epoll) {
      const ready = await this.#epoll.wait();
      for (const fd of ready) {
        const s = this.#socks.get(fd);
        try {
          if (s?.kind === "udp") this.#onUdp(fd, s.e);
          else if (s?.kind === "listen") this.#onAccept(fd, s.e);
          else if (s?.kind === "conn") this.#onConn(fd, s);
        } catch (e) {
          // What a container sends must not end this loop — nor, as an unhandled rejection,
          // the daemon. The query is dropped (a TCP connection closed); the next is answered.
          this.#log(`dns: ${s?.e.cid.slice(0, 12)}: ${e instanceof Error ? e.message : e}`);
          if (s?.kind === "conn") this.#drop(fd);
        }
      }
    }
  }

  #onUdp(fd: number, e: Entry): void {
    for (;;) {
      const got = recvFrom(fd, this.#buf);
      if (!got) return;
      const from = got.from;
      this.#responder.handle(e.view, this.#buf.slice(0, got.n), (data) => {
        // The container may be gone (and the fd number reused) by now.
        if (this.#socks.get(fd)?.e === e) sendTo(fd, data, from);
      }, e.cid.slice(0, 12));
    }
  }

  #onAccept(fd: number, e: Entry): void {
    for (;;) {
      const c = acceptConn(fd);
      if (c < 0) return;
      const s: Sock = { kind: "conn", e, buf: new Uint8Array(0) };
      e.conns.add(c);
      this.#add(c, s);
      this.#idle(c, s);
    }
  }

  #idle(fd: number, s: Sock & { kind: "conn" }): void {
    clearTimeout(s.timer);
    s.timer = setTimeout(() => this.#drop(fd), TCP_IDLE_MS);
  }

  /** DNS over TCP: 2-byte length, message; several per connection. */
  #onConn(fd: number, s: Sock & { kind: "conn" }): void {
    for (;;) {
      const n = recvNow(fd, this.#buf);
      if (n === 0 || (n < 0 && errno() !== EAGAIN)) return this.#drop(fd);
      if (n < 0) break;
      const merged = new Uint8Array(s.buf.length + n);
      merged.set(s.buf);
      merged.set(this.#buf.subarray(0, n), s.buf.length);
      s.buf = merged;
    }
    this.#idle(fd, s);
    while (s.buf.length >= 2) {
      const len = (s.buf[0] << 8) | s.buf[1];
      if (s.buf.length < 2 + len) break;
      const msg = s.buf.slice(2, 2 + len);
      s.buf = s.buf.slice(2 + len);
      this.#responder.handle(s.e.view, msg, (data) => {
        if (this.#socks.get(fd) !== s) return;
        const out = new Uint8Array(2 + data.length);
        out[0] = data.length >> 8;
        out[1] = data.length & 255;
        out.set(data, 2);
        if (!sendNow(fd, out)) this.#drop(fd);
      }, s.e.cid.slice(0, 12));
    }
  }
}
