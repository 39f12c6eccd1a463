/**
 * SPDY/3.1 framing, as much of it as Kubernetes' streaming (client-go's and
 * kubelet's moby/spdystream) uses: SYN_STREAM/SYN_REPLY with zlib-compressed
 * header blocks (one deflate and one inflate context per connection, primed
 * with the SPDY/3 dictionary), DATA with FIN, RST_STREAM, PING (echoed),
 * GOAWAY. SETTINGS and WINDOW_UPDATE are read and ignored: spdystream does
 * no flow control either, so nothing here waits for a window.
 *
 * Both roles: the server (berth's streaming server) accepts the streams the
 * client opens (odd ids) and replies; the client role (tests) opens them.
 * Written here because the npm SPDY packages (spdy-transport) insist on
 * HTTP's `:method`/`:path` headers in every SYN_STREAM, which Kubernetes'
 * streams (`streamtype`, `port`, `requestid` only) do not carry (docs/cri.md).
 * @module
 */
import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import type { Duplex } from "node:stream";

/** The SPDY/3 header dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1): length-prefixed words, then a tail. */
const DICT_WORDS = (
  "options head post put delete trace accept accept-charset accept-encoding accept-language " +
  "accept-ranges age allow authorization cache-control connection content-base content-encoding " +
  "content-language content-length content-location content-md5 content-range content-type date " +
  "etag expect expires from host if-match if-modified-since if-none-match if-range " +
  "if-unmodified-since last-modified location max-forwards pragma proxy-authenticate " +
  "proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade " +
  "user-agent vary via warning www-authenticate method get status 200|OK version HTTP/1.1 url " +
  "public set-cookie keep-alive origin"
).split(" ").map((w) => w.replaceAll("|", " "));
const DICT_TAIL = "100101201202205206300302303304305306307402405406407408409410411412413414415416" +
  "417502504505203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad " +
  "Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not " +
  "Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 " +
  "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif," +
  "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip," +
  "deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

export const SPDY_DICTIONARY: Uint8Array = (() => {
  const enc = new TextEncoder();
  const parts: number[] = [];
  for (const w of DICT_WORDS) {
    const b = enc.encode(w);
    parts.push(0, 0, b.length >> 8, b.length & 0xff, ...b);
  }
  return new Uint8Array([...parts, ...enc.encode(DICT_TAIL)]);
})();

export const SYN_STREAM = 1,
  SYN_REPLY = 2,
  RST_STREAM = 3,
  SETTINGS = 4,
  PING = 6,
  GOAWAY = 7,
  HEADERS = 8,
  WINDOW_UPDATE = 9;
export const FLAG_FIN = 1;
/** RST_STREAM status codes used here */
export const RST_PROTOCOL_ERROR = 1, RST_REFUSED_STREAM = 3, RST_CANCEL = 5;
const MAX_DATA = 32 * 1024;

/** Header names are lowercase; a name may have several values (joined by NUL on the wire). */
export type SpdyHeaders = Record<string, string[]>;

export type Frame =
  | { control: true; type: number; flags: number; payload: Uint8Array }
  | { control: false; streamId: number; flags: number; data: Uint8Array };

/** Incremental frame parser: feed bytes, get whole frames. */
export class FrameReader {
  #buf = new Uint8Array(0);
  push(chunk: Uint8Array): Frame[] {
    let b = this.#buf.length ? concat([this.#buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (b.length >= 8) {
      const dv = new DataView(b.buffer, b.byteOffset, 8);
      const len = dv.getUint32(4) & 0xffffff;
      if (b.length < 8 + len) break;
      const flags = b[4];
      const body = b.slice(8, 8 + len);
      const w0 = dv.getUint32(0);
      if (w0 & 0x80000000) {
        const version = (w0 >>> 16) & 0x7fff;
        if (version !== 3) throw new Error(`SPDY version ${version} is not supported`);
        out.push({ control: true, type: w0 & 0xffff, flags, payload: body });
      } else out.push({ control: false, streamId: w0 & 0x7fffffff, flags, data: body });
      b = b.subarray(8 + len);
    }
    this.#buf = b.length ? b.slice() : new Uint8Array(0);
    return out;
  }
}

