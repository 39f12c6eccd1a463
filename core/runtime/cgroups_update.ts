/**
 * Change the limits of a live container's cgroup (`docker update`), v1 (and
 * hybrid) and v2. Only the fields set are written; zero/undefined leave the
 * current value. Memory and swap on v1 are written in the order the kernel
 * accepts (runc's rule: raise memsw before memory, lower memory first).
 * Failures carry runc's wording, e.g. a memory limit under the current usage:
 * `unable to set memory limit to N (current usage: U, peak usage: P)`.
 *
 * @example
 * ```ts ignore
 * import { Cgroup } from "./cgroups.ts";
 * import { updateCgroup } from "./cgroups_update.ts";
 * updateCgroup(new Cgroup("/berth/<id>"), { pids: { limit: 50 } });
 * ```
 * @module
 */
import type { OciResources } from "../oci/runtime_types.ts";
import { type Cgroup, layout } from "./cgroups.ts";
import { existsSync } from "../errdefs/ignore.ts";

function readText(p: string): string {
  try {
    return Deno.readTextFileSync(p).trim();
  } catch {
    return ""; // no such file: treated as unset
  }
}

function write(path: string, v: string | number): void {
  try {
    Deno.writeTextFileSync(path, String(v));
  } catch (e) {
    throw new Error(`failed to write ${JSON.stringify(String(v))} to ${path}: ${errText(e)}`);
  }
}

function errText(e: unknown): string {
  const m = (e as Error).message ?? String(e);
  if (e instanceof Deno.errors.Busy || /EBUSY|resource busy/i.test(m)) {
    return "device or resource busy";
  }
  if (e instanceof Deno.errors.InvalidData || /EINVAL|invalid argument/i.test(m)) {
    return "invalid argument";
  }
  return m;
}

/** Whether a Block I/O weight can be set on this host (moby's sysinfo check). */
export function blkioWeightSupported(): boolean {
  const l = layout();
  if (l.kind === "v2") {
    const h = l.hierarchies[0];
    return readText(`${h.mountpoint}/cgroup.controllers`).split(/\s+/).includes("io");
  }
  const h = l.hierarchies.find((x) => x.controllers.includes("blkio"));
  return !!h && existsSync(`${h.mountpoint}/blkio.weight`);
}

function memoryV1(d: string, limit: number | undefined, swap: number | undefined): void {
  const memFile = `${d}/memory.limit_in_bytes`, swFile = `${d}/memory.memsw.limit_in_bytes`;
  const haveSwap = existsSync(swFile);
  const setMem = (v: number) => {
    try {
      Deno.writeTextFileSync(memFile, String(v));
    } catch (e) {
      if (e instanceof Deno.errors.Busy || /EBUSY|busy/i.test((e as Error).message)) {
        const usage = readText(`${d}/memory.usage_in_bytes`);
        const peak = readText(`${d}/memory.max_usage_in_bytes`);
        throw new Error(
          `unable to set memory limit to ${v} (current usage: ${usage}, peak usage: ${peak})`,
        );
      }
      throw new Error(`failed to write ${v} to ${memFile}: ${errText(e)}`);
    }
  };
  if (limit && swap && haveSwap) {
    const cur = Number(readText(memFile));
    if (swap === -1 || cur < swap) {
      write(swFile, swap);
      setMem(limit);
    } else {
      setMem(limit);
      write(swFile, swap);
    }
    return;
  }
  if (limit) setMem(limit);
  if (swap && haveSwap) write(swFile, swap);
}

function updateV1(cg: Cgroup, r: OciResources): void {
  const w = (ctrl: string, file: string, v: string | number | undefined) => {
    const d = cg.find(ctrl);
    if (d && v !== undefined) write(`${d}/${file}`, v);
  };
  const m = r.memory;
  const mem = cg.find("memory");
  if (mem && (m?.limit || m?.swap)) memoryV1(mem, m.limit, m.swap);
  if (m?.reservation) w("memory", "memory.soft_limit_in_bytes", m.reservation);
  const cpu = r.cpu;
  if (cpu?.shares) w("cpu", "cpu.shares", cpu.shares);
  if (cpu?.period) w("cpu", "cpu.cfs_period_us", cpu.period);
  if (cpu?.quota) w("cpu", "cpu.cfs_quota_us", cpu.quota);
  if (cpu?.cpus) w("cpuset", "cpuset.cpus", cpu.cpus);
  if (cpu?.mems) w("cpuset", "cpuset.mems", cpu.mems);
  if (r.pids) w("pids", "pids.max", r.pids.limit > 0 ? r.pids.limit : "max");
  if (r.blockIO?.weight) w("blkio", "blkio.weight", r.blockIO.weight);
}

function updateV2(cg: Cgroup, r: OciResources): void {
  const d = cg.find("memory")!;
  const w = (file: string, v: string | number) => {
    if (!existsSync(`${d}/${file}`)) {
      const ctrl = file.slice(0, file.indexOf("."));
      throw new Error(
        `cgroup v2: the ${ctrl} controller is not enabled for ${cg.path} (cannot set ${file})`,
      );
    }
    write(`${d}/${file}`, v);
  };
  const m = r.memory;
  if (m?.limit) w("memory.max", m.limit > 0 ? m.limit : "max");
  if (m?.swap && existsSync(`${d}/memory.swap.max`)) {
    const limit = m.limit || Number(readText(`${d}/memory.max`)) || 0;
    w("memory.swap.max", m.swap < 0 ? "max" : Math.max(0, m.swap - limit));
  }
  if (m?.reservation) w("memory.low", m.reservation);
  const cpu = r.cpu;
  if (cpu?.quota || cpu?.period) {
    const [q0, p0] = readText(`${d}/cpu.max`).split(/\s+/);
    const quota = cpu.quota ? (cpu.quota > 0 ? String(cpu.quota) : "max") : (q0 || "max");
    w("cpu.max", `${quota} ${cpu.period || p0 || 100000}`);
  }
  if (cpu?.shares) w("cpu.weight", 1 + Math.floor(((cpu.shares - 2) * 9999) / 262142));
  if (cpu?.cpus) w("cpuset.cpus", cpu.cpus);
  if (cpu?.mems) w("cpuset.mems", cpu.mems);
  if (r.pids) w("pids.max", r.pids.limit > 0 ? r.pids.limit : "max");
  const bw = r.blockIO?.weight;
  if (bw) {
    // blkio weight 10..1000 → io.weight 1..10000 (runc's conversion)
    const iow = 1 + Math.floor(((bw - 10) * 9999) / 990);
    if (existsSync(`${d}/io.bfq.weight`)) w("io.bfq.weight", bw);
    else w("io.weight", `default ${iow}`);
  }
}

/** Write the set fields of `r` to the container's live cgroup. */
export function updateCgroup(cg: Cgroup, r: OciResources): void {
  if (cg.layout.kind === "v2") updateV2(cg, r);
  else updateV1(cg, r);
}
