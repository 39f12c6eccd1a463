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
  /** overlayfs xattrs of the last item given to header() (they never go into the tar). */
  overlayXattrs = new Map<string, Uint8Array>();

  header(item: WalkItem): TarHeaderInit | null {
    const { st, rel, abs } = item;
    this.overlayXattrs = new Map();
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
    for (const [k, v] of lgetxattrs(abs)) {
      (isOverlayXattr(k) ? this.overlayXattrs : xattrs).set(k, v);
    }
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
        const n = f.readSync(buf.subarray(got));
        if (n === null) throw new InvalidArgument(`${name}: file shrank while being archived`);
        got += n;
      }
      left -= got;
      yield buf;
    }
    if (f.readSync(new Uint8Array(1)) !== null) {
      throw new InvalidArgument(`${name}: file grew while being archived`);
    }
  } finally {
    f.close();
  }
  const pad = padding(size);
  if (pad) yield new Uint8Array(pad);
}

const SMALL = 64 * 1024;
const SMALL_FILE = 1 << 20;

/** An entry to archive: its header and, for a regular file, the path to read the body from. */
export type Entry = [TarHeaderInit, string?];

function readSmall(abs: string, size: number, name: string): Uint8Array {
  const f = Deno.openSync(abs, { read: true });
  try {
    const buf = new Uint8Array(size + padding(size));
    let got = 0;
    while (got < size) {
      const n = f.readSync(buf.subarray(got, size));
      if (n === null) throw new InvalidArgument(`${name}: file shrank while being archived`);
      got += n;
    }
    if (f.readSync(new Uint8Array(1)) !== null) {
      throw new InvalidArgument(`${name}: file grew while being archived`);
    }
    return buf;
  } finally {
    f.close();
  }
}

/**
 * A tar stream from a synchronous generator of entries, then the end-of-archive
 * blocks. Headers and small files are gathered into ~64 KiB chunks (one stream
 * chunk per many tiny files); big files stream in 1 MiB reads.
 */
export function tarStream(entries: Generator<Entry>): ReadableStream<Uint8Array> {
  async function* gen(): AsyncGenerator<Uint8Array> {
    let parts: Uint8Array[] = [];
    let n = 0;
    const push = (c: Uint8Array) => {
      parts.push(c);
      n += c.length;
    };
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
    for (const [h, abs] of entries) {
      push(encodeHeader(h));
      const size = h.type === "file" ? h.size ?? 0 : 0;
      if (size > 0 && abs) {
        if (size <= SMALL_FILE) push(readSmall(abs, size, h.name));
        else {
          yield flush();
          yield* fileBody(abs, size, h.name);
        }
      }
      if (n >= SMALL) yield flush();
    }
    push(new Uint8Array(1024));
    yield flush();
  }
  return ReadableStream.from(gen());
}