export function controlFrame(type: number, flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, (0x8000 | 3) << 16 | type);
  dv.setUint32(4, (flags << 24 | payload.length) >>> 0);
  out.set(payload, 8);
  return out;
}

export function dataFrame(streamId: number, flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, streamId & 0x7fffffff);
  dv.setUint32(4, (flags << 24 | data.length) >>> 0);
  out.set(data, 8);
  return out;
}

function u32s(...v: number[]): Uint8Array {
  const b = new Uint8Array(4 * v.length);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint32(4 * i, x >>> 0));
  return b;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
}

/** The uncompressed name/value block. */
export function encodeHeaderBlock(h: SpdyHeaders): Uint8Array {
  const enc = new TextEncoder();
  const entries = Object.entries(h);
  const parts: Uint8Array[] = [u32s(entries.length)];
  for (const [k, vs] of entries) {
    const n = enc.encode(k.toLowerCase()), v = enc.encode(vs.join("\0"));
    parts.push(u32s(n.length), n, u32s(v.length), v);
  }
  return concat(parts);
}

export function decodeHeaderBlock(b: Uint8Array): SpdyHeaders {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const dec = new TextDecoder();
  const out: SpdyHeaders = {};
  let o = 4;
  const n = dv.getUint32(0);
  for (let i = 0; i < n; i++) {
    const nl = dv.getUint32(o);
    const name = dec.decode(b.subarray(o + 4, o + 4 + nl)).toLowerCase();
    o += 4 + nl;
    const vl = dv.getUint32(o);
    const value = dec.decode(b.subarray(o + 4, o + 4 + vl));
    o += 4 + vl;
    (out[name] ??= []).push(...value.split("\0"));
  }
  if (o > b.length) throw new Error("SPDY header block is truncated");
  return out;
}

/** One zlib context (deflate or inflate) used block by block with sync flushes, in order. */
class ZContext {
  #z: zlib.Deflate | zlib.Inflate;
  #chain: Promise<unknown> = Promise.resolve();
  #error: Error | undefined;
  constructor(kind: "deflate" | "inflate") {
    const opts = { dictionary: Buffer.from(SPDY_DICTIONARY) };
    this.#z = kind === "deflate" ? zlib.createDeflate(opts) : zlib.createInflate(opts);
    this.#z.on("error", (e: Error) => this.#error = e);
  }
  run(b: Uint8Array): Promise<Uint8Array> {
    const p = this.#chain.then(() =>
      new Promise<Uint8Array>((resolve, reject) => {
        if (this.#error) return reject(this.#error);
        const chunks: Uint8Array[] = [];
        const on = (c: Uint8Array) => chunks.push(c);
        this.#z.on("data", on);
        this.#z.write(Buffer.from(b));
        this.#z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          this.#z.off("data", on);
          if (this.#error) reject(this.#error);
          else resolve(concat(chunks));
        });
      })
    );
    this.#chain = p.catch(() => undefined); // the failure is this block's; the next sees #error
    return p;
  }
  close(): void {
    this.#z.close();
  }
}

/** One SPDY stream. Read it with `for await` (ends at the peer's FIN, RST or the connection's end). */
export class SpdyStream {
  readonly id: number;
  readonly headers: SpdyHeaders;
  readonly #conn: SpdyConnection;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  /** the peer sent FIN (or RST, or the connection ended) */
  remoteClosed = false;
  /** we sent FIN or RST */
  localClosed = false;
  reset = false;
  #replied: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(conn: SpdyConnection, id: number, headers: SpdyHeaders) {
    this.#conn = conn;
    this.id = id;
    this.headers = headers;
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Server: accept the stream (SYN_REPLY, empty headers, as kubelet). */
  reply(headers: SpdyHeaders = {}): Promise<void> {
    return this.#conn.sendHeaders(SYN_REPLY, u32s(this.id), headers, 0);
  }

