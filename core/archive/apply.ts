/**
 * Apply a layer tar into a directory, safely and in one streaming pass,
 * computing its diffID (sha256 of the uncompressed tar) on the way.
 * Rules (see docs/archive.md): nothing is ever written outside `dest`.
 *
 * @example
 * ```ts ignore
 * import { applyLayer } from "./apply.ts";
 * const f = await Deno.open("layer.tar.gz");
 * const { diffID } = await applyLayer(f.readable, "/var/lib/berth/layers/x", {
 *   whiteouts: "overlay",
 *   maxBytes: 8 << 30,
 * });
 * ```
 * @module
 */
import fs from "node:fs";
import { BerthError, InvalidArgument } from "../errdefs/mod.ts";
import { Hasher } from "../oci/digest.ts";
import { ErrnoError, lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../sys/libc_fs.ts";
import { ByteSource } from "./_source.ts";
import { cleanName, Confined, refuse } from "./_confine.ts";
import { decompressStream } from "./compress.ts";
import type { TarHeader } from "./tar_header.ts";
import { TarReader } from "./tar_reader.ts";
import { isOverlayXattr, OPAQUE, WH_META_PREFIX, WH_PREFIX } from "./whiteout.ts";
import { peerGone } from "../errdefs/ignore.ts";

export interface ApplyOptions {
  /** "overlay": OCI whiteouts become overlay whiteouts (0/0 char dev, trusted.overlay.opaque=y)
   *  — for layer dirs used as overlay lowers. "delete" (default): whiteouts delete their
   *  target in dest (applying on top of a plain copy). */
  whiteouts?: "overlay" | "delete";
  /** Abort (InvalidArgument) when the uncompressed stream exceeds this many bytes. */
  maxBytes?: number;
  /** Keep uid/gid from the tar (default true); false leaves files owned by the caller. */
  preserveOwners?: boolean;
  /** Told about things skipped but not fatal (an xattr the file system refused). */
  onWarning?: (message: string) => void;
  /** Docker's `cp` extraction (PUT /containers/{id}/archive) instead of layer rules. */
  copy?: CopyOptions;
}

/**
 * Extraction rules of `docker cp`: a leading "/" in names is dropped, `.wh.` names are plain
 * files, and every name and hardlink target is placed under `under` (real, already resolved
 * components below dest), so parents resolve chroot-style from dest, as Docker's chrooted untar.
 */
export interface CopyOptions {
  under: string[];
  /** Refuse to replace a directory by a non-directory and the reverse (Docker's flag). */
  noOverwriteDirNonDir?: boolean;
  /** Owner of everything written, instead of the tar's (`docker cp -a` with a container user). */
  owner?: { uid: number; gid: number };
  /** How to show a real relative path in errors (the container path). */
  show?: (rel: string) => string;
  /** Rename each entry (and hardlink target) first: `docker cp`'s rebasing, without a re-tar. */
  rename?: (name: string) => string;
}

const WRITE_BUF = 1 << 20;

class Applier {
  #fs: Confined;
  #opts: ApplyOptions;
  #mode: "overlay" | "delete";
  #created = new Set<string>();
  #dirTimes: [string, number, number][] = [];
  #buf = new Uint8Array(WRITE_BUF);

  constructor(root: string, opts: ApplyOptions) {
    this.#fs = new Confined(root);
    this.#fs.onCreate = (rel) => this.#created.add(rel);
    this.#opts = opts;
    this.#mode = opts.whiteouts ?? "delete";
  }

  #names(name: string, what?: string): string[] {
    const c = this.#opts.copy;
    if (!c) return cleanName(name, what);
    const n = c.rename ? c.rename(name) : name;
    return [...c.under, ...cleanName(n.replace(/^\/+/, ""), what)];
  }

  entry(h: TarHeader, r: TarReader): Promise<void> | void {
    const parts = this.#names(h.name);
    if (this.#opts.copy) return this.#place(h, r, parts);
    for (let i = 0; i < parts.length - 1; i++) {
      if (parts[i].startsWith(WH_META_PREFIX)) return; // aufs metadata dirs (.wh..wh.plnk/…)
      if (parts[i].startsWith(WH_PREFIX)) {
        throw refuse("entry", h.name, "whiteout used as a directory");
      }
    }
    const base = parts.at(-1) ?? "";
    const parent = parts.slice(0, -1);
    if (base.startsWith(WH_PREFIX)) return this.#whiteout(h, parent, base);
    return this.#place(h, r, parts);
  }

  async #place(h: TarHeader, r: TarReader, parts: string[]): Promise<void> {
    const base = parts.at(-1) ?? "";
    const parent = parts.slice(0, -1);
    if (parts.length === 0) {
      if (h.type !== "dir") {
        throw refuse("entry", h.name, "only a directory may stand for the root");
      }
      return this.#meta(this.#fs.root, h, false);
    }
    if (h.type === "unknown") {
      throw refuse("entry", h.name, `unsupported tar entry type ${JSON.stringify(h.typeflag)}`);
    }
    // Resolve a hardlink target before touching anything.
    let linkTarget: string | undefined;
    if (h.type === "link") linkTarget = this.#linkTarget(h);

    const rel = joinRel(this.#fs.resolveDir(parent, true, h.name), base);
    const p = this.#fs.abs(rel);
    if (linkTarget === p) return; // a link to itself: nothing to do
    this.#created.add(rel);
    if (h.type === "symlink") {
      if (!h.linkname) throw refuse("entry", h.name, "symlink with an empty target");
      if (h.linkname.includes("\0")) throw refuse("entry", h.name, "symlink target has a NUL");
    }
    // Create first and look only when something is in the way: a failed lstat
    // costs a thrown error (~9 µs), which dominated layers of many small files.
    // Creation never follows a final symlink (O_EXCL, mkdir, symlink, link, mknod).
    let file: Deno.FsFile | undefined;
    const make = (): boolean => {
      try {
        switch (h.type) {
          case "dir":
            Deno.mkdirSync(p, { mode: 0o700 });
            break;
          case "file":
            file = Deno.openSync(p, { write: true, createNew: true, mode: 0o600 });
            break;
          case "symlink":
            Deno.symlinkSync(h.linkname, p);
            break;
          case "link":
            Deno.linkSync(linkTarget!, p);
            break;
          default: {
            const t = h.type === "char" ? S_IFCHR : h.type === "block" ? S_IFBLK : S_IFIFO;
            mknod(p, t | 0o600, h.devmajor, h.devminor);
          }
        }
        return true;
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists) return false;
        if (e instanceof ErrnoError && e.code === "EEXIST") return false;
        throw e;
      }
    };
    if (!make()) {
      const old = Deno.lstatSync(p);
      if (this.#opts.copy?.noOverwriteDirNonDir && old.isDirectory !== (h.type === "dir")) {
        const show = this.#opts.copy.show ?? ((x: string) => x);
        const dest = show(this.#opts.copy.under.join("/"));
        throw new InvalidArgument(
          old.isDirectory
            ? `cannot overwrite directory "${show(rel)}" with non-directory "${dest}"`
            : `cannot overwrite non-directory "${show(rel)}" with directory "${dest}"`,
        );
      }
      if (!(old.isDirectory && h.type === "dir")) { // a dir over a dir merges
        Deno.removeSync(p, { recursive: old.isDirectory });
        if (old.isDirectory || old.isSymlink) this.#fs.invalidate();
        if (!make()) throw new Error("path reappeared while replacing it");
      }
    }
    switch (h.type) {
      case "file":
        await this.#writeFile(file!, r);
        return this.#meta(p, h, false);
      case "symlink":
        return this.#meta(p, h, true);
      case "link":
        // Like Docker: the shared inode takes the header's metadata unless it is a symlink.
        if (!Deno.lstatSync(p).isSymlink) this.#meta(p, h, false);
        return;
      default:
        return this.#meta(p, h, false);
    }
  }

  #linkTarget(h: TarHeader): string {
    const t = this.#names(h.linkname, `hardlink ${JSON.stringify(h.name)} ->`);
    if (t.length === 0) throw refuse("entry", h.name, "hardlink to the layer root");
    let dir: string;
    try {
      dir = this.#fs.resolveDir(t.slice(0, -1), false, h.name);
    } catch (e) {
      if (e instanceof InvalidArgument) throw e;
      throw refuse("entry", h.name, `hardlink target ${JSON.stringify(h.linkname)} does not exist`);
    }
    const tp = this.#fs.abs(joinRel(dir, t.at(-1)!));
    const st = lstatOrNull(tp);
    if (!st) {
      throw refuse("entry", h.name, `hardlink target ${JSON.stringify(h.linkname)} does not exist`);
    }
    if (st.isDirectory) throw refuse("entry", h.name, "hardlink to a directory");
    return tp;
  }

  async #writeFile(f: Deno.FsFile, r: TarReader): Promise<void> {
    try {
      const buf = this.#buf;
      let n = 0;
      for await (const c of r.body(WRITE_BUF)) {
        if (n + c.length > buf.length) {
          writeAll(f, buf.subarray(0, n));
          n = 0;
        }
        if (c.length >= buf.length) writeAll(f, c);
        else {
          buf.set(c, n);
          n += c.length;
        }
      }
      if (n) writeAll(f, buf.subarray(0, n));
    } finally {
      f.close();
    }
  }

  #whiteout(h: TarHeader, parent: string[], base: string): void {
    if (base === OPAQUE) {
      const dir = this.#fs.resolveDir(parent, true, h.name);
      if (this.#mode === "overlay") {
        lsetxattr(this.#fs.abs(dir), "trusted.overlay.opaque", new TextEncoder().encode("y"));
      } else this.#prune(dir);
      return;
    }
    if (base.startsWith(WH_META_PREFIX)) return; // other aufs metadata: ignored
    const name = base.slice(WH_PREFIX.length);
    if (name === "" || name === "." || name === "..") {
      throw refuse("whiteout", h.name, "invalid whiteout target");
    }
    let dir: string;
    try {
      dir = this.#fs.resolveDir(parent, this.#mode === "overlay", h.name);
    } catch (e) {
      if (e instanceof InvalidArgument) throw e;
      return; // delete mode, parent absent: nothing to hide
    }
    const rel = joinRel(dir, name);
    if (this.#created.has(rel)) return; // whiteouts only hide lower layers
    const p = this.#fs.abs(rel);
    const old = lstatOrNull(p);
    if (old) {
      Deno.removeSync(p, { recursive: old.isDirectory });
      this.#fs.invalidate();
    }
    if (this.#mode === "overlay") {
      mknod(p, S_IFCHR, 0, 0);
      if (this.#opts.preserveOwners !== false) fs.lchownSync(p, h.uid, h.gid);
    }
  }

  /** Delete mode opaque dir: remove everything below that this layer did not create. */
  #prune(dir: string): void {
    for (const e of Deno.readDirSync(this.#fs.abs(dir))) {
      const rel = joinRel(dir, e.name);
      if (!this.#created.has(rel)) {
        Deno.removeSync(this.#fs.abs(rel), { recursive: e.isDirectory });
        this.#fs.invalidate();
      } else if (e.isDirectory) this.#prune(rel);
    }
  }

  #meta(p: string, h: TarHeader, symlink: boolean): void {
    const own = this.#opts.copy?.owner;
    if (own) fs.lchownSync(p, own.uid, own.gid);
    else if (this.#opts.preserveOwners !== false) fs.lchownSync(p, h.uid, h.gid);
    if (!symlink) Deno.chmodSync(p, h.mode & 0o7777); // after chown, which clears setuid
    for (const [k, v] of h.xattrs) {
      if (isOverlayXattr(k)) continue; // overlay's own xattrs come only from whiteout entries
      try {
        lsetxattr(p, k, v);
      } catch (e) {
        if (!(e instanceof ErrnoError) || (e.code !== "EPERM" && e.code !== "EOPNOTSUPP")) throw e;
        this.#opts.onWarning?.(
          `layer entry ${JSON.stringify(h.name)}: xattr ${k} not set: ${e.code}`,
        );
      }
    }
    const atime = Math.max(h.atime ?? h.mtime, h.mtime);
    if (h.type === "dir") this.#dirTimes.push([p, atime, h.mtime]);
    else fs.lutimesSync(p, atime, h.mtime);
  }

  /** Directory times last, deepest first: creating children changed them. */
  finish(): void {
    this.#dirTimes.sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [p, a, m] of this.#dirTimes) {
      try {
        fs.lutimesSync(p, a, m);
      } catch (e) {
        if ((e as { code?: string }).code !== "ENOENT") throw e; // removed by a later whiteout
      }
    }
  }
}

