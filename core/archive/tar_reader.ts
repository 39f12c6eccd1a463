/**
 * Streaming tar reader: headers (ustar, GNU long names, PAX incl. global
 * records and binary xattrs) and bodies pulled straight from the source.
 *
 * @example
 * ```ts ignore
 * import { readTar } from "./tar_reader.ts";
 * for await (const { header, body } of readTar(file.readable)) {
 *   if (header.name === "manifest.json") console.log(await new Response(body).text());
 *   // bodies left unread are skipped automatically
 * }
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { ByteSource } from "./_source.ts";
import { decodeBlock, padding, parsePax, type TarHeader } from "./tar_header.ts";

/** Longest PAX / GNU long-name record we accept (like Go's archive/tar). */
const MAX_META = 1 << 20;
const dec = new TextDecoder();

function applyPax(h: TarHeader, recs: Map<string, Uint8Array>): void {
  for (const [k, v] of recs) {
    if (k.startsWith("SCHILY.xattr.")) {
      h.xattrs.set(k.slice(13), v);
      continue;
    }
    const s = dec.decode(v);
    switch (k) {
      case "path":
        h.name = s;
        break;
      case "linkpath":
        h.linkname = s;
        break;
      case "size":
        h.size = paxInt(k, s);
        break;
      case "uid":
        h.uid = paxInt(k, s);
        break;
      case "gid":
        h.gid = paxInt(k, s);
        break;
      case "uname":
        h.uname = s;
        break;
      case "gname":
        h.gname = s;
        break;
      case "mtime":
        h.mtime = paxTime(k, s);
        break;
      case "atime":
        h.atime = paxTime(k, s);
        break;
      default:
        if (k.startsWith("GNU.sparse.")) {
          throw new InvalidArgument(`tar: ${h.name}: sparse files are not supported`);
        }
        h.pax[k] = s;
    }
  }
}

function paxInt(k: string, s: string): number {
  if (!/^\d{1,16}$/.test(s)) {
    throw new InvalidArgument(`tar: invalid PAX ${k} ${JSON.stringify(s)}`);
  }
  return Number(s);
}

function paxTime(k: string, s: string): number {
  if (!/^-?\d{1,20}(\.\d*)?$/.test(s)) {
    throw new InvalidArgument(`tar: invalid PAX ${k} ${JSON.stringify(s)}`);
  }
  return Number(s);
}

/** Owner and device numbers the kernel can take (chown and mknod would throw a RangeError). */
function checkIds(h: TarHeader): void {
  for (const k of ["uid", "gid", "devmajor", "devminor"] as const) {
    if (!(h[k] >= 0 && h[k] <= 0xffffffff)) {
      throw new InvalidArgument(`tar: ${h.name}: ${k} ${h[k]} out of range`);
    }
  }
}

/**
 * Low-level sequential reader. Call `next()` for each header; the body of the
 * current entry can be read with `body()` (once), and is skipped otherwise.
 */
export class TarReader {
  #src: ByteSource;
  #remaining = 0; // body bytes not yet read
  #pad = 0;
  #global = new Map<string, Uint8Array>();
  #ended = false;

  constructor(src: ByteSource) {
    this.#src = src;
  }

  /** The next entry's header, or null at the end of the archive. */
  async next(): Promise<TarHeader | null> {
    if (this.#ended) return null;
    await this.#skipRest();
    let longName: string | undefined, longLink: string | undefined;
    let pax: Map<string, Uint8Array> | undefined;
    for (;;) {
      const raw = await this.#src.readExact(512);
      if (!raw) {
        // EOF without end-of-archive blocks: tolerated only between entries.
        if (longName !== undefined || longLink !== undefined || pax || this.#src.buffered > 0) {
          throw new InvalidArgument("tar: unexpected end of stream");
        }
        this.#ended = true;
        return null;
      }
      const h = decodeBlock(raw);
      if (!h) {
        this.#ended = true;
        return null;
      }
      if (h.size < 0) throw new InvalidArgument(`tar: ${h.name}: negative size`);
      const f = h.typeflag;
      if (f === "x" || f === "g" || f === "L" || f === "K") {
        if (h.size > MAX_META) throw new InvalidArgument(`tar: ${f} header record too large`);
        const body = await this.#src.readExact(h.size);
        if (!body || !(await this.#src.skip(padding(h.size)))) {
          throw new InvalidArgument("tar: unexpected end of stream");
        }
        if (f === "x") pax = parsePax(body);
        else if (f === "g") { for (const [k, v] of parsePax(body)) this.#global.set(k, v); }
        else {
          const s = dec.decode(body).replace(/\0.*$/s, "");
          if (f === "L") longName = s;
          else longLink = s;
        }
        continue;
      }
      if (f === "S") throw new InvalidArgument(`tar: ${h.name}: sparse files are not supported`);
      if (f === "V") { // volume label: no entry
        await this.#src.skip(h.size + padding(h.size));
        continue;
      }
      if (longName !== undefined) h.name = longName;
      if (longLink !== undefined) h.linkname = longLink;
      if (this.#global.size) applyPax(h, this.#global);
      if (pax) applyPax(h, pax);
      checkIds(h);
      if ("123456".includes(f)) {
        // Header-only types carry no data whatever their size field says (as Go's archive/tar).
        h.size = 0;
        this.#remaining = 0;
        this.#pad = 0;
      } else if (h.type === "file" || h.type === "unknown") {
        this.#remaining = h.size;
        this.#pad = padding(h.size);
      } else { // GNU dumpdir ("D"): skip its listing
        this.#remaining = 0;
        this.#pad = h.size + padding(h.size);
        h.size = 0;
      }
      return h;
    }
  }

  /** Stream the current entry's body as views of the source chunks (max `chunk` bytes each). */
  async *body(chunk = 1 << 20): AsyncGenerator<Uint8Array> {
    while (this.#remaining > 0) {
      const c = await this.#src.readSome(Math.min(chunk, this.#remaining));
      if (!c) throw new InvalidArgument("tar: unexpected end of stream inside an entry");
      this.#remaining -= c.length;
      yield c;
    }
  }

  async #skipRest(): Promise<void> {
    const n = this.#remaining + this.#pad;
    this.#remaining = 0;
    this.#pad = 0;
    if (n > 0 && !(await this.#src.skip(n))) {
      throw new InvalidArgument("tar: unexpected end of stream inside an entry");
    }
  }
}

/**
 * Iterate the entries of an (uncompressed) tar stream. Each body is a
 * ReadableStream over the source; a body not read (fully) before asking for
 * the next entry is skipped.
 */
export async function* readTar(
  s: ReadableStream<Uint8Array>,
): AsyncGenerator<{ header: TarHeader; body: ReadableStream<Uint8Array> }> {
  const src = new ByteSource(s);
  const r = new TarReader(src);
  let ok = false;
  try {
    for (;;) {
      const header = await r.next();
      if (!header) break;
      const it = r.body();
      const body = new ReadableStream<Uint8Array>({
        async pull(ctl) {
          const { value, done } = await it.next();
          if (done) ctl.close();
          else ctl.enqueue(value);
        },
      }, { highWaterMark: 0 });
      yield { header, body };
    }
    await src.drain();
    ok = true;
  } finally {
    if (!ok) await src.cancel();
    src.release();
  }
}
