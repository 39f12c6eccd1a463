/**
 * cgroups for containers, on v1, v2 and the hybrid layout (v1 controllers +
 * an empty v2 at /sys/fs/cgroup/unified): create the container's cgroup in
 * every hierarchy, write the OCI resources, freeze/thaw, list pids, detect
 * OOM kills, remove. Runs in the caller (shim/daemon), not in init.
 * @module
 */

import type { OciResources } from "../oci/runtime_types.ts";
import type { CgroupMount } from "./init_config.ts";
import { existsSync } from "../errdefs/ignore.ts";

export interface Hierarchy {
  mountpoint: string;
  /** controllers of a v1 hierarchy ("cpu", "memory", "name=systemd"); [] for v2 */
  controllers: string[];
  v2: boolean;
}

export interface CgroupLayout {
  kind: "v1" | "v2" | "hybrid";
  hierarchies: Hierarchy[];
  /** symlinks in the cgroup root (cpuacct → cpu,cpuacct), [name, target] */
  links: [string, string][];
}

let cached: CgroupLayout | undefined;

/** Parse /proc/self/mountinfo text into a layout (exported for tests). */
export function parseLayout(mountinfo: string): CgroupLayout {
  const hierarchies: Hierarchy[] = [];
  for (const line of mountinfo.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!post) continue;
    const [fstype, , superopts] = post.split(" ");
    const mountpoint = pre.split(" ")[4];
    if (fstype === "cgroup2") hierarchies.push({ mountpoint, controllers: [], v2: true });
    else if (fstype === "cgroup") {
      const controllers = superopts.split(",").filter((o) =>
        o !== "rw" && o !== "ro" && !o.startsWith("release_agent") && o !== "clone_children" &&
        o !== "noprefix" && o !== "xattr"
      );
      hierarchies.push({ mountpoint, controllers, v2: false });
    }
  }
  // Only the system's cgroup mounts: the same hierarchy mounted again elsewhere
  // (a tool's, a test's private mount) is not where containers' cgroups go.
  const sys = hierarchies.filter((h) =>
    h.mountpoint === "/sys/fs/cgroup" || h.mountpoint.startsWith("/sys/fs/cgroup/")
  );
  const used = sys.length ? sys : hierarchies;
  const v1 = used.some((h) => !h.v2), v2 = used.some((h) => h.v2);
  return { kind: v1 && v2 ? "hybrid" : v2 ? "v2" : "v1", hierarchies: used, links: [] };
}

export function layout(): CgroupLayout {
  if (cached) return cached;
  const l = parseLayout(Deno.readTextFileSync("/proc/self/mountinfo"));
  if (l.kind !== "v2") {
    const root = "/sys/fs/cgroup";
    for (const e of Deno.readDirSync(root)) {
      if (e.isSymlink) l.links.push([e.name, Deno.readLinkSync(`${root}/${e.name}`)]);
    }
  }
  return cached = l;
}

/** A container's cgroup: one directory per hierarchy. */
export class Cgroup {
  readonly path: string;
  readonly layout: CgroupLayout;
  constructor(cgroupsPath: string, l: CgroupLayout = layout()) {
    if (cgroupsPath.includes("..") || !cgroupsPath.startsWith("/")) {
      throw new Error(`invalid cgroupsPath ${cgroupsPath} (want an absolute cgroupfs path)`);
    }
    this.path = cgroupsPath.replace(/\/+$/, "");
    this.layout = l;
  }
  dir(h: Hierarchy): string {
    return h.mountpoint + this.path;
  }
  /** directory of the hierarchy holding `controller` ("memory", "freezer", …) */
  find(controller: string): string | undefined {
    const l = this.layout;
    const h = l.kind === "v2"
      ? l.hierarchies.find((x) => x.v2)
      : l.hierarchies.find((x) => x.controllers.includes(controller));
    return h && this.dir(h);
  }
  /** cgroup.procs files init writes "0" to */
  procsFiles(): string[] {
    return this.layout.hierarchies.map((h) => `${this.dir(h)}/cgroup.procs`);
  }
  /** what to bind under the container's /sys/fs/cgroup */
  mounts(): CgroupMount[] {
    if (this.layout.kind === "v2") {
      return [{ name: "", source: this.dir(this.layout.hierarchies[0]) }];
    }
    return this.layout.hierarchies.map((h) => ({
      name: h.mountpoint.slice(h.mountpoint.lastIndexOf("/") + 1),
      source: this.dir(h),
    }));
  }

