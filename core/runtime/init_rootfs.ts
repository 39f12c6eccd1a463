/**
 * Root filesystem set-up of the built-in runtime's init (create mode), run in
 * the container's fresh mount namespace with synchronous calls only: mounts
 * from config.json, device nodes, /sys/fs/cgroup, pivot_root, masked and
 * read-only paths.
 * @module
 */

import type { OciMount, OciSpec } from "../oci/runtime_types.ts";
import type { CgroupMount } from "./init_config.ts";
import { parentMount, parseMountOptions, rootPropagation } from "./mount_opts.ts";
import { resolveInRoot } from "./securejoin.ts";
import * as c from "../sys/libc_proc.ts";
import { nsId, sysctlsError } from "../oci/sysctl.ts";

const S_IFCHR = 0o020000, S_IFBLK = 0o060000, S_IFIFO = 0o010000;

function mkdirp(p: string, mode = 0o755): void {
  Deno.mkdirSync(p, { recursive: true, mode });
}

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf("/")) || "/";
}

/** Make sure a mount point exists: a directory, or an empty file for file binds. */
function ensureMountPoint(dest: string, file: boolean): void {
  if (!file) return mkdirp(dest);
  mkdirp(dirname(dest));
  try {
    Deno.lstatSync(dest);
  } catch {
    Deno.writeFileSync(dest, new Uint8Array(), { mode: 0o644 });
  }
}

export interface RootfsOptions {
  rootfs: string;
  cgroupMounts: CgroupMount[];
  cgroupLinks: [string, string][];
  warn: (msg: string) => void;
  /** mount procfs for this pid namespace (`pidns=`, Linux ≥ 6.15), not init's own */
  procPidNs?: string;
}

/** Stage 1 (before pivot_root): propagation, rootfs self-bind, mounts, devices. */
export function prepareRootfs(spec: OciSpec, o: RootfsOptions): void {
  c.mount(null, "/", null, rootPropagation(spec.linux?.rootfsPropagation));
  // With a shared "/" (rootfsPropagation rshared), as runc: the rootfs's parent mount private, so
  // the self-bind does not propagate out and pivot_root accepts it (no shared parent).
  const parent = parentMount(Deno.readTextFileSync("/proc/self/mountinfo"), o.rootfs);
  if (parent.shared) c.mount(null, parent.at, null, c.MS_PRIVATE);
  c.mount(o.rootfs, o.rootfs, null, c.MS_BIND | c.MS_REC);
  let devMounted = false;
  for (const m of spec.mounts ?? []) {
    mountOne(m, o);
    if (m.destination === "/dev") devMounted = true;
  }
  if (devMounted) createDevices(spec, o);
}

function mountOne(m: OciMount, o: RootfsOptions): void {
  const dest = resolveInRoot(o.rootfs, m.destination);
  const opt = parseMountOptions(m.options);
  const type = m.type ?? ((opt.flags & c.MS_BIND) ? "bind" : "none");
  if (type === "cgroup" || type === "cgroup2") return mountCgroups(dest, opt.flags, o);
  if (type === "bind" || (opt.flags & c.MS_BIND)) {
    const src = m.source ?? "";
    const st = Deno.statSync(src);
    ensureMountPoint(dest, !st.isDirectory);
    c.mount(src, dest, null, c.MS_BIND | (opt.flags & c.MS_REC));
    const extra = opt.flags & ~(c.MS_BIND | c.MS_REC | c.MS_REMOUNT);
    if (extra) c.mount(null, dest, null, c.MS_BIND | c.MS_REMOUNT | extra);
  } else {
    mkdirp(dest);
    let data = opt.data;
    if (type === "proc" && o.procPidNs) {
      data = [data, `pidns=${o.procPidNs}`].filter(Boolean).join(",");
    }
    try {
      c.mount(m.source ?? type, dest, type, opt.flags, data);
    } catch (e) {
      // sysfs cannot be mounted without a new network namespace: bind the host's
      if (type !== "sysfs" || !(e instanceof c.SysError) || e.code !== "EPERM") throw e;
      c.mount("/sys", dest, null, c.MS_BIND | c.MS_REC);
      c.mount(null, dest, null, c.MS_BIND | c.MS_REMOUNT | (opt.flags & c.MS_RDONLY));
    }
  }
  for (const p of opt.propagation) c.mount(null, dest, null, p);
}

/** /sys/fs/cgroup: the container's own cgroup directories bound from the host. */
function mountCgroups(dest: string, flags: number, o: RootfsOptions): void {
  const ro = flags & c.MS_RDONLY;
  const bind = (src: string, to: string) => {
    mkdirp(to);
    c.mount(src, to, null, c.MS_BIND | c.MS_REC);
    c.mount(null, to, null, c.MS_BIND | c.MS_REMOUNT | c.MS_NOSUID | c.MS_NODEV | c.MS_NOEXEC | ro);
  };
  if (o.cgroupMounts.length === 1 && o.cgroupMounts[0].name === "") {
    return bind(o.cgroupMounts[0].source, dest);
  }
  mkdirp(dest);
  const tflags = c.MS_NOSUID | c.MS_NODEV | c.MS_NOEXEC;
  c.mount("tmpfs", dest, "tmpfs", tflags, "mode=755");
  for (const cm of o.cgroupMounts) bind(cm.source, `${dest}/${cm.name}`);
  for (const [name, target] of o.cgroupLinks) Deno.symlinkSync(target, `${dest}/${name}`);
  if (ro) c.mount(null, dest, null, c.MS_REMOUNT | tflags | c.MS_RDONLY, "mode=755");
}