  /** Send bytes (DATA frames); resolves when the socket took them. */
  write(data: Uint8Array): Promise<void> {
    if (this.localClosed || !data.length) return Promise.resolve();
    const frames: Uint8Array[] = [];
    for (let o = 0; o < data.length; o += MAX_DATA) {
      frames.push(dataFrame(this.id, 0, data.subarray(o, o + MAX_DATA)));
    }
    return this.#conn.send(concat(frames));
  }

  /** Half-close: DATA with FIN. */
  end(): Promise<void> {
    if (this.localClosed) return Promise.resolve();
    this.localClosed = true;
    return this.#conn.send(dataFrame(this.id, FLAG_FIN, new Uint8Array(0)));
  }

  /** RST_STREAM: both directions end. */
  resetStream(status = RST_CANCEL): Promise<void> {
    this.localClosed = true;
    this.remoteEnded();
    return this.#conn.send(controlFrame(RST_STREAM, 0, u32s(this.id, status)));
  }

  /** @internal */
  pushData(d: Uint8Array): void {
    if (this.remoteClosed) return;
    if (d.length) this.#chunks.push(d);
    this.#wake?.();
  }

  /** @internal */
  remoteEnded(): void {
    this.remoteClosed = true;
    this.#wake?.();
    this.#replied?.reject(new Error(`stream ${this.id} was reset`));
  }

  /** @internal client: wait for SYN_REPLY */
  waitReply(): Promise<void> {
    return new Promise((resolve, reject) => this.#replied = { resolve, reject });
  }

  /** @internal */
  replied(): void {
    this.#replied?.resolve();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const c = this.#chunks.shift();
      if (c) {
        yield c;
        continue;
      }
      if (this.remoteClosed) return;
      await new Promise<void>((r) => this.#wake = r);
      this.#wake = undefined;
    }
  }

  /** Everything until the peer's FIN. */
  async readAll(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const c of this) parts.push(c);
    return concat(parts);
  }
}

