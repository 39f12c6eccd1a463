/**
 * COPY/ADD effects: copy sources into a step's root (the mounted overlay),
 * with Docker's rules — directory sources copy their contents, existing
 * destination directories are merged, anything else in the way is replaced,
 * new entries belong to the --chown identity (root by default) and keep the
 * source's mode (or --chmod) and mtime. The destination is resolved inside
 * the root with symlinks read relative to the root; below it, existing
 * symlinks are replaced, never followed. ADD unpacks local archives.
 * @module
 */
import fs from "node:fs";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { resolveInRoot } from "../../../core/runtime/securejoin.ts";
import { applyLayer } from "../../../core/archive/mod.ts";
import { type Dest, destPathFor } from "../../../core/dockerfile/copy_rules.ts";
import { handledElsewhere, peerGone } from "../../../core/errdefs/ignore.ts";

export interface SourceMeta {
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  /** Seconds. */
  mtime: number;
  link?: string;
  /** Owner in the source tree (another stage's or an image's root; not the context). */
  uid?: number;
  gid?: number;
}

/** A tree copies are made from: the build context or another stage's root. */
export interface SourceFS {
  /** Host directory of the tree. */
  readonly root: string;
  /** Metadata of a real (resolved) relative path, without following it. */
  stat(rel: string): SourceMeta | undefined;
  /** Sorted child names of a directory. */
  children(rel: string): string[];
  /** A file's content when it is held in memory (else read from disk). */
  data?(rel: string): Uint8Array | undefined;
  /** Make a file held in memory exist on disk. */
  materialize?(rel: string): void;
}

/** A resolved COPY source. */
export type CopyItem =
  | { kind: "tree"; fs: SourceFS; rel: string; name: string }
  | { kind: "bytes"; name: string; data: Uint8Array; mode: number; mtime: number }
  | {
    kind: "hostfile";
    name: string;
    path: string;
    mode: number;
    mtime: number;
    archive?: boolean;
  };

export interface CopyOptions {
  /** The --chown identity (0:0 without one). */
  uid: number;
  gid: number;
  /** `COPY --from` without --chown: entries keep the source's uid/gid (Docker 20.10). */
  keepOwner?: boolean;
  chmod?: number;
  /** ADD: unpack local archives (tree files recognised by `isArchive`). */
  unpack?: (abs: string) => Promise<boolean>;
}

function lstat(p: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw e;
  }
}

interface Ids {
  uid: number;
  gid: number;
}
const ROOT: Ids = { uid: 0, gid: 0 };

/** A directory at `abs` (inside root), creating missing components 0755 owned by uid:gid. */
function ensureDir(root: string, abs: string, o: Ids): void {
  const rel = abs.slice(root.length).split("/").filter(Boolean);
  let cur = root;
  for (let i = 0; i < rel.length; i++) {
    cur += "/" + rel[i];
    const st = lstat(cur);
    if (st?.isDirectory) continue;
    if (st) {
      throw new InvalidArgument(`cannot copy to ${cur.slice(root.length)}: not a directory`);
    }
    Deno.mkdirSync(cur);
    fs.lchownSync(cur, o.uid, o.gid);
    Deno.chmodSync(cur, 0o755);
  }
}

/** Remove whatever is at `abs` unless it is a directory and a directory is wanted. */
function clear(abs: string, wantDir: boolean): boolean {
  const st = lstat(abs);
  if (!st) return false;
  if (st.isDirectory && wantDir) return true;
  Deno.removeSync(abs, { recursive: true });
  return false;
}

/** The owner a copied entry gets: the source's with `keepOwner`, else the --chown identity. */
function ownerOf(o: CopyOptions, meta: SourceMeta): Ids {
  return o.keepOwner && meta.uid !== undefined ? { uid: meta.uid, gid: meta.gid ?? meta.uid } : o;
}

