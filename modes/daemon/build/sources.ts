/**
 * COPY/ADD sources: the build context ({@link ContextFS}, metadata from the
 * context index) or another stage's / image's root ({@link DirFS}, metadata
 * from lstat), source paths resolved inside their tree (symlinks followed as
 * if the tree were "/", never above it), and wildcard sources expanded
 * segment by segment with Go's filepath.Match rules, in lexical order.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { resolveInRoot } from "../../../core/runtime/securejoin.ts";
import type { BuildContext } from "./context.ts";
import type { SourceFS, SourceMeta } from "./copy.ts";
import { cleanSource, globMatch, hasWildcards } from "../../../core/dockerfile/copy_rules.ts";

export class ContextFS implements SourceFS {
  readonly root: string;
  readonly #ctx: BuildContext;
  #kids?: Map<string, string[]>;
  constructor(ctx: BuildContext) {
    this.#ctx = ctx;
    this.root = ctx.dir;
  }
  stat(rel: string): SourceMeta | undefined {
    const e = this.#ctx.get(rel);
    if (!e) return undefined;
    return { type: e.type, mode: e.mode, mtime: e.mtime, link: e.link };
  }
  children(rel: string): string[] {
    if (!this.#kids) {
      const m = new Map<string, string[]>();
      for (const k of this.#ctx.entries.keys()) {
        if (k === "") continue;
        const i = k.lastIndexOf("/");
        const parent = i < 0 ? "" : k.slice(0, i);
        let l = m.get(parent);
        if (!l) m.set(parent, l = []);
        l.push(i < 0 ? k : k.slice(i + 1));
      }
      for (const l of m.values()) l.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.#kids = m;
    }
    return this.#kids.get(rel) ?? [];
  }
  data(rel: string): Uint8Array | undefined {
    return this.#ctx.data(rel);
  }
  materialize(rel: string): void {
    this.#ctx.materialize(rel);
  }
  /** Content hash of a real path's subtree (cache key material). */
  hash(rel: string): string {
    return this.#ctx.hashTree(rel);
  }
}

export class DirFS implements SourceFS {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }
  stat(rel: string): SourceMeta | undefined {
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(rel === "" ? this.root : `${this.root}/${rel}`);
    } catch {
      return undefined;
    }
    const type = st.isDirectory ? "dir" : st.isSymlink ? "symlink" : st.isFile ? "file" : "other";
    return {
      type,
      mode: (st.mode ?? 0o644) & 0o7777,
      mtime: Math.floor((st.mtime?.getTime() ?? 0) / 1000),
      uid: st.uid ?? 0,
      gid: st.gid ?? 0,
    };
  }
  children(rel: string): string[] {
    try {
      return [...Deno.readDirSync(rel === "" ? this.root : `${this.root}/${rel}`)].map((e) =>
        e.name
      )
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch {
      return [];
    }
  }
}

export interface ResolvedSource {
  /** The path as matched (before symlinks): its base name names the copy. */
  path: string;
  /** The real path inside the tree. */
  real: string;
  meta: SourceMeta;
}

function realRel(fs: SourceFS, rel: string): string {
  const abs = resolveInRoot(fs.root, "/" + rel);
  return abs === fs.root ? "" : abs.slice(fs.root.length + 1);
}

/** Expand one source (wildcards allowed) into the entries it names. */
export function resolveSource(fs: SourceFS, src: string, kind: string): ResolvedSource[] {
  const rel = cleanSource(src);
  if (!hasWildcards(rel)) {
    const real = realRel(fs, rel);
    const meta = fs.stat(real);
    if (!meta) {
      throw new InvalidArgument(
        `${kind} failed: file not found in build context or excluded by .dockerignore: stat ${
          rel || "."
        }: file does not exist`,
      );
    }
    return [{ path: rel, real, meta }];
  }
  // Segment by segment: "*" never crosses "/", so only depth-matching paths can match.
  let cur = [""];
  const segs = rel.split("/");
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const next: string[] = [];
    for (const dir of cur) {
      const real = realRel(fs, dir);
      const m = fs.stat(real);
      if (!m || m.type !== "dir") continue;
      if (!hasWildcards(seg)) {
        const p = dir ? `${dir}/${seg}` : seg;
        if (fs.stat(realRel(fs, p))) next.push(p);
        continue;
      }
      for (const name of fs.children(real)) {
        if (globMatch(seg, name)) next.push(dir ? `${dir}/${name}` : name);
      }
    }
    cur = next;
  }
  const out: ResolvedSource[] = [];
  for (const p of cur.sort()) {
    const real = realRel(fs, p);
    const meta = fs.stat(real);
    if (meta) out.push({ path: p, real, meta });
  }
  return out;
}

/** The base name a source is copied under. */
export function baseName(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}