function createDevices(spec: OciSpec, o: RootfsOptions): void {
  const old = c.umask(0);
  try {
    for (const d of spec.linux?.devices ?? []) {
      const dest = resolveInRoot(o.rootfs, d.path);
      mkdirp(dirname(dest));
      try {
        Deno.removeSync(dest);
      } catch { /* absent */ }
      const kind = d.type === "b" ? S_IFBLK : d.type === "p" ? S_IFIFO : S_IFCHR;
      const mode = (d.fileMode ?? 0o666) & 0o7777;
      try {
        c.mknod(dest, kind | mode, c.makedev(d.major ?? 0, d.minor ?? 0));
        if (d.uid !== undefined || d.gid !== undefined) {
          Deno.chownSync(dest, d.uid ?? 0, d.gid ?? 0);
        }
      } catch (e) {
        if (!(e instanceof c.SysError) || e.code !== "EPERM") throw e;
        ensureMountPoint(dest, true);
        c.mount(d.path, dest, null, c.MS_BIND);
      }
    }
    const dev = resolveInRoot(o.rootfs, "/dev");
    const links: [string, string][] = [
      ["/proc/self/fd", "fd"],
      ["/proc/self/fd/0", "stdin"],
      ["/proc/self/fd/1", "stdout"],
      ["/proc/self/fd/2", "stderr"],
      ["pts/ptmx", "ptmx"],
    ];
    for (const [target, name] of links) {
      try {
        Deno.removeSync(`${dev}/${name}`);
      } catch { /* absent */ }
      Deno.symlinkSync(target, `${dev}/${name}`);
    }
  } finally {
    c.umask(old);
  }
}

/** Bind the terminal onto /dev/console (before pivot_root, host path of the tty). */
export function bindConsole(rootfs: string, ttyPath: string): void {
  const dest = resolveInRoot(rootfs, "/dev/console");
  ensureMountPoint(dest, true);
  c.mount(ttyPath, dest, null, c.MS_BIND);
}

/** Stage 2: make the rootfs "/" (pivot_root, or MS_MOVE + chroot). */
export function enterRootfs(rootfs: string, noPivot: boolean): void {
  if (noPivot) {
    c.chdir(rootfs);
    c.mount(rootfs, "/", null, c.MS_MOVE);
    c.chroot(".");
    c.chdir("/");
    return;
  }
  const flags = c.O_DIRECTORY | c.O_RDONLY | c.O_CLOEXEC;
  const oldRoot = c.open("/", flags);
  const newRoot = c.open(rootfs, flags);
  try {
    c.fchdir(newRoot);
    c.pivotRoot(".", ".");
    c.fchdir(oldRoot);
    c.mount(null, ".", null, c.MS_SLAVE | c.MS_REC);
    c.umount2(".", c.MNT_DETACH);
    c.chdir("/");
  } finally {
    c.close(oldRoot);
    c.close(newRoot);
  }
}

/**
 * Refuse sysctls of a namespace this thread shares with the host (runc's
 * rule, core/oci/sysctl.ts): the caller's namespaces in `hostNs`, else those
 * of the host's pid 1. Run before pivot_root, while /proc is the host's.
 */
export function refuseHostSysctls(spec: OciSpec, hostNs?: Record<string, string>): void {
  const sysctls = spec.linux?.sysctl;
  if (!sysctls || Object.keys(sysctls).length === 0) return;
  const own = (t: string) => nsId(t) !== (hostNs?.[t] ?? nsId(t, "1"));
  const e = sysctlsError(sysctls, { net: own("net"), ipc: own("ipc"), uts: own("uts") });
  if (e) throw new Error(e);
}

/** Stage 3 (inside the new root): sysctls, masked and read-only paths, read-only root. */
export function finishRootfs(spec: OciSpec, warn: (m: string) => void): void {
  // as runc: the new "/" gets the asked propagation too (the pivot left it a slave)
  if (spec.linux?.rootfsPropagation) {
    c.mount(null, "/", null, rootPropagation(spec.linux.rootfsPropagation));
  }
  for (const [k, v] of Object.entries(spec.linux?.sysctl ?? {})) {
    try {
      Deno.writeTextFileSync(`/proc/sys/${k.replaceAll(".", "/")}`, v);
    } catch (e) {
      throw new Error(`sysctl ${k}=${v}: ${(e as Error).message}`);
    }
  }
  for (const p of spec.linux?.maskedPaths ?? []) {
    let dir: boolean;
    try {
      dir = Deno.statSync(p).isDirectory;
    } catch {
      continue;
    }
    if (dir) c.mount("tmpfs", p, "tmpfs", c.MS_RDONLY);
    else c.mount("/dev/null", p, null, c.MS_BIND);
  }
  for (const p of spec.linux?.readonlyPaths ?? []) {
    try {
      c.mount(p, p, null, c.MS_BIND | c.MS_REC);
    } catch (e) {
      if (e instanceof c.SysError && e.code === "ENOENT") continue;
      throw e;
    }
    c.mount(null, p, null, c.MS_BIND | c.MS_REMOUNT | c.MS_RDONLY | c.MS_REC);
  }
  if (spec.root.readonly) c.mount(null, "/", null, c.MS_BIND | c.MS_REMOUNT | c.MS_RDONLY);
  if (spec.hostname !== undefined && hasNs(spec, "uts")) c.sethostname(spec.hostname);
  if (spec.domainname !== undefined && hasNs(spec, "uts")) c.setdomainname(spec.domainname);
  void warn;
}

export function hasNs(spec: OciSpec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === type);
}