/** Owner, mode, mtime (the owner is skipped when root creates root's files). */
function setMeta(
  abs: string,
  o: CopyOptions,
  id: Ids,
  mode: number,
  mtime: number,
  symlink = false,
) {
  if (id.uid !== 0 || id.gid !== 0 || Deno.uid() !== 0) fs.lchownSync(abs, id.uid, id.gid);
  if (!symlink) Deno.chmodSync(abs, o.chmod ?? mode);
  fs.lutimesSync(abs, mtime, mtime);
}

/**
 * Where writes go. A directory this step created where the merged view had
 * nothing has no lower counterpart, so below it the upper dir alone is the
 * truth: entries there are made directly in the upper dir (plain ext4/xfs
 * speed), and never looked up through the overlay again in this step.
 */
class Target {
  readonly root: string;
  readonly upper?: string;
  #fresh: string[] = [];
  constructor(root: string, upper?: string) {
    this.root = root;
    this.upper = upper;
  }
  /** The path to use for a merged path `abs` (its parent decides). */
  phys(abs: string): string {
    if (!this.upper) return abs;
    const rel = abs.slice(this.root.length);
    for (const f of this.#fresh) {
      if (rel.startsWith(f + "/")) return this.upper + rel;
    }
    return abs;
  }
  /** `abs` (a merged path) was just created where nothing was. */
  fresh(abs: string): void {
    if (this.upper && abs.startsWith(this.root + "/")) {
      this.#fresh.push(abs.slice(this.root.length));
    }
  }
}

class Copier {
  #o: CopyOptions;
  #t: Target;
  #dirTimes: Array<[string, number]> = [];
  constructor(o: CopyOptions, t: Target) {
    this.#o = o;
    this.#t = t;
  }

  /** Copy one entry of a tree (and its subtree) to `dst` (real merged path, inside root). */
  entry(src: SourceFS, rel: string, dst: string, meta: SourceMeta): void {
    const o = this.#o;
    const abs = rel === "" ? src.root : `${src.root}/${rel}`;
    const p = this.#t.phys(dst);
    switch (meta.type) {
      case "dir": {
        const existed = clear(p, true);
        if (!existed) {
          Deno.mkdirSync(p);
          if (p === dst) this.#t.fresh(dst);
        }
        setMeta(p, o, ownerOf(o, meta), meta.mode, meta.mtime);
        for (const name of src.children(rel)) {
          const r = rel === "" ? name : `${rel}/${name}`;
          const m = src.stat(r);
          if (m) this.entry(src, r, `${dst}/${name}`, m);
        }
        this.#dirTimes.push([p, meta.mtime]);
        break;
      }
      case "file": {
        clear(p, false);
        const data = src.data?.(rel);
        if (data) Deno.writeFileSync(p, data);
        else Deno.copyFileSync(abs, p);
        setMeta(p, o, ownerOf(o, meta), meta.mode, meta.mtime);
        break;
      }
      case "symlink":
        clear(p, false);
        Deno.symlinkSync(meta.link ?? Deno.readLinkSync(abs), p);
        setMeta(p, o, ownerOf(o, meta), 0o777, meta.mtime, true);
        break;
      default:
        break; // devices, fifos, sockets: skipped
    }
  }

