/**
 * Splice a hijacked Engine API connection (node Duplex) to a shim stream
 * (Deno unix conn): client stdin → shim (raw, half-close forwarded, detach
 * keys honoured), shim frames → client (Docker frames without a TTY, raw
 * payload with one). A FRAME_EXIT frame (exec) is handed to `onExit` and
 * not forwarded.
 * @module
 */
import type { Duplex } from "node:stream";
import { type ExitInfo, frame, FRAME_EXIT, FrameParser } from "../../../core/shim/protocol.ts";
import { handledElsewhere, peerGone } from "../../../core/errdefs/ignore.ts";

export const DEFAULT_DETACH_KEYS = [0x10, 0x11]; // ctrl-p, ctrl-q

/** Docker's --detach-keys syntax: "ctrl-p,ctrl-q", "a,ctrl-@", … */
export function parseDetachKeys(s: string | null | undefined): number[] {
  if (!s) return DEFAULT_DETACH_KEYS;
  const out: number[] = [];
  for (const k of s.split(",")) {
    const t = k.trim();
    if (t.length === 1) out.push(t.charCodeAt(0));
    else if (/^ctrl-[a-z@[\\\]^_]$/i.test(t)) {
      const c = t[5].toLowerCase();
      const map: Record<string, number> = { "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31 };
      out.push(c in map ? map[c] : c.charCodeAt(0) - 96);
    } else throw new Error(`Invalid detach keys (${s}) provided`);
  }
  return out;
}

/** Scans input for a key sequence; holds back bytes of a partial match. */
export class DetachScanner {
  #keys: number[];
  #held: number[] = [];
  constructor(keys: number[]) {
    this.#keys = keys;
  }
  /** Returns the bytes to forward and whether the sequence was completed. */
  push(chunk: Uint8Array): { out: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      const want = this.#keys[this.#held.length];
      if (b === want) {
        this.#held.push(b);
        if (this.#held.length === this.#keys.length) {
          return { out: new Uint8Array(out), detach: true };
        }
      } else {
        out.push(...this.#held);
        this.#held = [];
        if (b === this.#keys[0]) this.#held.push(b);
        else out.push(b);
      }
    }
    return { out: new Uint8Array(out), detach: false };
  }
}

/**
 * Buffer what a hijacked client sends (and its half-close) from the moment
 * of the hijack until the bridge is set up, so no stdin byte is lost while
 * the daemon talks to the shim.
 */
export class EarlyInput {
  chunks: Uint8Array[] = [];
  ended = false;
  #sock: Duplex;
  #onData = (d: Uint8Array) => void this.chunks.push(d);
  #onEnd = () => void (this.ended = true);
  constructor(sock: Duplex, head?: Uint8Array) {
    this.#sock = sock;
    // A client that vanishes must never crash the daemon (EPIPE, ECONNRESET).
    sock.on("error", () => {});
    if (head?.length) this.chunks.push(head);
    sock.on("data", this.#onData);
    sock.on("end", this.#onEnd);
    sock.resume(); // paused if a body was read off it first (routes/exec.ts)
  }
  /** Stop buffering; the caller takes over the socket's events. */
  release(): { data: Uint8Array; ended: boolean } {
    this.#sock.off("data", this.#onData);
    this.#sock.off("end", this.#onEnd);
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const data = new Uint8Array(n);
    let off = 0;
    for (const c of this.chunks) {
      data.set(c, off);
      off += c.length;
    }
    return { data, ended: this.ended };
  }
}

export interface BridgeOptions {
  tty: boolean;
  /** forward client bytes to the shim */
  stdin: boolean;
  /** what the client sent before the bridge was set up */
  early?: EarlyInput;
  /** bytes that already arrived after the shim's reply line */
  rest?: Uint8Array;
  detachKeys?: number[];
  onExit?: (info: ExitInfo) => void;
  /** called before the client side is ended (e.g. to record an exit code) */
  beforeEnd?: () => Promise<void> | void;
}

function writeSock(sock: Duplex, data: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (sock.destroyed) return resolve();
    if (sock.write(data)) resolve();
    else {
      const done = () => {
        sock.off("drain", done);
        sock.off("close", done);
        resolve();
      };
      sock.once("drain", done);
      sock.once("close", done);
    }
  });
}

/** Run the splice until the shim side ends (or the client detaches / hangs up). */
export function bridge(sock: Duplex, conn: Deno.Conn, o: BridgeOptions): Promise<void> {
  let closed = false;
  const closeConn = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* closed */ }
  };
  // client → shim
  const scanner = o.stdin ? new DetachScanner(o.detachKeys ?? DEFAULT_DETACH_KEYS) : undefined;
  let chain: Promise<void> = Promise.resolve();
  const forward = (chunk: Uint8Array) => {
    if (!scanner || closed) return;
    const { out, detach } = scanner.push(chunk);
    if (out.length) {
      sock.pause();
      chain = chain.then(() => writeConn(conn, out)).catch(handledElsewhere).then(() => {
        sock.resume();
      });
    }
    if (detach) {
      chain.then(() => {
        closeConn();
        sock.end();
      });
    }
  };
  const onEnd = () => {
    if (o.stdin) chain.then(() => conn.closeWrite().catch(peerGone));
  };
  const early = o.early?.release();
  if (early?.data.length) forward(early.data);
  sock.on("data", (d: Uint8Array) => forward(d));
  if (early?.ended) onEnd();
  else sock.on("end", onEnd);
  sock.on("close", closeConn);
  sock.on("error", closeConn);

  // shim → client
  return (async () => {
    const parser = new FrameParser();
    const handle = async (bytes: Uint8Array) => {
      for (const f of parser.push(bytes)) {
        if (f.type === FRAME_EXIT) {
          try {
            o.onExit?.(JSON.parse(new TextDecoder().decode(f.payload)));
          } catch { /* bad frame */ }
          continue;
        }
        await writeSock(sock, o.tty ? f.payload : frame(f.type, f.payload));
      }
    };
    if (o.rest?.length) await handle(o.rest);
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null = null;
      try {
        n = await conn.read(buf);
      } catch { /* closed */ }
      if (n === null) break;
      await handle(buf.subarray(0, n));
    }
    closeConn();
    await o.beforeEnd?.();
    if (!sock.destroyed) sock.end();
  })();
}

async function writeConn(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}
