/**
 * The tar header model and its 512-byte block codec (ustar, GNU and PAX).
 *
 * Our own codec rather than tar-stream's because layer tars need what it
 * lacks: binary-safe PAX values (`SCHILY.xattr.security.capability` is raw
 * bytes), ids above 262143, PAX uid/gid/size/mtime overrides, base-256 numbers.
 *
 * @example
 * ```ts
 * import { encodeHeader, decodeBlock } from "./tar_header.ts";
 * const blocks = encodeHeader({ name: "a.txt", type: "file", size: 3 });
 * console.assert(decodeBlock(blocks.subarray(0, 512))!.name === "a.txt");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";

export type TarEntryType =
  | "file"
  | "link"
  | "symlink"
  | "char"
  | "block"
  | "dir"
  | "fifo"
  | "unknown";

/** One tar entry's metadata, after PAX / GNU long-name records are applied. */
export interface TarHeader {
  /** Path as stored (not cleaned): dirs may end in "/", may start with "./". */
  name: string;
  type: TarEntryType;
  /** The raw typeflag character (useful for "unknown"). */
  typeflag: string;
  /** Body size in bytes (0 for everything but files). */
  size: number;
  /** Permission bits incl. setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Seconds since the epoch; fractional when PAX gave sub-second precision. */
  mtime: number;
  /** PAX atime (seconds), when present. */
  atime?: number;
  /** Symlink target or hardlink target path ("" when none). */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` records (raw bytes). */
  xattrs: Map<string, Uint8Array>;
  /** Every other PAX record (as UTF-8 text). */
  pax: Record<string, string>;
}

/** What {@link encodeHeader} needs; everything but name and type defaults. */
export type TarHeaderInit =
  & Pick<TarHeader, "name" | "type">
  & Partial<Omit<TarHeader, "name" | "type" | "typeflag" | "xattrs" | "pax">>
  & { xattrs?: Map<string, Uint8Array>; pax?: Record<string, string> };

const TYPE_OF_FLAG: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "link",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "D": "dir",
  "6": "fifo",
};
const FLAG_OF_TYPE: Record<TarEntryType, string> = {
  file: "0",
  link: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
  unknown: "0",
};

const dec = new TextDecoder();
const enc = new TextEncoder();

function str(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return dec.decode(b.subarray(off, end));
}

function num(b: Uint8Array, off: number, len: number, field: string): number {
  if (b[off] & 0x80) { // base-256 (GNU): 0x80 positive, 0xff negative
    const neg = b[off] === 0xff;
    let v = 0;
    for (let i = off; i < off + len; i++) {
      const byte = i === off ? (b[i] & 0x7f) : b[i];
      v = v * 256 + (neg ? 0xff - byte : byte);
    }
    // (beyond 2^53 a number would not even read back the same; Go stops at int64)
    if (v > Number.MAX_SAFE_INTEGER) throw new InvalidArgument(`tar: ${field} field too large`);
    return neg ? -(v + 1) : v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw new InvalidArgument(`tar: invalid number in ${field} field`);
    v = v * 8 + (c - 0x30);
  }
  return v;
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Decode one raw 512-byte header block. Returns null for an all-zero block
 * (end of archive). PAX/GNU records are not applied here (see tar_reader.ts).
 */
export function decodeBlock(b: Uint8Array): TarHeader | null {
  if (isZero(b)) return null;
  let sum = 0, ssum = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i];
    sum += c;
    ssum += c > 127 ? c - 256 : c;
  }
  const want = num(b, 148, 8, "checksum");
  if (want !== sum && want !== ssum) {
    throw new InvalidArgument("tar: invalid header checksum (corrupt or not a tar stream)");
  }
  const typeflag = String.fromCharCode(b[156]);
  let name = str(b, 0, 100);
  const ustar = b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 &&
    b[261] === 0x72;
  const posix = ustar && b[262] === 0; // "ustar\0" (GNU uses "ustar  \0", no prefix field)
  if (posix && b[345] !== 0) name = str(b, 345, 155) + "/" + name;
  let type: TarEntryType = TYPE_OF_FLAG[typeflag] ?? "unknown";
  if (type === "file" && typeflag !== "7" && name.endsWith("/")) type = "dir"; // old V7 tars
  return {
    name,
    type,
    typeflag,
    size: num(b, 124, 12, "size"),
    mode: num(b, 100, 8, "mode") & 0o7777,
    uid: num(b, 108, 8, "uid"),
    gid: num(b, 116, 8, "gid"),
    uname: ustar ? str(b, 265, 32) : "",
    gname: ustar ? str(b, 297, 32) : "",
    mtime: num(b, 136, 12, "mtime"),
    linkname: str(b, 157, 100),
    devmajor: ustar ? num(b, 329, 8, "devmajor") : 0,
    devminor: ustar ? num(b, 337, 8, "devminor") : 0,
    xattrs: new Map(),
    pax: {},
  };
}

/** Parse PAX extended header records ("LEN key=value\n"), binary-safe. */
export function parsePax(b: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let off = 0;
  while (off < b.length) {
    if (b[off] === 0) break; // NUL padding
    let sp = off;
    let len = 0;
    while (sp < b.length && b[sp] >= 0x30 && b[sp] <= 0x39) len = len * 10 + b[sp++] - 0x30;
    if (sp >= b.length || b[sp] !== 0x20 || len <= sp - off || off + len > b.length) {
      throw new InvalidArgument("tar: malformed PAX header record");
    }
    const rec = b.subarray(sp + 1, off + len);
    if (rec[rec.length - 1] !== 0x0a) throw new InvalidArgument("tar: malformed PAX header record");
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new InvalidArgument("tar: malformed PAX header record");
    out.set(dec.decode(rec.subarray(0, eq)), rec.slice(eq + 1, rec.length - 1));
    off += len;
  }
  return out;
}

function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = enc.encode(` ${key}=`).length + value.length + 1;
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  const head = enc.encode(`${len} ${key}=`);
  const out = new Uint8Array(len);
  out.set(head);
  out.set(value, head.length);
  out[len - 1] = 0x0a;
  return out;
}

function putStr(b: Uint8Array, off: number, len: number, s: string): boolean {
  if (s.length <= len && ASCII.test(s)) { // fast path, no allocation
    for (let i = 0; i < s.length; i++) b[off + i] = s.charCodeAt(i);
    return true;
  }
  const bytes = enc.encode(s);
  if (bytes.length > len) return false;
  b.set(bytes, off);
  return true;
}

function putOct(b: Uint8Array, off: number, len: number, v: number): boolean {
  if (!Number.isInteger(v) || v < 0) return false;
  let x = v;
  for (let i = off + len - 2; i >= off; i--) {
    b[i] = 0x30 + (x % 8);
    x = Math.floor(x / 8);
  }
  return x === 0;
}

function putBase256(b: Uint8Array, off: number, len: number, v: number): void {
  let x = v;
  for (let i = off + len - 1; i > off; i--) {
    b[i] = x % 256;
    x = Math.floor(x / 256);
  }
  b[off] = 0x80;
}

// deno-lint-ignore no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

function block(h: TarHeaderInit, name: string, prefix: string, typeflag: string, size: number) {
  const b = new Uint8Array(512);
  putStr(b, 0, 100, name);
  putOct(b, 100, 8, (h.mode ?? (h.type === "dir" ? 0o755 : 0o644)) & 0o7777);
  const mtime = Math.max(0, Math.floor(h.mtime ?? 0));
  if (!putOct(b, 108, 8, h.uid ?? 0)) putBase256(b, 108, 8, h.uid ?? 0);
  if (!putOct(b, 116, 8, h.gid ?? 0)) putBase256(b, 116, 8, h.gid ?? 0);
  if (!putOct(b, 124, 12, size)) putBase256(b, 124, 12, size);
  if (!putOct(b, 136, 12, mtime)) putBase256(b, 136, 12, mtime);
  b[156] = typeflag.charCodeAt(0);
  putStr(b, 157, 100, h.linkname ?? "");
  b.set([0x75, 0x73, 0x74, 0x61, 0x72, 0, 0x30, 0x30], 257); // "ustar\0" "00"
  putStr(b, 265, 32, h.uname ?? "");
  putStr(b, 297, 32, h.gname ?? "");
  if (!putOct(b, 329, 8, h.devmajor ?? 0)) putBase256(b, 329, 8, h.devmajor ?? 0);
  if (!putOct(b, 337, 8, h.devminor ?? 0)) putBase256(b, 337, 8, h.devminor ?? 0);
  putStr(b, 345, 155, prefix);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  putStr(b, 148, 7, sum.toString(8).padStart(6, "0") + "\0");
  return b;
}

/** Split a name into ustar prefix (≤155) + name (≤100), or null. */
function splitUstar(name: string): [string, string] | null {
  if (name.length <= 100) return ["", name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const p = name.slice(0, i), n = name.slice(i + 1);
    if (n.length > 100) return null;
    if (p.length <= 155 && n.length > 0) return [p, n];
  }
  return null;
}

const MAX_OCTAL_ID = 0o7777777;
const MAX_OCTAL_SIZE = 0o77777777777;

/**
 * Encode a header as ustar, preceded by a PAX header when needed (long or
 * non-ASCII names, big ids/sizes, xattrs, extra records). Directory names get
 * a trailing "/". Returns the blocks (multiple of 512 bytes).
 */
export function encodeHeader(h: TarHeaderInit): Uint8Array {
  let name = h.name;
  if (h.type === "dir" && !name.endsWith("/")) name += "/";
  const size = h.type === "file" ? h.size ?? 0 : 0;
  const linkname = h.linkname ?? "";
  const recs: Uint8Array[] = [];
  const split = ASCII.test(name) ? splitUstar(name) : null;
  if (!split) recs.push(paxRecord("path", enc.encode(name)));
  if (!ASCII.test(linkname) || linkname.length > 100) {
    recs.push(paxRecord("linkpath", enc.encode(linkname)));
  }
  for (const k of ["uname", "gname"] as const) {
    const v = enc.encode(h[k] ?? "");
    if (v.length > 32) recs.push(paxRecord(k, v)); // else lost (the ustar field holds 32)
  }
  if ((h.uid ?? 0) > MAX_OCTAL_ID) recs.push(paxRecord("uid", enc.encode(String(h.uid))));
  if ((h.gid ?? 0) > MAX_OCTAL_ID) recs.push(paxRecord("gid", enc.encode(String(h.gid))));
  if (size > MAX_OCTAL_SIZE) recs.push(paxRecord("size", enc.encode(String(size))));
  for (const [k, v] of Object.entries(h.pax ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    recs.push(paxRecord(k, enc.encode(v)));
  }
  const xattrs = [...(h.xattrs ?? new Map()).entries()].sort(([a], [b]) => a < b ? -1 : 1);
  for (const [k, v] of xattrs) recs.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const [prefix, short] = split ?? ["", asciiTail(name, 100)];
  const main = block(
    { ...h, linkname: linkname.length <= 100 && ASCII.test(linkname) ? linkname : "" },
    short,
    prefix,
    FLAG_OF_TYPE[h.type],
    size,
  );
  if (recs.length === 0) return main;
  const paxLen = recs.reduce((n, r) => n + r.length, 0);
  const base = name.replace(/\/+$/, "").split("/").pop() ?? "";
  const paxName = asciiTail(`PaxHeaders.0/${base}`, 100);
  const padded = Math.ceil(paxLen / 512) * 512;
  const out = new Uint8Array(512 + padded + 512);
  out.set(block({ ...h, linkname: "" }, paxName, "", "x", paxLen));
  let off = 512;
  for (const r of recs) {
    out.set(r, off);
    off += r.length;
  }
  out.set(main, 512 + padded);
  return out;
}

function asciiTail(s: string, max: number): string {
  // deno-lint-ignore no-control-regex
  const a = s.replace(/[^\x00-\x7f]/g, "_");
  return a.length <= max ? a : a.slice(a.length - max);
}

/** Zero padding needed after a body of `size` bytes. */
export function padding(size: number): number {
  const r = size % 512;
  return r === 0 ? 0 : 512 - r;
}
