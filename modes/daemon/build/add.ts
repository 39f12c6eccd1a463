/**
 * ADD's extras and COPY's owners: local archive detection (gzip, zstd, bzip2,
 * xz or plain tar, as Docker's `isArchivePath`: a readable tar header after
 * decompression), URL downloads (name from the URL path, mtime from
 * Last-Modified, mode 0600) and `--chown` name resolution through the
 * destination root's /etc/passwd and /etc/group.
 * @module
 */
import { createHash } from "node:crypto";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { decompressStream } from "../../../core/archive/mod.ts";
import { decodeBlock } from "../../../core/archive/tar_header.ts";
import { parseGroup, parsePasswd } from "../../../core/oci/user.ts";
import { resolveInRoot } from "../../../core/runtime/securejoin.ts";
import { splitChown } from "../../../core/dockerfile/copy_rules.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";

async function readUpTo(s: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const r = s.getReader();
  const out = new Uint8Array(n);
  let got = 0;
  try {
    while (got < n) {
      const { value, done } = await r.read();
      if (done) break;
      const take = Math.min(value.length, n - got);
      out.set(value.subarray(0, take), got);
      got += take;
    }
  } finally {
    r.cancel().catch(peerGone);
  }
  return out.subarray(0, got);
}

/** Is the file a (possibly compressed) tar archive? */
export async function isArchive(path: string): Promise<boolean> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path);
  } catch {
    return false;
  }
  const magic = new Uint8Array(6);
  const n = await f.read(magic) ?? 0;
  f.close();
  if (n === 0) return false;
  let stream: ReadableStream<Uint8Array>;
  const bz = magic[0] === 0x42 && magic[1] === 0x5a && magic[2] === 0x68;
  const xz = magic[0] === 0xfd && magic[1] === 0x37 && magic[2] === 0x7a && magic[3] === 0x58;
  try {
    if (bz || xz) {
      const p = new Deno.Command(bz ? "bzip2" : "xz", {
        args: ["-dc", path],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const head = await readUpTo(p.stdout, 512);
      try {
        p.kill();
      } catch { /* exited */ }
      await p.status;
      return head.length === 512 && isTarHeader(head);
    }
    stream = decompressStream((await Deno.open(path)).readable);
    const head = await readUpTo(stream, 512);
    return head.length === 512 && isTarHeader(head);
  } catch {
    return false;
  }
}

function isTarHeader(b: Uint8Array): boolean {
  try {
    const h = decodeBlock(b);
    return !!h && h.name !== "";
  } catch {
    return false;
  }
}

export interface Downloaded {
  path: string;
  name: string;
  /** Seconds. */
  mtime: number;
  sha256: string;
}

/** Download `url` into `dir`. */
export async function download(
  url: string,
  dir: string,
  signal?: AbortSignal,
): Promise<Downloaded> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgument(`invalid URL ${url}`);
  }
  const seg = u.pathname.split("/").filter(Boolean).at(-1);
  const name = seg ? decodeURIComponent(seg) : "";
  let res: Response;
  try {
    res = await fetch(u, { signal, redirect: "follow" });
  } catch (e) {
    throw new InvalidArgument(`failed to GET ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new InvalidArgument(`failed to GET ${url} with status ${res.status} ${res.statusText}`);
  }
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/download-${crypto.randomUUID()}`;
  const f = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  const h = createHash("sha256");
  try {
    for await (const chunk of res.body ?? ReadableStream.from([])) {
      h.update(chunk);
      let off = 0;
      while (off < chunk.length) off += await f.write(chunk.subarray(off));
    }
  } finally {
    f.close();
  }
  const lm = res.headers.get("last-modified");
  const t = lm ? Date.parse(lm) : NaN;
  return {
    path,
    name,
    mtime: Number.isFinite(t) ? Math.floor(t / 1000) : Math.floor(Date.now() / 1000),
    sha256: h.digest("hex"),
  };
}

export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function readIn(root: string, p: string): string {
  try {
    return Deno.readTextFileSync(resolveInRoot(root, p));
  } catch {
    return "";
  }
}

const NUM = /^\d+$/;

/** `--chown=user[:group]` → numeric ids, names looked up in `root`. */
export function resolveChown(root: string, spec: string): { uid: number; gid: number } {
  const { user, group } = splitChown(spec);
  if (user === "") throw new InvalidArgument(`invalid --chown value ${JSON.stringify(spec)}`);
  let uid: number, gid: number;
  let primary: number | undefined;
  if (NUM.test(user)) uid = Number(user);
  else {
    const u = parsePasswd(readIn(root, "/etc/passwd")).find((e) => e.name === user);
    if (!u) {
      throw new InvalidArgument(`unable to find user ${user}: no matching entries in passwd file`);
    }
    uid = u.uid;
    primary = u.gid;
  }
  if (group === undefined || group === "") gid = primary ?? uid;
  else if (NUM.test(group)) gid = Number(group);
  else {
    const g = parseGroup(readIn(root, "/etc/group")).find((e) => e.name === group);
    if (!g) {
      throw new InvalidArgument(`unable to find group ${group}: no matching entries in group file`);
    }
    gid = g.gid;
  }
  return { uid, gid };
}
