/**
 * A small DNS message codec (RFC 1035): enough for the embedded DNS server to
 * read queries, build answers (A, PTR, NXDOMAIN, NODATA, SERVFAIL) and for
 * tests to read the answers back. Pure; no I/O.
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeQuery, encodeReply, TYPE_A } from "./packet.ts";
 * const q = decodeMessage(encodeQuery(7, "web", TYPE_A));
 * const r = decodeMessage(encodeReply(q, { answers: [{ type: TYPE_A, ttl: 600, ip: 0x0a000002 }] }));
 * console.assert(r.answers[0].ip === 0x0a000002);
 * ```
 * @module
 */

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const TYPE_OPT = 41;
export const CLASS_IN = 1;

export const RCODE_OK = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_REFUSED = 5;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface Record {
  name?: string;
  type: number;
  class?: number;
  ttl: number;
  /** A: the address */
  ip?: number;
  /** PTR: the target name */
  target?: string;
  /** anything else: raw rdata */
  data?: Uint8Array;
}

export interface Message {
  id: number;
  flags: number;
  qr: boolean;
  opcode: number;
  rd: boolean;
  rcode: number;
  questions: Question[];
  answers: Record[];
}

export class DnsFormatError extends Error {}

/** Longest name on the wire (RFC 1035 2.3.4): bounds the work a message can ask for. */
const MAX_NAME = 255;

/**
 * Labels are read and written byte for byte (one char per byte, like
 * latin1), with "." and "\\" inside a label escaped ("\\.", as dig prints
 * them), so any name a container sends is echoed back exactly and always
 * re-encodes; berth's own names are ASCII.
 */
function readName(b: Uint8Array, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let jumps = 0;
  let size = 1;
  for (;;) {
    if (off >= b.length) throw new DnsFormatError("name past end of message");
    const len = b[off];
    if (len === 0) {
      off++;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= b.length) throw new DnsFormatError("bad pointer");
      if (++jumps > 32) throw new DnsFormatError("pointer loop");
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | b[off + 1];
      continue;
    }
    if (len > 63) throw new DnsFormatError("bad label length");
    if (off + 1 + len > b.length) throw new DnsFormatError("label past end");
    size += 1 + len;
    if (size > MAX_NAME) throw new DnsFormatError("name too long");
    labels.push(escapeLabel(String.fromCharCode(...b.subarray(off + 1, off + 1 + len))));
    off += 1 + len;
  }
  return { name: labels.join("."), next: next < 0 ? off : next };
}

/** Decode a message's header, questions and answers. */
export function decodeMessage(b: Uint8Array): Message {
  if (b.length < 12) throw new DnsFormatError("short message");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = dv.getUint16(2);
  const qd = dv.getUint16(4), an = dv.getUint16(6);
  let off = 12;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const n = readName(b, off);
    off = n.next;
    if (off + 4 > b.length) throw new DnsFormatError("short question");
    questions.push({ name: n.name, type: dv.getUint16(off), class: dv.getUint16(off + 2) });
    off += 4;
  }
  const answers: Record[] = [];
  for (let i = 0; i < an; i++) {
    const n = readName(b, off);
    off = n.next;
    if (off + 10 > b.length) throw new DnsFormatError("short record");
    const type = dv.getUint16(off), cls = dv.getUint16(off + 2), ttl = dv.getUint32(off + 4);
    const rdlen = dv.getUint16(off + 8);
    off += 10;
    if (off + rdlen > b.length) throw new DnsFormatError("short rdata");
    const r: Record = { name: n.name, type, class: cls, ttl };
    if (type === TYPE_A && rdlen === 4) r.ip = dv.getUint32(off);
    else if (type === TYPE_PTR) r.target = readName(b, off).name;
    else r.data = b.slice(off, off + rdlen);
    answers.push(r);
    off += rdlen;
  }
  return {
    id: dv.getUint16(0),
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rd: (flags & 0x0100) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
  };
}

const escapeLabel = (l: string) => l.replace(/[\\.]/g, "\\$&");

/** A name's labels: split at unescaped dots, escapes removed, empty labels dropped. */
function splitName(name: string): string[] {
  const labels: string[] = [];
  let cur = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === "\\" && i + 1 < name.length) cur += name[++i];
    else if (c === ".") {
      if (cur !== "") labels.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur !== "") labels.push(cur);
  return labels;
}

function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new DnsFormatError(`not a DNS label: ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}

class Writer {
  buf = new Uint8Array(512);
  len = 0;
  #names = new Map<string, number>();
  #grow(n: number) {
    if (this.len + n <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }
  u8(v: number) {
    this.#grow(1);
    this.buf[this.len++] = v;
  }
  u16(v: number) {
    this.#grow(2);
    this.buf[this.len++] = (v >> 8) & 255;
    this.buf[this.len++] = v & 255;
  }
  u32(v: number) {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array) {
    this.#grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** A domain name, compressed against names written before. */
  name(name: string) {
    const labels = splitName(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).map(escapeLabel).join(".").toLowerCase();
      const at = this.#names.get(suffix);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.len < 0x3fff) this.#names.set(suffix, this.len);
      const l = latin1(labels[i]);
      if (l.length > 63) throw new DnsFormatError(`label too long: ${labels[i]}`);
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Encode a standard query (RD set). */
export function encodeQuery(id: number, name: string, type: number): Uint8Array {
  const w = new Writer();
  w.u16(id);
  w.u16(0x0100);
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  w.name(name);
  w.u16(type);
  w.u16(CLASS_IN);
  return w.done();
}

/** Encode the reply to `q` (first question echoed; RA set; AA when authoritative). */
export function encodeReply(
  q: Message,
  opts: { rcode?: number; answers?: Record[]; authoritative?: boolean },
): Uint8Array {
  const w = new Writer();
  const question = q.questions[0];
  w.u16(q.id);
  let flags = 0x8000 | (q.opcode << 11) | 0x0080 | (opts.rcode ?? RCODE_OK);
  if (q.rd) flags |= 0x0100;
  if (opts.authoritative) flags |= 0x0400;
  w.u16(flags);
  w.u16(question ? 1 : 0);
  const answers = opts.answers ?? [];
  w.u16(answers.length);
  w.u16(0);
  w.u16(0);
  if (question) {
    w.name(question.name);
    w.u16(question.type);
    w.u16(question.class);
  }
  for (const a of answers) {
    w.name(a.name ?? question?.name ?? "");
    w.u16(a.type);
    w.u16(a.class ?? CLASS_IN);
    w.u32(a.ttl);
    if (a.type === TYPE_A && a.ip !== undefined) {
      w.u16(4);
      w.u32(a.ip);
    } else if (a.type === TYPE_PTR && a.target !== undefined) {
      const lenAt = w.len;
      w.u16(0);
      w.name(a.target);
      const n = w.len - lenAt - 2;
      w.buf[lenAt] = (n >> 8) & 255;
      w.buf[lenAt + 1] = n & 255;
    } else {
      const d = a.data ?? new Uint8Array();
      w.u16(d.length);
      w.bytes(d);
    }
  }
  return w.done();
}

/** Set the bits of a raw message's ID (for forwarding). */
export function withId(b: Uint8Array, id: number): Uint8Array {
  const out = b.slice();
  out[0] = (id >> 8) & 255;
  out[1] = id & 255;
  return out;
}
