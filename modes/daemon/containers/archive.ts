/**
 * `docker cp` and `export` on the daemon side: stat a path in a container
 * (the X-Docker-Container-Path-Stat header), tar a path out, extract a tar
 * in, and tar the whole rootfs. Paths are resolved inside the container's
 * root as Docker 20.10 does (the last component is not followed, except for
 * extraction); see docs/archive.md.
 * @module
 */
import { applyLayer, packDir } from "../../../core/archive/mod.ts";
import { BerthError, InvalidArgument, NotFound } from "../../../core/errdefs/mod.ts";
import { resolveInRoot } from "../../../core/runtime/securejoin.ts";
import { resolveUser } from "../../../core/oci/user.ts";
import type { ContainerRecord } from "../../../core/store/containers.ts";
import { type ContainerFs, openContainerFs } from "./archive_fs.ts";
import type { ContainerService } from "./service.ts";
import { peerGone, statIfExists } from "../../../core/errdefs/ignore.ts";

/** Docker's ContainerPathStat (mode is Go's os.FileMode). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.FileMode bits from a raw st_mode. */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  if (mode & 0o4000) m |= 1 << 23;
  if (mode & 0o2000) m |= 1 << 22;
  if (mode & 0o1000) m |= 1 << 20;
  switch (mode & 0o170000) {
    case 0o040000:
      return (m | 2 ** 31) >>> 0;
    case 0o120000:
      return m | 1 << 27;
    case 0o060000:
      return m | 1 << 26;
    case 0o020000:
      return m | 1 << 26 | 1 << 21;
    case 0o010000:
      return m | 1 << 25;
    case 0o140000:
      return m | 1 << 24;
  }
  return m;
}

/** Go's RFC3339Nano in UTC (fraction trimmed); Deno gives milliseconds. */
function goTime(d: Date | null): string {
  return (d ?? new Date(0)).toISOString().replace(/\.?0+Z$/, "Z");
}

/** Go's filepath.Clean of an absolute path, keeping a trailing "/" or "/." as Docker does. */
function absPathOf(path: string): string {
  const parts: string[] = [];
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  let p = "/" + parts.join("/");
  if (/(^|\/)\.$/.test(path) && p !== "/") p += "/.";
  else if (path.endsWith("/") && p !== "/") p += "/";
  return p;
}

/** Go's filepath.Base. */
function goBase(p: string): string {
  const t = p.replace(/\/+$/, "");
  if (t === "") return "/";
  return t.slice(t.lastIndexOf("/") + 1);
}

interface Resolved {
  abs: string;
  /** host path of the resource (its last component not followed) */
  host: string;
  st: Deno.FileInfo;
}

function notFound(path: string, ref: string): NotFound {
  return new NotFound(`Could not find the file ${path} in container ${ref}`);
}

function resolve(fs: ContainerFs, path: string, ref: string): Resolved {
  const abs = absPathOf(path);
  const cut = abs.lastIndexOf("/");
  const dir = abs.slice(0, cut + 1), base = abs.slice(cut + 1);
  const hostDir = resolveInRoot(fs.root, dir);
  const host = base === "" || base === "." ? hostDir : `${hostDir}/${base}`;
  // A file named with a trailing "/" or "/." (or a path below a file) is
  // ENOTDIR, which dockerd answers 500 "lstat <path>: not a directory"
  // (daemon/archive.go: only IsNotExist becomes 404). dockerd names the host
  // path; berth names the container's.
  const notDir = () => new BerthError("Internal", `lstat ${abs}: not a directory`);
  try {
    const st = Deno.lstatSync(host);
    if ((base === "" || base === ".") && !st.isDirectory) throw notDir();
    return { abs, host, st };
  } catch (e) {
    if (e instanceof Deno.errors.NotADirectory) throw notDir();
    if (e instanceof Deno.errors.NotFound) throw notFound(path, ref);
    throw e;
  }
}

function statOf(fs: ContainerFs, r: Resolved): PathStat {
  let linkTarget = "";
  if (r.st.isSymlink) linkTarget = "/" + resolveInRoot(fs.root, r.abs).slice(fs.root.length + 1);
  return {
    name: goBase(r.abs),
    size: r.st.size,
    mode: goFileMode(r.st.mode ?? 0),
    mtime: goTime(r.st.mtime),
    linkTarget,
  };
}

function requirePath(path: string | null): string {
  if (!path) throw new InvalidArgument("bad parameter: pathcannot be empty");
  return path;
}

