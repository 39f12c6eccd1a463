/**
 * The embedded DNS server's answer path, independent of sockets: decode a
 * query, answer it from the {@link NameTable} (names of the asker's
 * networks), or forward it — from the host's namespace, through one
 * node:dgram socket — to the container's --dns servers or the host's
 * resolvers, trying each in turn, and hand the answer to `reply`.
 *
 * @example
 * ```ts ignore
 * const r = new DnsResponder({ table, upstreams: () => [{ ip: "127.0.0.53", port: 53 }] });
 * r.handle({ nets: ["n1"], forward: true }, query, (answer) => send(answer));
 * ```
 * @module
 */
import dgram from "node:dgram";
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

export interface Upstream {
  ip: string;
  port: number;
}

/** What one container sees: its networks, whether to forward, its own --dns servers. */
export interface DnsView {
  nets: string[];
  forward: boolean;
  upstreams?: Upstream[];
  /** link aliases of this container (lowercase alias → container name), moby's ep.aliases */
  aliases?: Record<string, string>;
}

export interface ResponderOptions {
  table: NameTable;
  /** the host's resolvers (asked at each forward, so resolv.conf changes apply) */
  upstreams: () => Upstream[];
  /** per upstream try (default 2000 ms) */
  timeoutMs?: number;
  log?: (msg: string) => void;
  /** per-query trace (debug level) */
  debug?: (msg: string) => void;
}

interface Pending {
  q: Message;
  raw: Uint8Array;
  tries: Upstream[];
  reply: (data: Uint8Array) => void;
  timer?: ReturnType<typeof setTimeout>;
  up?: Upstream;
}

export class DnsResponder {
  readonly #o: ResponderOptions;
  #up: dgram.Socket | undefined;
  #pending = new Map<number, Pending>();
  #nextId = Math.floor(Math.random() * 65536);

  constructor(o: ResponderOptions) {
    this.#o = o;
  }

  /** Answer `raw` as seen by a container with `view`; `who` names it in traces. */
  handle(view: DnsView, raw: Uint8Array, reply: (data: Uint8Array) => void, who = ""): void {
    let q: Message;
    try {
      q = decodeMessage(raw);
    } catch {
      return;
    }
    if (q.qr) return;
    const question = q.questions[0];
    if (!question || q.opcode !== 0) return reply(encodeReply(q, { rcode: RCODE_FORMERR }));
    const asked = question.name.toLowerCase().replace(/\.$/, "");
    const name = view.aliases?.[asked] ?? question.name;
    const a = this.#o.table.answer(view.nets, name, question.type);
    this.#o.debug?.(`dns: ${who} asks ${question.name} ${question.type}: ${a.kind}`);
    if (a.kind === "answer") {
      return reply(encodeReply(q, { answers: a.records, authoritative: true }));
    }
    if (a.kind === "nodata") return reply(encodeReply(q, { authoritative: true }));
    const ups = view.upstreams?.length ? view.upstreams : this.#o.upstreams();
    if (!view.forward || ups.length === 0) {
      return reply(encodeReply(q, { rcode: view.forward ? RCODE_SERVFAIL : RCODE_NXDOMAIN }));
    }
    this.#forward({ q, raw, tries: [...ups], reply });
  }

  close(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    this.#up?.close();
    this.#up = undefined;
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
    if (!up) return p.reply(encodeReply(p.q, { rcode: RCODE_SERVFAIL }));
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
    p.reply(withId(msg, p.q.id));
  }
}
