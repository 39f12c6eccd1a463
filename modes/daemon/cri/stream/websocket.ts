/**
 * Exec and attach over a websocket (RFC 6455, server side), the channel
 * protocols of Kubernetes' wsstream: `v5.channel.k8s.io` (kubectl ≥ 1.30's
 * form), `v4.channel.k8s.io` and `channel.k8s.io`, binary messages whose
 * first byte is the channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4
 * resize). v5 adds the client's half-close of a channel: the message
 * [255, channel]. The base64 text variants are not served. A connection is
 * announced with an empty message on the lowest writable channel, as
 * kubelet does; the end is the error channel's status, then a normal close.
 * @module
 */
import { createHash } from "node:crypto";
import type { Duplex } from "node:stream";
import {
  type Channel,
  type Outcome,
  type RemoteIO,
  runAndReport,
  type Streams,
  V1,
  V4,
  V5,
} from "./remotecommand.ts";
import { concat } from "./spdy.ts";

export const WS_PROTOCOLS = [V5, V4, V1];
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const CLOSE_SIGNAL = 255;
const MAX_MESSAGE = 16 << 20;

/** Sec-WebSocket-Accept for a key. */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** Incremental parser of (client, so masked or not) websocket frames. */
export class WsFrameReader {
  #buf = new Uint8Array(0);
  push(chunk: Uint8Array): WsFrame[] {
    let b = this.#buf.length ? concat([this.#buf, chunk]) : chunk;
    const out: WsFrame[] = [];
    for (;;) {
      if (b.length < 2) break;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f, o = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = (b[2] << 8) | b[3];
        o = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        const big = new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0);
        if (big > BigInt(MAX_MESSAGE)) throw new Error("websocket frame too large");
        len = Number(big);
        o = 10;
      }
      const need = o + (masked ? 4 : 0) + len;
      if (b.length < need) break;
      const payload = b.slice(o + (masked ? 4 : 0), need);
      if (masked) {
        const m = b.subarray(o, o + 4);
        for (let i = 0; i < payload.length; i++) payload[i] ^= m[i & 3];
      }
      out.push({ fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, payload });
      b = b.subarray(need);
    }
    this.#buf = b.length ? b.slice() : new Uint8Array(0);
    return out;
  }
}

/** A server frame (unmasked). */
export function wsFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = n;
  else if (n < 65536) (out[1] = 126, out[2] = n >> 8, out[3] = n & 0xff);
  else (out[1] = 127, new DataView(out.buffer).setBigUint64(2, BigInt(n)));
  out.set(payload, head);
  return out;
}

class WsChannel implements Channel {
  readonly #ws: WsConnection;
  readonly id: number;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  closed = false;
  constructor(ws: WsConnection, id: number) {
    this.#ws = ws;
    this.id = id;
  }
  write(data: Uint8Array): Promise<void> {
    return this.#ws.send(2, concat([new Uint8Array([this.id]), data]));
  }
  end(): Promise<void> {
    return Promise.resolve(); // the connection's close ends every channel for the client
  }
  push(d: Uint8Array): void {
    if (this.closed) return;
    this.#chunks.push(d);
    this.#wake?.();
  }
  close(): void {
    this.closed = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const c = this.#chunks.shift();
      if (c) {
        if (c.length) yield c;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => this.#wake = r);
      this.#wake = undefined;
    }
  }
}