/** HEAD: the stat of `path`. */
export async function statPath(
  s: ContainerService,
  ref: string,
  path: string | null,
): Promise<PathStat> {
  const p = requirePath(path);
  const r = s.resolve(ref);
  const fs = await openContainerFs(s, r, { mounts: true });
  try {
    return statOf(fs, resolve(fs, p, ref));
  } finally {
    await fs.close();
  }
}

/** GET: the stat and a tar of `path`, rebased to its requested name; the view closes at the end. */
export async function archivePath(
  s: ContainerService,
  ref: string,
  path: string | null,
): Promise<{ stat: PathStat; tar: ReadableStream<Uint8Array> }> {
  const p = requirePath(path);
  const r = s.resolve(ref);
  const fs = await openContainerFs(s, r, { mounts: true });
  try {
    const res = resolve(fs, p, ref);
    const stat = statOf(fs, res);
    const to = stat.name;
    const cut = res.host.lastIndexOf("/");
    const parent = res.host.slice(0, cut), from = res.host.slice(cut + 1);
    const rename = (n: string) => {
      const rest = n === from ? "" : n.slice(from.length + 1);
      if (rest === "") return to;
      return to === "/" ? `/${rest}` : `${to}/${rest}`;
    };
    const tar = packDir(parent, { paths: [from], rename });
    return { stat, tar: closing(tar, fs.close) };
  } catch (e) {
    await fs.close();
    throw e;
  }
}

/** A stream that runs `done` once it ends, fails or is cancelled. */
function closing(
  src: ReadableStream<Uint8Array>,
  done: () => Promise<void>,
): ReadableStream<Uint8Array> {
  const rd = src.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const { value, done: end } = await rd.read();
        if (end) {
          c.close();
          await done();
        } else c.enqueue(value);
      } catch (e) {
        await done();
        c.error(e);
      }
    },
    async cancel(reason) {
      await rd.cancel(reason).catch(peerGone); // the walk is abandoned; nothing to keep
      await done();
    },
  }, { highWaterMark: 0 });
}

/** PUT: extract a (possibly compressed) tar into the directory `path`. */
export async function extractToDir(
  s: ContainerService,
  ref: string,
  path: string | null,
  tar: ReadableStream<Uint8Array>,
  o: { copyUIDGID: boolean; noOverwriteDirNonDir: boolean },
): Promise<void> {
  const p = requirePath(path);
  const r = s.resolve(ref);
  const fs = await openContainerFs(s, r, { mounts: true });
  try {
    // the destination is followed to the end: extracting "to a symlink" means to its target
    const host = resolveInRoot(fs.root, absPathOf(p));
    const st = await statIfExists(host);
    if (!st) throw notFound(p, ref);
    if (!st.isDirectory) {
      throw new BerthError("Internal", "extraction point is not a directory");
    }
    const rel = host.slice(fs.root.length + 1);
    checkWritable(r, "/" + rel);
    const owner = o.copyUIDGID && r.Config.User
      ? await resolveUser(fs.root, r.Config.User)
      : undefined;
    await applyLayer(tar, fs.root, {
      copy: {
        under: rel ? rel.split("/") : [],
        noOverwriteDirNonDir: o.noOverwriteDirNonDir,
        owner: owner && { uid: owner.uid, gid: owner.gid },
        show: (x) => "/" + x,
      },
    });
  } finally {
    await tar.cancel().catch(peerGone); // an unread rest of the body is dropped
    await fs.close();
  }
}

/** Docker's checks: a read-only volume or rootfs is refused before anything is written. */
function checkWritable(r: ContainerRecord, abs: string): void {
  const under = (m: string) => abs === m || abs.startsWith(m.endsWith("/") ? m : m + "/");
  const mp = r.MountPoints.filter((m) => m.Type !== "tmpfs" && under(m.Destination))
    .sort((a, b) => b.Destination.length - a.Destination.length)[0];
  if (mp) {
    if (!mp.RW) throw new InvalidArgument("mounted volume is marked read-only");
    return;
  }
  if (r.HostConfig.ReadonlyRootfs) {
    throw new InvalidArgument("container rootfs is marked read-only");
  }
}

/** GET /containers/{id}/export: the rootfs without volumes, as Docker. */
export async function exportContainer(
  s: ContainerService,
  ref: string,
): Promise<ReadableStream<Uint8Array>> {
  const r = s.resolve(ref);
  const fs = await openContainerFs(s, r, { mounts: false });
  try {
    return closing(packDir(fs.root), fs.close);
  } catch (e) {
    await fs.close();
    throw e;
  }
}
