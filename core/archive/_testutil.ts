/**
 * Test helpers: build a fixture tree with every entry kind, and snapshot a
 * tree (every lstat field that a layer must preserve) for comparison.
 * @module
 */
import fs from "node:fs";
import { createHash } from "node:crypto";
import { type TarHeaderInit, tarWriter } from "./mod.ts";
import {
  lgetxattrs,
  lsetxattr,
  mknod,
  S_IFBLK,
  S_IFCHR,
  S_IFIFO,
  splitDev,
} from "../sys/libc_fs.ts";

const enc = new TextEncoder();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export interface Snap {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  sha?: string;
  link?: string;
  dev?: string;
  xattrs: Record<string, string>;
  /** other paths sharing this inode (hardlinks), sorted */
  links?: string[];
}

function kind(st: Deno.FileInfo): string {
  if (st.isDirectory) return "dir";
  if (st.isSymlink) return "symlink";
  if (st.isFile) return "file";
  if (st.isCharDevice) return "char";
  if (st.isBlockDevice) return "block";
  if (st.isFifo) return "fifo";
  return "other";
}

/** Snapshot everything below root (root itself excluded), keyed by relative path. */
export function snapshot(root: string, opts: { skipXattr?: (k: string) => boolean } = {}) {
  const out: Record<string, Snap> = {};
  const inodes = new Map<number, string[]>();
  const walk = (rel: string) => {
    for (const e of [...Deno.readDirSync(rel ? `${root}/${rel}` : root)]) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const p = `${root}/${r}`;
      const st = Deno.lstatSync(p);
      const xattrs: Record<string, string> = {};
      for (const [k, v] of lgetxattrs(p)) if (!opts.skipXattr?.(k)) xattrs[k] = hex(v);
      const s: Snap = {
        type: kind(st),
        mode: st.mode! & 0o7777,
        uid: st.uid!,
        gid: st.gid!,
        mtime: Math.floor(st.mtime!.getTime() / 1000),
        xattrs,
      };
      if (st.isFile) {
        s.size = st.size;
        s.sha = createHash("sha256").update(Deno.readFileSync(p)).digest("hex");
        if (st.nlink! > 1) inodes.set(st.ino!, [...(inodes.get(st.ino!) ?? []), r]);
      }
      if (st.isSymlink) s.link = Deno.readLinkSync(p);
      if (st.isCharDevice || st.isBlockDevice) {
        const d = splitDev(st.rdev!);
        s.dev = `${d.major}:${d.minor}`;
      }
      out[r] = s;
      if (st.isDirectory) walk(r);
    }
  };
  walk("");
  for (const group of inodes.values()) {
    for (const r of group) out[r].links = group.filter((x) => x !== r).sort();
  }
  return out;
}

// A valid VFS_CAP_REVISION_2 security.capability value: cap_net_raw, effective.
export const CAP_NET_RAW = new Uint8Array([
  1,
  0,
  0,
  2,
  0,
  0x20,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
]);

/** A tree with every entry kind, odd modes, owners, xattrs and mtimes. */
export function makeFixture(root: string): void {
  const w = (rel: string, data: string | Uint8Array, mode = 0o644) => {
    Deno.writeFileSync(`${root}/${rel}`, typeof data === "string" ? enc.encode(data) : data);
    Deno.chmodSync(`${root}/${rel}`, mode);
  };
  for (const d of ["bin", "tmp", "d1/d2/d3", "private", "ünï"]) {
    Deno.mkdirSync(`${root}/${d}`, { recursive: true });
  }
  w("a.txt", "hello\n");
  w("empty", "");
  w("bin/su", "#!/bin/su\n".repeat(1000), 0o755);
  fs.chownSync(`${root}/bin/su`, 0, 0);
  Deno.chmodSync(`${root}/bin/su`, 0o4755);
  w("bin/sg", "sg", 0o711);
  fs.chownSync(`${root}/bin/sg`, 1234, 1234);
  Deno.chmodSync(`${root}/bin/sg`, 0o2711);
  Deno.linkSync(`${root}/bin/su`, `${root}/bin/su-link`);
  Deno.linkSync(`${root}/bin/su`, `${root}/d1/su-link2`);
  Deno.chmodSync(`${root}/tmp`, 0o1777);
  Deno.chmodSync(`${root}/private`, 0o700);
  fs.chownSync(`${root}/private`, 1234, 4321);
  w("private/big-uid", "x");
  fs.chownSync(`${root}/private/big-uid`, 300000, 3000000);
  w("d1/d2/d3/deep", "deep");
  const long = "l".repeat(60) + "/" + "o".repeat(60) + "/" + "n".repeat(110);
  Deno.mkdirSync(`${root}/${long.slice(0, long.lastIndexOf("/"))}`, { recursive: true });
  w(long, "long name");
  w("ünï/cødé.txt", "unicode");
  w("ping", "binary", 0o755);
  lsetxattr(`${root}/ping`, "security.capability", CAP_NET_RAW);
  Deno.symlinkSync("a.txt", `${root}/lnk`);
  fs.lchownSync(`${root}/lnk`, 1234, 1234);
  Deno.symlinkSync("/etc/passwd", `${root}/abs-lnk`);
  Deno.symlinkSync("x".repeat(150), `${root}/long-lnk`);
  mknod(`${root}/fifo`, S_IFIFO | 0o640);
  Deno.chmodSync(`${root}/fifo`, 0o640);
  mknod(`${root}/null`, S_IFCHR | 0o666, 1, 3);
  Deno.chmodSync(`${root}/null`, 0o666);
  mknod(`${root}/sda`, S_IFBLK | 0o660, 8, 0);
  Deno.chmodSync(`${root}/sda`, 0o660);
  lsetxattr(`${root}/a.txt`, "user.foo", enc.encode("bar"));
  lsetxattr(`${root}/a.txt`, "trusted.bin", new Uint8Array([0, 0xff, 0x80, 10, 61]));
  lsetxattr(`${root}/d1`, "user.dir", enc.encode("on a dir"));
  lsetxattr(`${root}/lnk`, "trusted.onlink", enc.encode("1"));
  // odd mtimes everywhere, dirs last (deepest first)
  let t = 123456789;
  const all = Object.keys(snapshot(root)).sort().reverse();
  for (const rel of all) fs.lutimesSync(`${root}/${rel}`, t, t++);
}

/** Bytes of a stream. */
export async function bytes(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** A stream of one chunk. */
export function streamOf(b: Uint8Array): ReadableStream<Uint8Array> {
  return ReadableStream.from([b]);
}

/** Run a command, throw on failure. */
export function sh(cmd: string, ...args: string[]): string {
  const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
  return new TextDecoder().decode(r.stdout);
}

/** A tar entry for {@link makeTar}: a header plus text data for files. */
export type E = TarHeaderInit & { data?: string };

/** Build a tar with our writer. */
export async function makeTar(entries: E[]): Promise<Uint8Array> {
  const w = tarWriter();
  const out = bytes(w.stream);
  for (const e of entries) {
    const data = new TextEncoder().encode(e.data ?? "");
    await w.addEntry({ mode: e.type === "dir" ? 0o755 : 0o644, ...e, size: data.length }, data);
  }
  await w.finish();
  return out;
}
