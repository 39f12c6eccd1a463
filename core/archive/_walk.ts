/**
 * Directory → tar entries: a sorted depth-first walk, headers from lstat
 * (hardlinks, xattrs, devices), file bodies read in large chunks, and small
 * chunks coalesced so many tiny files don't cost one stream chunk each.
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { lgetxattrs, splitDev } from "../sys/libc_fs.ts";
import { encodeHeader, padding, type TarHeaderInit } from "./tar_header.ts";
import { isOverlayXattr } from "./whiteout.ts";

/** true: include (and descend); false: skip (a dir with its subtree); "descend": omit but visit children. */
export type Filter = (rel: string) => boolean | "descend";

export interface WalkItem {
  rel: string;
  abs: string;
  st: Deno.FileInfo;
}

function byName(a: Deno.DirEntry, b: Deno.DirEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Depth-first, sorted walk below `root/start` (start itself included unless ""). */
export function* walk(root: string, start: string, filter?: Filter): Generator<WalkItem> {
  const abs = start === "" ? root : `${root}/${start}`;
  const st = Deno.lstatSync(abs);
  const verdict = start === "" ? "descend" : filter ? filter(start) : true;
  if (verdict === false) return;
  if (verdict === true) yield { rel: start, abs, st };
  if (!st.isDirectory) return;
  const kids = [...Deno.readDirSync(abs)].sort(byName);
  for (const k of kids) yield* walk(root, start === "" ? k.name : `${start}/${k.name}`, filter);
}

/** Builds tar headers from lstat results; remembers inodes to emit hardlinks. */
export class HeaderMaker {
  #inodes = new Map<string, string>();

  header(item: WalkItem): TarHeaderInit | null {
    const { st, rel, abs } = item;
    const h: TarHeaderInit = {
      name: rel,
      type: "file",
      mode: (st.mode ?? 0o644) & 0o7777,
      uid: st.uid ?? 0,
      gid: st.gid ?? 0,
      mtime: Math.floor((st.mtime?.getTime() ?? 0) / 1000),
    };
    if (st.isSocket) return null; // cannot be archived (Docker skips them too)
    if (!st.isDirectory && (st.nlink ?? 1) > 1 && st.ino !== null) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#inodes.get(key);
      if (first !== undefined) return { ...h, type: "link", linkname: first, size: 0 };
      this.#inodes.set(key, rel);
    }
    if (st.isDirectory) h.type = "dir";
    else if (st.isSymlink) {
      h.type = "symlink";
      h.linkname = Deno.readLinkSync(abs);
    } else if (st.isCharDevice || st.isBlockDevice) {
      h.type = st.isCharDevice ? "char" : "block";
      const d = splitDev(st.rdev ?? 0);
      h.devmajor = d.major;
      h.devminor = d.minor;
    } else if (st.isFifo) h.type = "fifo";
    else h.size = st.size;
    const xattrs = new Map<string, Uint8Array>();
    for (const [k, v] of lgetxattrs(abs)) if (!isOverlayXattr(k)) xattrs.set(k, v);
    if (xattrs.size) h.xattrs = xattrs;
    return h;
  }
}

const READ_CHUNK = 1 << 20;

/** Exactly `size` bytes of a file (fails if it changed size meanwhile), then padding. */
export async function* fileBody(
  abs: string,
  size: number,
  name: string,
): AsyncGenerator<Uint8Array> {
  const f = await Deno.open(abs, { read: true });
  try {
    let left = size;
    while (left > 0) {
      const buf = new Uint8Array(Math.min(READ_CHUNK, left));
      let got = 0;
      while (got < buf.length) {
        const n = await f.read(buf.subarray(got));
        if (n === null) throw new InvalidArgument(`${name}: file shrank while being archived`);
        got += n;
      }
      left -= got;
      yield buf;
    }
    if ((await f.read(new Uint8Array(1))) !== null) {
      throw new InvalidArgument(`${name}: file grew while being archived`);
    }
  } finally {
    f.close();
  }
  const pad = padding(size);
  if (pad) yield new Uint8Array(pad);
}

/** Header blocks (and a file's body) for one header. */
export async function* entryBytes(h: TarHeaderInit, abs?: string): AsyncGenerator<Uint8Array> {
  yield encodeHeader(h);
  if (h.type === "file" && (h.size ?? 0) > 0 && abs) yield* fileBody(abs, h.size!, h.name);
}

const SMALL = 64 * 1024;

/** A tar ReadableStream: the generated chunks (small ones merged up to 64 KiB), then the end-of-archive blocks. */
export function tarStream(gen: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  async function* merged(): AsyncGenerator<Uint8Array> {
    let parts: Uint8Array[] = [];
    let n = 0;
    const flush = () => {
      const out = new Uint8Array(n);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      parts = [];
      n = 0;
      return out;
    };
    for await (const c of gen) {
      if (c.length >= SMALL) {
        if (n) yield flush();
        yield c;
        continue;
      }
      parts.push(c);
      n += c.length;
      if (n >= SMALL) yield flush();
    }
    yield* [...(n ? [flush()] : []), new Uint8Array(1024)];
  }
  return ReadableStream.from(merged());
}