  finish(): void {
    // Directory mtimes last: adding children changed them.
    for (const [d, t] of this.#dirTimes.reverse()) fs.lutimesSync(d, t, t);
    this.#dirTimes = [];
  }
}

/**
 * Copy `items` to `dest` inside `root`. Returns nothing; everything lands in
 * the overlay's upper dir.
 */
export async function copyInto(
  root: string,
  items: CopyItem[],
  dest: Dest,
  o: CopyOptions & { upper?: string },
): Promise<void> {
  const destReal = resolveInRoot(root, dest.path);
  const destIsDir = !!lstat(destReal)?.isDirectory;
  const t = new Target(root, o.upper);
  const c = new Copier(o, t);
  for (const it of items) {
    if (it.kind === "tree") {
      const meta = it.fs.stat(it.rel);
      if (!meta) throw new InvalidArgument(`${it.name}: file not found in build context`);
      if (meta.type === "dir") {
        // Contents of the directory go into dest. As Docker 20.10 (CopyWithTar's
        // MkdirAll as root, then fixPermissions of the new root): missing parents
        // are 0755 root:root, a new dest itself 0755 owned by the --chown identity
        // (root:root without one, even under --from) — never the source dir's mode.
        if (!lstat(destReal)?.isDirectory) {
          const parent = destReal.slice(0, destReal.lastIndexOf("/")) || root;
          ensureDir(root, parent, ROOT);
          clear(destReal, true);
          Deno.mkdirSync(destReal);
          t.fresh(destReal);
          setMeta(destReal, o, o, 0o755, meta.mtime);
        }
        for (const name of it.fs.children(it.rel)) {
          const r = it.rel === "" ? name : `${it.rel}/${name}`;
          const m = it.fs.stat(r);
          if (m) c.entry(it.fs, r, `${destReal}/${name}`, m);
        }
        continue;
      }
      const abs = it.rel === "" ? it.fs.root : `${it.fs.root}/${it.rel}`;
      if (meta.type === "file" && o.unpack) it.fs.materialize?.(it.rel);
      if (meta.type === "file" && o.unpack && await o.unpack(abs)) {
        ensureDir(root, destReal, o);
        await unpackArchive(abs, destReal);
        continue;
      }
      const target = placeFile(root, dest, it.name, destIsDir, o);
      c.entry(it.fs, it.rel, target, meta);
      continue;
    }
    const target = placeFile(root, dest, it.name, destIsDir, o);
    clear(target, false);
    if (it.kind === "bytes") Deno.writeFileSync(target, it.data);
    else Deno.copyFileSync(it.path, target);
    setMeta(target, o, o, it.mode, it.mtime);
  }
  c.finish();
}

/** The real path a single file source is written to (parents created). */
function placeFile(root: string, dest: Dest, name: string, destIsDir: boolean, o: CopyOptions) {
  const p = destPathFor(dest, name, destIsDir);
  const slash = p.lastIndexOf("/");
  const parentReal = resolveInRoot(root, p.slice(0, slash) || "/");
  ensureDir(root, parentReal, o);
  const base = p.slice(slash + 1);
  if (!base) throw new InvalidArgument(`cannot copy to ${p}`);
  return `${parentReal}/${base}`;
}

async function unpackArchive(file: string, destDir: string): Promise<void> {
  const f = await Deno.open(file);
  try {
    await applyLayer(await decompressExternal(f.readable), destDir, { whiteouts: "delete" });
  } catch (e) {
    throw new InvalidArgument(
      `failed to unpack ${file.slice(file.lastIndexOf("/") + 1)}: ${(e as Error).message}`,
    );
  }
}

/** bzip2 and xz through their tools (gzip and zstd are handled by applyLayer). */
export async function decompressExternal(
  s: ReadableStream<Uint8Array>,
): Promise<ReadableStream<Uint8Array>> {
  const [head, rest] = s.tee();
  const r = head.getReader();
  const first = (await r.read()).value ?? new Uint8Array();
  r.cancel().catch(peerGone);
  const tool = first[0] === 0x42 && first[1] === 0x5a && first[2] === 0x68
    ? "bzip2"
    : first[0] === 0xfd && first[1] === 0x37 && first[2] === 0x7a
    ? "xz"
    : undefined;
  if (!tool) return rest;
  const p = new Deno.Command(tool, { args: ["-dc"], stdin: "piped", stdout: "piped" }).spawn();
  // a cut input makes the decompressor fail, which fails its output below
  rest.pipeTo(p.stdin).catch(handledElsewhere);
  return p.stdout.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async flush() {
        const st = await p.status;
        if (!st.success) {
          throw new Error(`${tool} -dc: the archive does not decompress (exit ${st.code})`);
        }
      },
    }),
  );
}
