/**
 * The host's device nodes, for `--privileged` (what runc's
 * devices.HostDevices gives Docker): every character and block device under
 * /dev, recursively, except the directories a container gets its own of (pts,
 * shm, mqueue, fd) and /dev/console; the defaults the spec already has (null,
 * zero, ptmx, …) are left to it.
 * @module
 */

import type { OciDevice } from "./runtime_types.ts";

const SKIP_DIRS = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);
const SKIP_FILES = new Set(["console", "ptmx"]);

/** Character and block devices under `dir` (default /dev) as OCI devices. */
export function hostDevices(dir = "/dev"): OciDevice[] {
  const out: OciDevice[] = [];
  const walk = (d: string, top: boolean) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(d)];
    } catch {
      return; // unreadable or gone: nothing to pass on
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) {
        if (!SKIP_DIRS.has(e.name)) walk(p, false);
        continue;
      }
      if (top && SKIP_FILES.has(e.name)) continue;
      let st: Deno.FileInfo;
      try {
        st = Deno.lstatSync(p);
      } catch {
        continue; // removed meanwhile
      }
      const node = deviceOf(st, p.slice(dir.length) ? `/dev${p.slice(dir.length)}` : p);
      if (node) out.push(node);
    }
  };
  walk(dir, true);
  return out.sort((a, b) => a.path < b.path ? -1 : 1);
}

/** The OCI device of a character/block node's lstat, at `path` in the container. */
export function deviceOf(st: Deno.FileInfo, path: string): OciDevice | undefined {
  if (!st.isCharDevice && !st.isBlockDevice) return undefined;
  const rdev = BigInt(st.rdev ?? 0);
  return {
    type: st.isBlockDevice ? "b" : "c",
    path,
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
    fileMode: (st.mode ?? 0o600) & 0o7777,
    uid: st.uid ?? 0,
    gid: st.gid ?? 0,
  };
}
