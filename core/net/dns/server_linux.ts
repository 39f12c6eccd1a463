/**
 * The embedded DNS server. For each container on a user-defined network it
 * binds a UDP socket at 127.0.0.11:53 *inside the container's network
 * namespace* (created by the daemon thread via setns, see _libc_linux.ts),
 * so no NAT rule is needed in the container. One epoll set, waited on by a
 * worker thread, serves all of them; answers come from the {@link NameTable};
 * other names are forwarded from the host's namespace to the host's
 * resolvers (or the container's --dns servers) through one node:dgram socket.
 *
 * The sockets live as long as the daemon: after a daemon restart the network
 * service calls addContainer() again for every running container.
 *
 * @example
 * ```ts ignore
 * const dns = new EmbeddedDns({ table, upstreams: () => [{ ip: "10.0.0.53", port: 53 }] });
 * dns.addContainer("c1", "/proc/1234/ns/net", { nets: ["net1"], forward: true });
 * ```
 * @module
 */
import dgram from "node:dgram";
import { closeFd, Epoll, recvFrom, sendTo, udpSocketInNetns } from "../_libc_linux.ts";
import { parseIp } from "../ipv4.ts";
import {
  decodeMessage,
  encodeReply,
  type Message,
  RCODE_FORMERR,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
  withId,
} from "./packet.ts";
import type { NameTable } from "./resolver.ts";

export const DNS_IP = "127.0.0.11";

export interface Upstream {
  ip: string;
  port: number;
}

/** What one container sees: its networks, whether to forward, its own --dns servers. */
export interface DnsView {
  nets: string[];
  forward: boolean;
  upstreams?: Upstream[];
}

export interface EmbeddedDnsOptions {
  table: NameTable;
  /** the host's resolvers (read at each forward, so resolv.conf changes apply) */
  upstreams: () => Upstream[];
  /** per upstream try (default 2000 ms) */
  timeoutMs?: number;
  log?: (msg: string) => void;
  /** per-query trace (debug level) */
  debug?: (msg: string) => void;
}

interface Entry {
  cid: string;
  fd: number;
  view: DnsView;
}

interface Pending {
  entry: Entry;
  from: Uint8Array;
  q: Message;
  raw: Uint8Array;
  tries: Upstream[];
  timer: ReturnType<typeof setTimeout> | undefined;
  up?: Upstream;
}

export class EmbeddedDns {
  readonly #o: EmbeddedDnsOptions;
  #byCid = new Map<string, Entry>();
  #byFd = new Map<number, Entry>();
  #epoll: Epoll | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;
  #up: dgram.Socket | undefined;
  #pending = new Map<number, Pending>();
  #nextId = Math.floor(Math.random() * 65536);
  #buf = new Uint8Array(4096);

  constructor(o: EmbeddedDnsOptions) {
    this.#o = o;
  }

  has(cid: string): boolean {
    return this.#byCid.has(cid);
  }

  /** Start answering at 127.0.0.11:53 inside `nsPath` for container `cid`. */
  addContainer(cid: string, nsPath: string, view: DnsView): void {
    const old = this.#byCid.get(cid);
    if (old) {
      old.view = view;
      return;
    }
    const fd = udpSocketInNetns(nsPath, parseIp(DNS_IP), 53);
    const e: Entry = { cid, fd, view };
    this.#byCid.set(cid, e);
    this.#byFd.set(fd, e);
    this.#epoll ??= new Epoll();
    this.#epoll.add(fd);
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
    this.#byFd.delete(e.fd);
    this.#epoll?.del(e.fd);
    closeFd(e.fd);
  }

  get size(): number {
    return this.#byCid.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const cid of [...this.#byCid.keys()]) this.removeContainer(cid);
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    this.#up?.close();
    this.#up = undefined;
    if (this.#epoll) {
      this.#epoll.wake();
      await this.#loop?.catch(() => {});
      this.#epoll.close();
      this.#epoll = undefined;
    }
  }

  async #run(): Promise<void> {
    while (!this.#closed && this.#epoll) {
      const ready = await this.#epoll.wait();
      for (const fd of ready) {
        for (;;) {
          const e = this.#byFd.get(fd);
          if (!e) break;
          const got = recvFrom(fd, this.#buf);
          if (!got) break;
          this.#onQuery(e, this.#buf.slice(0, got.n), got.from);
        }
      }
    }
  }

  #reply(e: Entry, to: Uint8Array, data: Uint8Array): void {
    // The container may have gone (and its fd number been reused) meanwhile.
    if (this.#byFd.get(e.fd) === e) sendTo(e.fd, data, to);
  }

  #onQuery(e: Entry, raw: Uint8Array, from: Uint8Array): void {
    let q: Message;
    try {
      q = decodeMessage(raw);
    } catch {
      return;
    }
    if (q.qr) return;
    const question = q.questions[0];
    if (!question || q.opcode !== 0) {
      return this.#reply(e, from, encodeReply(q, { rcode: RCODE_FORMERR }));
    }
    const a = this.#o.table.answer(e.view.nets, question.name, question.type);
    this.#o.debug?.(`dns: ${e.cid.slice(0, 12)} asks ${question.name} ${question.type}: ${a.kind}`);
    if (a.kind === "answer") {
      return this.#reply(e, from, encodeReply(q, { answers: a.records, authoritative: true }));
    }
    if (a.kind === "nodata") {
      return this.#reply(e, from, encodeReply(q, { authoritative: true }));
    }
    const ups = e.view.upstreams?.length ? e.view.upstreams : this.#o.upstreams();
    if (!e.view.forward || ups.length === 0) {
      return this.#reply(
        e,
        from,
        encodeReply(q, { rcode: e.view.forward ? RCODE_SERVFAIL : RCODE_NXDOMAIN }),
      );
    }
    this.#forward({ entry: e, from, q, raw, tries: [...ups], timer: undefined });
  }

  #socket(): dgram.Socket {
    if (this.#up) return this.#up;
    const s = dgram.createSocket("udp4");
    s.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
      this.#onUpstream(new Uint8Array(msg), rinfo);
    });
    s.on("error", (err) => this.#o.log?.(`dns upstream socket: ${err.message}`));
    s.bind(0, "0.0.0.0");
    s.unref();
    return this.#up = s;
  }

  #forward(p: Pending): void {
    const up = p.tries.shift();
    if (!up) {
      this.#reply(p.entry, p.from, encodeReply(p.q, { rcode: RCODE_SERVFAIL }));
      return;
    }
    let id = this.#nextId = (this.#nextId + 1) & 0xffff;
    while (this.#pending.has(id)) id = this.#nextId = (this.#nextId + 1) & 0xffff;
    p.up = up;
    this.#pending.set(id, p);
    p.timer = setTimeout(() => {
      this.#pending.delete(id);
      this.#forward(p);
    }, this.#o.timeoutMs ?? 2000);
    this.#socket().send(withId(p.raw, id), up.port, up.ip, (err) => {
      if (err) this.#o.log?.(`dns forward to ${up.ip}:${up.port}: ${err.message}`);
    });
  }

  #onUpstream(msg: Uint8Array, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12) return;
    const id = (msg[0] << 8) | msg[1];
    const p = this.#pending.get(id);
    if (!p || p.up?.ip !== rinfo.address || p.up?.port !== rinfo.port) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    this.#reply(p.entry, p.from, withId(msg, p.q.id));
  }
}