  /** Create the directories and write the limits. */
  create(res: OciResources | undefined): string[] {
    const warnings: string[] = [];
    for (const h of this.layout.hierarchies) {
      if (h.v2 && this.layout.kind === "v2") enableV2Controllers(h.mountpoint, this.path);
      mkdirLevels(h, this.path);
    }
    if (res) {
      if (this.layout.kind === "v2") this.#applyV2(res, warnings);
      else this.#applyV1(res);
    }
    return warnings;
  }

  #applyV1(r: OciResources): void {
    const w = (ctrl: string, file: string, v: string | number | undefined) => {
      const d = this.find(ctrl);
      if (d && v !== undefined) Deno.writeTextFileSync(`${d}/${file}`, String(v));
    };
    const m = r.memory;
    if (m?.limit !== undefined && m.limit > 0) w("memory", "memory.limit_in_bytes", m.limit);
    if (m?.swap !== undefined && m.swap !== 0) {
      const d = this.find("memory");
      if (d && existsSync(`${d}/memory.memsw.limit_in_bytes`)) {
        w("memory", "memory.memsw.limit_in_bytes", m.swap);
      }
    }
    if (m?.reservation) w("memory", "memory.soft_limit_in_bytes", m.reservation);
    if (m?.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 100) {
      w("memory", "memory.swappiness", m.swappiness);
    }
    if (m?.disableOOMKiller) w("memory", "memory.oom_control", 1);
    const cpu = r.cpu;
    if (cpu?.shares) w("cpu", "cpu.shares", cpu.shares);
    if (cpu?.period) w("cpu", "cpu.cfs_period_us", cpu.period);
    if (cpu?.quota) w("cpu", "cpu.cfs_quota_us", cpu.quota);
    if (cpu?.cpus) w("cpuset", "cpuset.cpus", cpu.cpus);
    if (cpu?.mems) w("cpuset", "cpuset.mems", cpu.mems);
    if (r.pids) w("pids", "pids.max", r.pids.limit > 0 ? r.pids.limit : "max");
    for (const d of r.devices ?? []) {
      const rule = d.type === "a" || !d.type
        ? "a"
        : `${d.type} ${d.major ?? "*"}:${d.minor ?? "*"} ${d.access ?? "rwm"}`;
      w("devices", d.allow ? "devices.allow" : "devices.deny", rule);
    }
  }

  #applyV2(r: OciResources, warnings: string[]): void {
    const d = this.find("memory")!;
    const w = (file: string, v: string | number) => {
      try {
        Deno.writeTextFileSync(`${d}/${file}`, String(v));
      } catch (e) {
        // cgroupfs: no such file, and no creating one
        const missing = e instanceof Deno.errors.NotFound ||
          e instanceof Deno.errors.PermissionDenied;
        if (!missing || existsSync(`${d}/${file}`)) throw e;
        const ctrl = file.slice(0, file.indexOf("."));
        throw new Error(
          `cgroup v2: the ${ctrl} controller is not enabled for ${this.path} (cannot set ${file})`,
        );
      }
    };
    const m = r.memory;
    if (m?.limit !== undefined && m.limit > 0) w("memory.max", m.limit);
    if (m?.swap !== undefined && m.swap !== 0 && existsSync(`${d}/memory.swap.max`)) {
      w("memory.swap.max", m.swap < 0 ? "max" : Math.max(0, m.swap - (m.limit ?? 0)));
    }
    if (m?.reservation) w("memory.low", m.reservation);
    const cpu = r.cpu;
    if (cpu?.quota || cpu?.period) {
      w(
        "cpu.max",
        `${cpu.quota && cpu.quota > 0 ? cpu.quota : "max"} ${cpu.period ?? 100000}`,
      );
    }
    if (cpu?.shares) w("cpu.weight", 1 + Math.floor(((cpu.shares - 2) * 9999) / 262142));
    if (cpu?.cpus) w("cpuset.cpus", cpu.cpus);
    if (cpu?.mems) w("cpuset.mems", cpu.mems);
    if (r.pids) w("pids.max", r.pids.limit > 0 ? r.pids.limit : "max");
    if (r.devices?.length) {
      warnings.push("device cgroup rules are not enforced on cgroup v2 (no eBPF)");
    }
  }

  /** Freeze (true) or thaw (false) and wait until the kernel reports it done. */
  async freeze(on: boolean): Promise<void> {
    const v2 = this.layout.kind === "v2";
    const d = this.find("freezer");
    if (!d) throw new Error("no freezer cgroup on this host");
    const want = on ? "FROZEN" : "THAWED";
    Deno.writeTextFileSync(
      v2 ? `${d}/cgroup.freeze` : `${d}/freezer.state`,
      v2 ? (on ? "1" : "0") : want,
    );
    for (let i = 0; i < 1000; i++) {
      if (this.frozen() === on) return;
      await new Promise((r) => setTimeout(r, 2));
      if (!v2 && on && i % 50 === 49) Deno.writeTextFileSync(`${d}/freezer.state`, want);
    }
    throw new Error(`timed out waiting for the cgroup to become ${want.toLowerCase()}`);
  }

  frozen(): boolean {
    const d = this.find("freezer");
    if (!d) return false;
    try {
      if (this.layout.kind === "v2") {
        return /^frozen 1$/m.test(Deno.readTextFileSync(`${d}/cgroup.events`));
      }
      return (Deno.readTextFileSync(`${d}/freezer.state`)).trim() === "FROZEN";
    } catch {
      return false;
    }
  }

  /** True when the kernel OOM-killed a process of this cgroup. */
  oomKilled(): boolean {
    const d = this.find("memory");
    if (!d) return false;
    const file = this.layout.kind === "v2" ? "memory.events" : "memory.oom_control";
    try {
      const m = /^oom_kill (\d+)$/m.exec(Deno.readTextFileSync(`${d}/${file}`));
      return !!m && Number(m[1]) > 0;
    } catch {
      return false;
    }
  }

  /** Host pids of the processes in the cgroup. */
  pids(): number[] {
    const d = this.find("pids") ?? this.find("memory") ?? this.dir(this.layout.hierarchies[0]);
    try {
      const t = Deno.readTextFileSync(`${d}/cgroup.procs`);
      return t.split("\n").filter((x) => x).map(Number);
    } catch {
      return [];
    }
  }

  /** Remove every directory (retrying while the last tasks exit). */
  async remove(): Promise<void> {
    for (const h of this.layout.hierarchies) {
      const d = this.dir(h);
      for (let i = 0;; i++) {
        try {
          Deno.removeSync(d);
          break;
        } catch (e) {
          if (e instanceof Deno.errors.NotFound) break;
          if (i >= 200) throw new Error(`cannot remove cgroup ${d}: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    }
  }
}

/** mkdir each level; on v1 cpuset, copy cpus/mems from the parent (else tasks cannot join). */
function mkdirLevels(h: Hierarchy, path: string): void {
  let cur = h.mountpoint;
  for (const part of path.split("/").filter((p) => p)) {
    const parent = cur;
    cur = `${cur}/${part}`;
    try {
      Deno.mkdirSync(cur);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    if (!h.v2 && h.controllers.includes("cpuset")) {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) {
        if ((Deno.readTextFileSync(`${cur}/${f}`)).trim() === "") {
          Deno.writeTextFileSync(`${cur}/${f}`, Deno.readTextFileSync(`${parent}/${f}`));
        }
      }
    }
  }
}

/** cgroup v2: enable the controllers we use in every ancestor's subtree_control. */
function enableV2Controllers(root: string, path: string): void {
  const avail = (Deno.readTextFileSync(`${root}/cgroup.controllers`)).trim().split(/\s+/);
  const want = ["cpu", "cpuset", "memory", "pids", "io"].filter((c) => avail.includes(c));
  let cur = root;
  const parts = path.split("/").filter((p) => p);
  for (let i = 0; i < parts.length; i++) {
    if (want.length) {
      try {
        Deno.writeTextFileSync(`${cur}/cgroup.subtree_control`, want.map((c) => "+" + c).join(" "));
      } catch { /* already enabled higher up, or not delegable */ }
    }
    cur = `${cur}/${parts[i]}`;
    try {
      Deno.mkdirSync(cur);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
}