/** A server-side websocket of channels. */
export class WsConnection {
  readonly #sock: Duplex;
  readonly #reader = new WsFrameReader();
  readonly protocol: string;
  readonly channels: WsChannel[] = [0, 1, 2, 3, 4].map((i) => new WsChannel(this, i));
  #parts: Uint8Array[] = [];
  #out: Promise<void> = Promise.resolve();
  #closed = false;
  #closedResolve!: () => void;
  readonly closed: Promise<void> = new Promise((r) => this.#closedResolve = r);

  constructor(sock: Duplex, protocol: string, head?: Uint8Array) {
    this.#sock = sock;
    this.protocol = protocol;
    sock.on("data", (b: Uint8Array) => this.#feed(b));
    sock.on("error", () => this.#ended()); // the peer went: the same as its close
    sock.on("close", () => this.#ended());
    sock.on("end", () => (this.#ended(), sock.end())); // the client's FIN: it is gone
    if (head?.length) this.#feed(head);
  }

  #feed(b: Uint8Array): void {
    let frames: WsFrame[];
    try {
      frames = this.#reader.push(b);
    } catch {
      this.#sock.destroy(); // an oversized frame: not a client of ours
      return;
    }
    for (const f of frames) {
      if (f.opcode === 8) {
        this.send(8, f.payload.subarray(0, 2)).then(() => this.#sock.end());
        for (const c of this.channels) c.close();
        continue;
      }
      if (f.opcode === 9) {
        this.send(10, f.payload);
        continue;
      }
      if (f.opcode === 10) continue;
      this.#parts.push(f.payload);
      if (!f.fin) continue;
      const msg = concat(this.#parts);
      this.#parts = [];
      if (!msg.length) continue;
      if (msg[0] === CLOSE_SIGNAL && this.protocol === V5) {
        if (msg.length > 1) this.channels[msg[1]]?.close();
        continue;
      }
      this.channels[msg[0]]?.push(msg.subarray(1));
    }
  }

  send(opcode: number, payload: Uint8Array): Promise<void> {
    const p = this.#out.then(() =>
      new Promise<void>((resolve) => {
        if (this.#closed || this.#sock.destroyed) return resolve();
        if (this.#sock.write(wsFrame(opcode, payload))) resolve();
        else {
          const done =
            () => (this.#sock.off("close", done), this.#sock.off("drain", done), resolve());
          this.#sock.once("drain", done);
          this.#sock.once("close", done);
        }
      })
    );
    this.#out = p.catch(() => undefined);
    return p;
  }

  /** The streams of a command as remotecommand.ts wants them. */
  streams(o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): Streams {
    const [stdin, stdout, stderr, error, resize] = this.channels;
    return {
      error,
      stdin: o.stdin ? stdin : undefined,
      stdout: o.stdout ? stdout : undefined,
      stderr: o.stderr ? stderr : undefined,
      resize: o.tty ? resize : undefined,
    };
  }

  /** A normal close (1000), then the socket ends. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.send(8, new Uint8Array([0x03, 0xe8]));
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
    for (const c of this.channels) c.close();
    this.#closedResolve();
  }
}

/**
 * The 101 reply of a websocket upgrade choosing the first of the client's
 * subprotocols we speak, or the reason it cannot be one.
 */
export function wsHandshake(
  headers: Record<string, string | string[] | undefined>,
  ours: string[],
): { response: string; protocol: string } | { error: string } {
  const key = String(headers["sec-websocket-key"] ?? "");
  if (!key) return { error: "missing Sec-WebSocket-Key" };
  const offered = String(headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim())
    .filter(Boolean);
  const protocol = offered.find((p) => ours.includes(p));
  if (!protocol) {
    return {
      error: `unable to upgrade: unable to negotiate protocol: client supports [${
        offered.join(" ")
      }], server accepts [${ours.join(" ")}]`,
    };
  }
  return {
    protocol,
    response: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  };
}

/** Exec/attach on a websocket: announce, run, report on the error channel (then the server closes). */
export async function serveRemoteCommandWs(
  ws: WsConnection,
  opts: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  run: (io: RemoteIO) => Promise<Outcome>,
): Promise<void> {
  const streams = ws.streams({ ...opts, tty: opts.tty && ws.protocol !== V1 });
  // kubelet's "connection established": an empty message on the lowest writable channel
  await (streams.stdout ?? streams.stderr ?? streams.error).write(new Uint8Array(0));
  const gone = new AbortController();
  ws.closed.then(() => gone.abort());
  await runAndReport(streams, ws.protocol, gone.signal, run);
}
