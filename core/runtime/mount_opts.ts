/**
 * OCI mount options ("ro", "nosuid", "rbind", "rprivate", "size=64m", …) →
 * mount(2) flags, propagation changes and the fs-specific data string. Pure.
 * @module
 */

import {
  MS_BIND,
  MS_DIRSYNC,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from "../sys/libc_proc.ts";

/** [set?, flag] per option name */
const FLAGS: Record<string, [boolean, number]> = {
  ro: [true, MS_RDONLY],
  rw: [false, MS_RDONLY],
  nosuid: [true, MS_NOSUID],
  suid: [false, MS_NOSUID],
  nodev: [true, MS_NODEV],
  dev: [false, MS_NODEV],
  noexec: [true, MS_NOEXEC],
  exec: [false, MS_NOEXEC],
  sync: [true, MS_SYNCHRONOUS],
  async: [false, MS_SYNCHRONOUS],
  dirsync: [true, MS_DIRSYNC],
  remount: [true, MS_REMOUNT],
  mand: [true, MS_MANDLOCK],
  nomand: [false, MS_MANDLOCK],
  atime: [false, MS_NOATIME],
  noatime: [true, MS_NOATIME],
  diratime: [false, MS_NODIRATIME],
  nodiratime: [true, MS_NODIRATIME],
  bind: [true, MS_BIND],
  rbind: [true, MS_BIND | MS_REC],
  relatime: [true, MS_RELATIME],
  norelatime: [false, MS_RELATIME],
  strictatime: [true, MS_STRICTATIME],
  nostrictatime: [false, MS_STRICTATIME],
  nosymfollow: [true, MS_NOSYMFOLLOW],
  symfollow: [false, MS_NOSYMFOLLOW],
};

const PROPAGATION: Record<string, number> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

export interface ParsedMountOptions {
  flags: number;
  propagation: number[];
  data: string;
}

export function parseMountOptions(options: readonly string[] | undefined): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const o of options ?? []) {
    const f = FLAGS[o];
    if (f) {
      flags = f[0] ? flags | f[1] : flags & ~f[1];
    } else if (PROPAGATION[o] !== undefined) {
      propagation.push(PROPAGATION[o]);
    } else if (o !== "defaults" && o !== "") {
      data.push(o);
    }
  }
  return { flags, propagation, data: data.join(",") };
}

/** Rootfs propagation for "/" ("rslave" by default, like runc). */
export function rootPropagation(p: string | undefined): number {
  return PROPAGATION[p ?? ""] ?? (MS_SLAVE | MS_REC);
}

/**
 * The mount point holding `path` and whether it is shared, from mountinfo
 * (the longest mount point that is `path` or a parent of it).
 */
export function parentMount(mountinfo: string, path: string): { at: string; shared: boolean } {
  let best = { at: "/", shared: false };
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    if (f.length < 7) continue;
    const at = f[4].replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    const inside = at === "/" || path === at || path.startsWith(`${at}/`);
    if (!inside || at.length < best.at.length) continue;
    const optional = f.slice(6, f.indexOf("-"));
    best = { at, shared: optional.some((o) => o.startsWith("shared:")) };
  }
  return best;
}
