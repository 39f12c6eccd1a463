/**
 * `berth cp` (docker cp: both directions, -a, -L, `-` for a tar on stdin or
 * stdout) and `berth export`, with docker's messages and exit codes.
 * @module
 */
import { command, type Globals, parse, requireArgs, UsageExit } from "../cli.ts";
import { lazy } from "../../../core/sys/lazy.ts";
import { humanSize } from "../format.ts";
import {
  type CopyInfo,
  copyInfoDestinationPath,
  copyInfoSourcePath,
  getRebaseName,
  prepareArchiveCopy,
  rebaser,
  resolveLocalPath,
  splitPathDirEntry,
  tarResource,
} from "./cp_paths.ts";
import { putStream } from "./cp_upload.ts";
import { keepFirstError, peerGone } from "../../../core/errdefs/ignore.ts";

const USAGE =
  "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH";

/** A local error docker prints bare (no "Error response from daemon"). */
class CpError extends Error {}

interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const MODE_DIR = 2 ** 31, MODE_SYMLINK = 1 << 27;
const isDir = (m: number) => m >= MODE_DIR;
const isSymlink = (m: number) => (m & MODE_SYMLINK) !== 0;
/** Neither dir nor regular: any Go type bit but the permission/setuid/setgid/sticky ones. */
const irregular = (m: number) => !isDir(m) && (m & 0x7f2f0000) !== 0;

/** docker's splitCpArg: "c:/p" → ["c", "/p"]; local paths may hold ":" after "/" or ".". */
function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith("/")) return ["", arg];
  const i = arg.indexOf(":");
  if (i < 0 || arg.startsWith(".")) return ["", arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

function decodeStat(h: string | null): PathStat {
  if (!h) throw new CpError("unable to get resource stat from response");
  const bin = atob(h);
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

async function statPath(g: Globals, ctr: string, path: string): Promise<PathStat> {
  const res = await g.api().request("HEAD", `/containers/${encodeURIComponent(ctr)}/archive`, {
    query: { path },
  });
  await res.body?.cancel();
  return decodeStat(res.headers.get("X-Docker-Container-Path-Stat"));
}

/** Counts the bytes passing (for "Successfully copied …"). */
class ByteCounter extends TransformStream<Uint8Array, Uint8Array> {
  bytes = 0;
  constructor() {
    super({
      transform: (c, ctl) => {
        this.bytes += c.length;
        ctl.enqueue(c);
      },
    });
  }
}

function isAbs(p: string): boolean {
  return p.startsWith("/");
}

async function copyFrom(
  g: Globals,
  ctr: string,
  srcPath0: string,
  dst0: string,
  o: { followLink: boolean; copyUIDGID: boolean; quiet: boolean },
): Promise<void> {
  let srcPath = srcPath0;
  const dstPath = dst0 === "-" ? "-" : resolveLocalPath(dst0);
  if (dstPath !== "-") validateOutputPath(dstPath);
  let rebaseName = "";
  if (o.followLink) {
    const st = await statPath(g, ctr, srcPath).catch(() => undefined); // the copy below reports it
    if (st && isSymlink(st.mode)) {
      let t = st.linkTarget;
      if (!isAbs(t)) t = `${splitPathDirEntry(srcPath)[0]}/${t}`;
      [srcPath, rebaseName] = getRebaseName(srcPath, t);
    }
  }
  const res = await g.api().request("GET", `/containers/${encodeURIComponent(ctr)}/archive`, {
    query: { path: srcPath },
  });
  if (dstPath === "-") {
    await res.body!.pipeTo(Deno.stdout.writable, { preventClose: true });
    return;
  }
  const stat = decodeStat(res.headers.get("X-Docker-Container-Path-Stat"));
  const src: CopyInfo = { path: srcPath, exists: true, isDir: isDir(stat.mode), rebaseName };
  const counter = o.quiet ? undefined : new ByteCounter();
  const content = counter ? res.body!.pipeThrough(counter) : res.body!;
  let dstDir: string, rename: ((n: string) => string) | undefined;
  try {
    [dstDir, rename] = prepareArchiveCopy(src, copyInfoDestinationPath(dstPath));
  } catch (e) {
    await content.cancel().catch(peerGone); // nothing will read it
    throw new CpError((e as Error).message);
  }
  if (rebaseName) {
    const first = rebaser(splitPathDirEntry(src.path)[1], rebaseName);
    const then = rename;
    rename = then ? (n) => then(first(n)) : first;
  }
  // loaded here only: apply.ts brings node:fs and node:zlib, ~0.1 s of start-up for `cp` in
  const { applyLayer } = await lazy<typeof import("../../../core/archive/apply.ts")>(
    "core/archive/apply.ts",
  );
  await applyLayer(content, dstDir, {
    preserveOwners: o.copyUIDGID,
    copy: { under: [], noOverwriteDirNonDir: true, show: (x) => `${dstDir}/${x}`, rename },
  });
  if (!o.quiet) {
    const size = src.isDir ? counter!.bytes : stat.size;
    console.error(`Successfully copied ${humanSize(size)} to ${dstPath}`);
  }
}

function validateOutputPath(p: string): void {
  const d = splitPathDirEntry(p.replace(/\/+$/, "") || "/")[0];
  try {
    Deno.statSync(d);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CpError(`invalid output path: directory "${d}" does not exist`);
    }
  }
}

async function copyTo(
  g: Globals,
  ctr: string,
  src0: string,
  dstPath: string,
  o: { followLink: boolean; copyUIDGID: boolean; quiet: boolean },
): Promise<void> {
  const srcPath = src0 === "-" ? "-" : resolveLocalPath(src0);
  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: "" };
  let st: PathStat | undefined;
  try {
    st = await statPath(g, ctr, dstPath);
    if (isSymlink(st.mode)) {
      let t = st.linkTarget;
      if (!isAbs(t)) t = `${splitPathDirEntry(dstPath)[0]}/${t}`;
      dst.path = t;
      st = await statPath(g, ctr, t);
    }
  } catch {
    // any stat error is ignored, as docker does: the parent may exist, and the PUT reports
    // a missing container or path itself
    st = undefined;
  }
  if (st) {
    if (irregular(st.mode)) {
      throw new CpError(
        `destination "${ctr}:${dstPath}" must be a directory or a regular file`,
      );
    }
    dst.exists = true;
    dst.isDir = isDir(st.mode);
  }
  let content: ReadableStream<Uint8Array>, resolved: string;
  let size = -1;
  if (srcPath === "-") {
    if (!dst.isDir) throw new CpError(`destination "${ctr}:${dstPath}" must be a directory`);
    content = Deno.stdin.readable;
    resolved = dst.path;
  } else {
    let src: CopyInfo;
    try {
      src = copyInfoSourcePath(srcPath, o.followLink);
    } catch (e) {
      throw new CpError((e as Error).message);
    }
    size = src.isDir ? -1 : Deno.lstatSync(src.path).size;
    try {
      let rename: ((n: string) => string) | undefined;
      [resolved, rename] = prepareArchiveCopy(src, dst);
      content = tarResource(src, rename);
    } catch (e) {
      throw new CpError((e as Error).message);
    }
  }
  const counter = o.quiet ? undefined : new ByteCounter();
  const counted = counter ? content.pipeThrough(counter) : content;
  await putStream(g.api(), `/containers/${encodeURIComponent(ctr)}/archive`, {
    path: resolved,
    noOverwriteDirNonDir: true,
    copyUIDGID: o.copyUIDGID,
  }, counted);
  if (!o.quiet) {
    console.error(
      `Successfully copied ${humanSize(size >= 0 ? size : counter!.bytes)} to ${ctr}:${dst.path}`,
    );
  }
}

