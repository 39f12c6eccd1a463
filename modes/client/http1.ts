/**
 * One buffered HTTP/1.1 exchange over a fresh connection, for the client's
 * plain JSON calls (create, start, inspect, ps …). `fetch` with a unix
 * proxy costs a CLI process ≈ 5 ms of CPU (HTTP client set-up, the fetch and
 * stream machinery); a CLI makes one or two calls and exits, so these go
 * over a bare connection. Streaming responses (logs, events, pull progress)
 * still use `fetch` (api.ts request()).
 *
 * Handles what an Engine API server sends: Content-Length, chunked, or a
 * body delimited by the end of the connection (we ask for `Connection:
 * close`), and bodiless statuses (1xx, 204, 304, HEAD).
 * @module
 */

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

import { concatBytes } from "../../core/bytes.ts";
import type { Conn } from "./dial.ts";

const enc = new TextEncoder();

/**
 * Send one request on a fresh connection (to the unix socket `to`, or from
 * `to()`: ./dial.ts) and read the whole response.
 */
export async function http1(
  to: string | (() => Promise<Conn>),
  method: string,
  target: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<RawResponse> {
  const conn = typeof to === "string"
    ? await Deno.connect({ transport: "unix", path: to })
    : await to();
  try {
    let head = `${method} ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (body || method === "POST" || method === "PUT") {
      head += `Content-Length: ${body?.length ?? 0}\r\n`;
    }
    const h = enc.encode(head + "\r\n");
    const req = body?.length ? concatBytes(h, body) : h;
    for (let off = 0; off < req.length;) off += await conn.write(req.subarray(off));
    return await readResponse(conn, method);
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Parse one response from `r` (exported for tests). */
export async function readResponse(r: Reader, method = "GET"): Promise<RawResponse> {
  const { status, headers, rd } = await readHead(r);
  return { status, headers, body: await readBody(rd, status, headers, method) };
}

/**
 * The status line and headers of a response; `rd` holds what was read past
 * them (the body, or a hijacked stream's first bytes: `rd.buffered()`).
 */
export async function readHead(
  r: Reader,
): Promise<{ status: number; headers: Map<string, string>; rd: Buffered }> {
  const rd = new Buffered(r);
  const statusLine = await rd.line();
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "");
  if (!m) throw new Error(`bad HTTP response from the daemon: ${JSON.stringify(statusLine)}`);
  const status = Number(m[1]);
  const headers = new Map<string, string>();
  for (;;) {
    const l = await rd.line();
    if (l === null) throw new Error("daemon closed the connection in the response headers");
    if (l === "") break;
    const i = l.indexOf(":");
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { status, headers, rd };
}

/** The body after `readHead`: Content-Length, chunked, or up to the end of the connection. */
export async function readBody(
  rd: Buffered,
  status: number,
  headers: Map<string, string>,
  method = "GET",
): Promise<Uint8Array> {
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) {
    return new Uint8Array(0);
  }
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const parts: Uint8Array[] = [];
    for (;;) {
      const size = parseInt((await rd.line()) ?? "", 16);
      if (!(size >= 0)) throw new Error("bad chunked encoding from the daemon");
      if (size === 0) break;
      parts.push(await rd.exactly(size));
      await rd.line(); // the CRLF after the chunk
    }
    return concatBytes(...parts);
  }
  const cl = headers.get("content-length");
  if (cl !== undefined) {
    // (Number() would take "", "1e3", "-5" or "0x10"; NaN or a negative read a wrong body)
    if (!/^\d{1,15}$/.test(cl)) {
      throw new Error(`bad Content-Length from the daemon: ${JSON.stringify(cl)}`);
    }
    return await rd.exactly(Number(cl));
  }
  return await rd.rest();
}

/** What a response is read from (a Deno.Conn, or a test double). */
export interface Reader {
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * A reader with a buffer: lines, exact lengths, the rest. The buffer grows by
 * doubling and is read in place (start/end offsets), so reading an n-byte
 * body costs O(n), however small the reads are.
 */
export class Buffered {
  #r: Reader;
  #buf: Uint8Array = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  #eof = false;
  constructor(r: Reader) {
    this.#r = r;
  }

  /** Room for at least `n` more bytes after #end (compacting or doubling). */
  #reserve(n: number): void {
    if (this.#buf.length - this.#end >= n) return;
    const live = this.#end - this.#start;
    if (this.#start > 0 && this.#buf.length - live >= n && live <= this.#buf.length / 2) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      let size = this.#buf.length * 2;
      while (size - live < n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = live;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#end === this.#buf.length) this.#reserve(16 * 1024);
    const n = await this.#r.read(this.#buf.subarray(this.#end));
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }

  /** A line without its CRLF, or null at the end. */
  async line(): Promise<string | null> {
    let from = this.#start;
    for (;;) {
      const i = this.#buf.subarray(from, this.#end).indexOf(10);
      if (i >= 0) {
        const nl = from + i;
        const end = nl > this.#start && this.#buf[nl - 1] === 13 ? nl - 1 : nl;
        const s = new TextDecoder().decode(this.#buf.subarray(this.#start, end));
        this.#start = nl + 1;
        return s;
      }
      from = this.#end;
      const before = this.#start;
      if (!await this.#fill()) return null;
      from -= before - this.#start; // the buffer may have moved
    }
  }

  async exactly(n: number): Promise<Uint8Array> {
    // no reserving `n` up front: a length from the wire may be absurd; doubling is linear too
    while (this.#end - this.#start < n) {
      if (!await this.#fill()) throw new Error("daemon closed the connection in the response body");
    }
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** What was read from the reader but not consumed yet. */
  buffered(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  async rest(): Promise<Uint8Array> {
    while (await this.#fill()) { /* until EOF */ }
    const out = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end;
    return out;
  }
}