function depth(p: string): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) n++;
  return n;
}

function joinRel(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

function lstatOrNull(p: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function writeAll(f: Deno.FsFile, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += f.writeSync(b.subarray(off));
}

/**
 * Apply a (possibly gzip/zstd-compressed) layer tar into dest (must exist).
 * Returns diffID = sha256 of the UNCOMPRESSED tar stream ("" in `copy` mode), and its size.
 * Refused entries throw InvalidArgument naming the entry; the stream is cancelled.
 */
export async function applyLayer(
  tar: ReadableStream<Uint8Array>,
  dest: string,
  opts: ApplyOptions = {},
): Promise<{ diffID: string; size: number }> {
  let root: string;
  try {
    root = Deno.realPathSync(dest);
    if (!Deno.statSync(root).isDirectory) throw new Error("not a directory");
  } catch (e) {
    await tar.cancel().catch(peerGone);
    throw new InvalidArgument(`layer destination ${dest}: ${(e as Error).message}`);
  }
  const max = opts.maxBytes ?? Infinity;
  // a `docker cp` extraction has no diffID: its hashing was ~5% of the client's CPU
  const hasher = opts.copy ? undefined : new Hasher();
  let size = 0;
  const src = new ByteSource(decompressStream(tar), (c) => {
    hasher?.update(c);
    size += c.length;
    if (size > max) {
      throw new InvalidArgument(`layer exceeds the size limit of ${max} bytes (uncompressed)`);
    }
  });
  const ap = new Applier(root, opts);
  const r = new TarReader(src);
  let current = "";
  try {
    for (let h = await r.next(); h; h = await r.next()) {
      current = h.name;
      await ap.entry(h, r);
    }
    current = "";
    await src.drain();
    ap.finish();
  } catch (e) {
    await src.cancel(e);
    if (e instanceof BerthError) throw e;
    const where = current ? `layer entry ${JSON.stringify(current)}` : "layer";
    throw new BerthError("Internal", `${where}: ${(e as Error).message}`, { cause: e });
  } finally {
    src.release();
  }
  return { diffID: hasher?.digest() ?? "", size };
}