async function cp(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, USAGE, "Copy files/folders between a container and the local filesystem")
    .option("-L, --follow-link", "Always follow symbol link in SRC_PATH")
    .option("-a, --archive", "Archive mode (copy all uid/gid information)")
    .option(
      "-q, --quiet",
      "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached",
    );
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, USAGE, 2, 2);
  if (pos[0] === "") return fail("source can not be empty");
  if (pos[1] === "") return fail("destination can not be empty");
  const [sc, sp] = splitCpArg(pos[0]);
  const [dc, dp] = splitCpArg(pos[1]);
  const o = {
    followLink: !!opts.followLink,
    copyUIDGID: !!opts.archive,
    quiet: !!opts.quiet || !Deno.stdout.isTerminal(),
  };
  if (sc && dc) return fail("copying between containers is not supported");
  if (!sc && !dc) return fail("must specify at least one container source");
  try {
    if (sc) await copyFrom(g, sc, sp, dp, o);
    else await copyTo(g, dc, sp, dp, o);
  } catch (e) {
    if (e instanceof CpError) return fail(e.message);
    throw e;
  }
  return 0;
}

function fail(msg: string): number {
  console.error(msg);
  return 1;
}

async function exportCmd(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive")
    .option("-o, --output <string>", "Write to a file, instead of STDOUT");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER", 1, 1);
  if (!opts.output && Deno.stdout.isTerminal()) {
    return fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  const res = await g.api().request("GET", `/containers/${encodeURIComponent(pos[0])}/export`);
  if (!opts.output) {
    await res.body!.pipeTo(Deno.stdout.writable, { preventClose: true });
    return 0;
  }
  // a temp file beside the target, then rename: no half archive under the name on failure
  const tmp = `${opts.output}.tmp-${Deno.pid}`;
  try {
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    await res.body!.pipeTo(f.writable);
    await Deno.rename(tmp, opts.output);
  } catch (e) {
    await Deno.remove(tmp).catch(keepFirstError);
    return fail(`failed to export container: ${(e as Error).message}`);
  }
  return 0;
}

export function run(name: string, args: string[], g: Globals): Promise<number> {
  switch (name) {
    case "cp":
      return cp(name, args, g);
    case "export":
      return exportCmd(name, args, g);
  }
  throw new UsageExit(1);
}