/** A SPDY/3.1 session over an (upgraded) socket. */
export class SpdyConnection {
  readonly #sock: Duplex;
  readonly #server: boolean;
  readonly #streams = new Map<number, SpdyStream>();
  readonly #deflate = new ZContext("deflate");
  readonly #inflate = new ZContext("inflate");
  readonly #reader = new FrameReader();
  #out: Promise<void> = Promise.resolve();
  #in: Promise<void> = Promise.resolve();
  #nextId: number;
  #lastPeerId = 0;
  #goneAway = false;
  #closed = false;
  #closedResolve!: () => void;
  /** resolves when the socket is closed */
  readonly closed: Promise<void> = new Promise((r) => this.#closedResolve = r);
  /** server: a stream the peer opened (reply or reset it) */
  onStream: ((s: SpdyStream) => void) | undefined;

  constructor(sock: Duplex, opts: { server: boolean; head?: Uint8Array }) {
    this.#sock = sock;
    this.#server = opts.server;
    this.#nextId = opts.server ? 2 : 1;
    sock.on("data", (b: Uint8Array) => this.#feed(b));
    sock.on("error", () => this.#ended()); // the peer went: the same as its close
    sock.on("close", () => this.#ended());
    // The peer's FIN: spdystream never half-closes a connection, so it is gone (and a
    // command it ran goes too); our end follows.
    sock.on("end", () => {
      this.#ended();
      sock.end();
    });
    if (opts.head?.length) this.#feed(opts.head);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #feed(b: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.#reader.push(b);
    } catch {
      this.#sock.destroy(); // not SPDY/3: nothing sensible can follow
      return;
    }
    for (const f of frames) {
      this.#in = this.#in.then(() => this.#handle(f)).catch(() => {
        this.#sock.destroy(); // a broken header block leaves the zlib context unusable
      });
    }
  }

  async #handle(f: Frame): Promise<void> {
    if (!f.control) {
      const s = this.#streams.get(f.streamId);
      if (!s) return;
      s.pushData(f.data);
      if (f.flags & FLAG_FIN) s.remoteEnded();
      return;
    }
    const p = f.payload;
    const dv = new DataView(p.buffer, p.byteOffset, p.length);
    switch (f.type) {
      case SYN_STREAM: {
        const id = dv.getUint32(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.#inflate.run(p.subarray(10)));
        const peerParity = this.#server ? 1 : 0;
        if (this.#goneAway || id % 2 !== peerParity || id <= this.#lastPeerId) {
          await this.send(controlFrame(RST_STREAM, 0, u32s(id, RST_PROTOCOL_ERROR)));
          return;
        }
        this.#lastPeerId = id;
        const s = new SpdyStream(this, id, headers);
        this.#streams.set(id, s);
        if (f.flags & FLAG_FIN) s.remoteEnded();
        if (this.onStream) this.onStream(s);
        else await s.resetStream(RST_REFUSED_STREAM);
        return;
      }
      case SYN_REPLY:
      case HEADERS: {
        const id = dv.getUint32(0) & 0x7fffffff;
        await this.#inflate.run(p.subarray(4)); // keeps the zlib context in step
        const s = this.#streams.get(id);
        if (f.type === SYN_REPLY) s?.replied();
        if (s && f.flags & FLAG_FIN) s.remoteEnded();
        return;
      }
      case RST_STREAM: {
        const s = this.#streams.get(dv.getUint32(0) & 0x7fffffff);
        if (s) {
          s.reset = true;
          s.localClosed = true;
          s.remoteEnded();
        }
        return;
      }
      case PING: {
        const id = dv.getUint32(0);
        // the peer's ping (its parity) is echoed; ours would be a reply, and we send none
        if (id % 2 === (this.#server ? 1 : 0)) await this.send(controlFrame(PING, 0, p));
        return;
      }
      case GOAWAY:
        this.#goneAway = true;
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE: no flow control here (nor in spdystream)
    }
  }

  /** @internal queue bytes on the socket in order (waits for drain). */
  send(b: Uint8Array): Promise<void> {
    const p = this.#out.then(() => this.#write(b));
    this.#out = p.catch(() => undefined);
    return p;
  }

  #write(b: Uint8Array): Promise<void> {
    if (this.#closed || this.#sock.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.#sock.write(b)) resolve();
      else {
        const done =
          () => (this.#sock.off("close", done), this.#sock.off("drain", done), resolve());
        this.#sock.once("drain", done);
        this.#sock.once("close", done);
      }
    });
  }

  /** @internal a frame with a compressed header block after `prefix`, in send order. */
  sendHeaders(type: number, prefix: Uint8Array, headers: SpdyHeaders, flags: number) {
    const p = this.#out.then(async () => {
      const block = await this.#deflate.run(encodeHeaderBlock(headers));
      await this.#write(controlFrame(type, flags, concat([prefix, block])));
    });
    this.#out = p.catch(() => undefined);
    return p;
  }

  /** Client: open a stream and wait for the peer's SYN_REPLY. */
  async openStream(headers: SpdyHeaders): Promise<SpdyStream> {
    const id = this.#nextId;
    this.#nextId += 2;
    const s = new SpdyStream(this, id, headers);
    this.#streams.set(id, s);
    const replied = s.waitReply();
    // stream id, associated id, priority 0 + slot
    const prefix = concat([u32s(id, 0), new Uint8Array(2)]);
    await this.sendHeaders(SYN_STREAM, prefix, headers, 0);
    await replied;
    return s;
  }

  /** GOAWAY (last stream the peer opened, status OK), then the socket ends once written. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#goneAway = true;
    await this.send(controlFrame(GOAWAY, 0, u32s(this.#lastPeerId, 0)));
    await this.#out;
    this.#sock.end();
  }

  destroy(): void {
    this.#sock.destroy();
    this.#ended();
  }

  #ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#streams.values()) s.remoteEnded();
    this.#deflate.close();
    this.#inflate.close();
    this.#closedResolve();
  }
}
