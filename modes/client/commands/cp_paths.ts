/**
 * The client half of `docker cp`: Go's path helpers as docker uses them
 * (trailing "/" and "/." are meaningful), copy infos for the local side, the
 * source tar with its base renamed, entry rebasing and the decision of where
 * to extract (moby/go-archive copy.go's rules, re-implemented).
 * @module
 */
import { packDir } from "../../../core/archive/pack.ts";

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/** Go's filepath.Clean. */
export function clean(p: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length && out.at(-1) !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(c);
  }
  const s = out.join("/");
  return abs ? "/" + s : s || ".";
}

/** Go's filepath.Base. */
export function base(p: string): string {
  const t = p.replace(/\/+$/, "");
  if (t === "") return p === "" ? "." : "/";
  return t.slice(t.lastIndexOf("/") + 1);
}

/** Go's filepath.Dir. */
export function dir(p: string): string {
  const i = p.lastIndexOf("/");
  return clean(i < 0 ? "." : p.slice(0, i + 1));
}

export const specifiesCurrentDir = (p: string) => base(p) === ".";
export const hasTrailingSep = (p: string) => p.endsWith("/");

export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let c = cleaned;
  if (!specifiesCurrentDir(c) && specifiesCurrentDir(original)) {
    if (!hasTrailingSep(c)) c += "/";
    c += ".";
  }
  if (!hasTrailingSep(c) && hasTrailingSep(original)) c += "/";
  return c;
}

export function splitPathDirEntry(p: string): [string, string] {
  let c = clean(p);
  if (specifiesCurrentDir(p)) c += "/.";
  return [dir(c), base(c)];
}

/** An absolute local path, keeping a trailing "/" or "/.". */
export function resolveLocalPath(p: string): string {
  const abs = p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  return preserveTrailingDotOrSeparator(clean(abs), p);
}

export function getRebaseName(path: string, resolved: string): [string, string] {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += "/.";
  if (hasTrailingSep(path) && !hasTrailingSep(r)) r += "/";
  return [r, base(path) !== base(r) ? base(path) : ""];
}

/** moby's CopyInfoSourcePath for a local source. */
export function copyInfoSourcePath(path: string, followLink: boolean): CopyInfo {
  let resolved: string, rebaseName = "";
  if (followLink) {
    [resolved, rebaseName] = getRebaseName(path, Deno.realPathSync(path));
  } else {
    const i = path.lastIndexOf("/");
    const d = path.slice(0, i + 1), b = path.slice(i + 1);
    resolved = Deno.realPathSync(d || ".").replace(/\/$/, "") + "/" + b;
    if (hasTrailingSep(path) && base(path) !== base(resolved)) rebaseName = base(path);
  }
  const st = lstatGo(resolved);
  return { path: resolved, exists: true, isDir: st.isDirectory, rebaseName };
}

/** lstat with Go's error text ("lstat /x: no such file or directory"). */
export function lstatGo(p: string): Deno.FileInfo {
  try {
    return Deno.lstatSync(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`lstat ${p.replace(/\/$/, "")}: no such file or directory`);
    }
    throw e;
  }
}

/** moby's CopyInfoDestinationPath for a local destination. */
export function copyInfoDestinationPath(path: string): CopyInfo {
  const none = { exists: false, isDir: false, rebaseName: "" };
  let p = path;
  let st = lstatOrNull(p);
  for (let n = 0; st?.isSymlink; n++) {
    if (n > 10) throw new Error(`too many symlinks in ${path}`);
    let t = Deno.readLinkSync(p);
    if (!t.startsWith("/")) t = clean(`${splitPathDirEntry(p)[0]}/${t}`);
    p = t;
    st = lstatOrNull(p);
  }
  if (!st) {
    const parent = splitPathDirEntry(p)[0];
    let ps: Deno.FileInfo;
    try {
      ps = Deno.statSync(parent);
    } catch {
      throw new Error(`stat ${parent}: no such file or directory`);
    }
    if (!ps.isDirectory) throw new Error("not a directory");
    return { path: p, ...none };
  }
  return { path: p, exists: true, isDir: st.isDirectory, rebaseName: "" };
}

function lstatOrNull(p: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/**
 * Tar of a local resource named by its base (or `rebaseName`): moby's TarResourceRebase, then
 * `then` (PrepareArchiveCopy's rebasing) applied to the names on the way, not by a re-tar.
 */
export function tarResource(
  info: CopyInfo,
  then: (name: string) => string = (n) => n,
): ReadableStream<Uint8Array> {
  lstatGo(info.path);
  let [srcDir, srcBase] = splitPathDirEntry(info.path);
  const to = info.rebaseName || srcBase;
  if (srcBase === ".") [srcDir, srcBase] = [dir(srcDir), base(srcDir)]; // include the dir itself
  const rename = (n: string) => {
    const rest = n === srcBase ? "" : n.slice(srcBase.length + 1);
    return then(rest === "" ? to : `${to}/${rest}`);
  };
  return packDir(srcDir, { paths: [srcBase], rename });
}

/** moby's newNameRebaser. */
export function rebaser(oldBase: string, newBase: string): (name: string) => string {
  const ob = oldBase.replace(/\/+$/, ""), nb = newBase.replace(/\/+$/, "");
  return (name: string) => {
    if (ob === "") {
      const n = name.replace(/^\/+/, "");
      return nb === "" ? n : `${nb}/${n}`;
    }
    if (!name.startsWith(ob)) return name;
    const suffix = name.slice(ob.length);
    if (suffix !== "" && !suffix.startsWith("/")) return name;
    return nb + suffix;
  };
}

/**
 * moby's PrepareArchiveCopy: the directory to extract into and how to rename the entries
 * (RebaseArchiveEntries' rule; undefined when the names stay).
 */
export function prepareArchiveCopy(
  src: CopyInfo,
  dst: CopyInfo,
): [string, ((name: string) => string) | undefined] {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return [dst.path, undefined];
  if (dst.exists && src.isDir) throw new Error("cannot copy directory");
  if (!dst.exists && !src.isDir && (hasTrailingSep(dst.path) || specifiesCurrentDir(dst.path))) {
    throw new Error("no such directory");
  }
  if (src.rebaseName) srcBase = src.rebaseName;
  return [dstDir, rebaser(srcBase, dstBase)];
}
