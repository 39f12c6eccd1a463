/**
 * Resource usage of a container's cgroup in the shape of Docker's stats
 * (moby api/types StatsJSON: pids_stats, blkio_stats, cpu_stats,
 * memory_stats), for cgroup v1 (and the hybrid layout, whose controllers are
 * v1) and v2. The host-wide parts (system_cpu_usage, online_cpus, memory
 * size) and the network counters of a process's netns are here too.
 *
 * @example
 * ```ts ignore
 * import { Cgroup } from "./cgroups.ts";
 * import { readCgroupStats } from "./cgroups_stats.ts";
 * const s = readCgroupStats(new Cgroup("/berth/<id>"));
 * console.log(s.memory_stats.usage, s.cpu_stats.cpu_usage.total_usage);
 * ```
 * @module
 */
import type { Cgroup } from "./cgroups.ts";

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface CpuStats {
  cpu_usage: {
    total_usage: number;
    percpu_usage?: number[];
    usage_in_kernelmode: number;
    usage_in_usermode: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}

export interface CgroupStats {
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, BlkioEntry[] | null>;
  cpu_stats: CpuStats;
  memory_stats: MemoryStats;
}

export interface NetStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** Docker's blkio_stats keys, in its order. */
export const BLKIO_KEYS = [
  "io_service_bytes_recursive",
  "io_serviced_recursive",
  "io_queue_recursive",
  "io_service_time_recursive",
  "io_wait_time_recursive",
  "io_merged_recursive",
  "io_time_recursive",
  "sectors_recursive",
];

/** The memory.stat keys Docker reports on v1 (containerd's cgroups v1 MemoryStat). */
const V1_MEMORY_KEYS = [
  "cache",
  "rss",
  "rss_huge",
  "mapped_file",
  "dirty",
  "writeback",
  "pgpgin",
  "pgpgout",
  "pgfault",
  "pgmajfault",
  "inactive_anon",
  "active_anon",
  "inactive_file",
  "active_file",
  "unevictable",
  "hierarchical_memory_limit",
  "hierarchical_memsw_limit",
];

/** …and on v2 (containerd's cgroups v2 MemoryStat). */
const V2_MEMORY_KEYS = [
  "anon",
  "file",
  "kernel_stack",
  "slab",
  "sock",
  "shmem",
  "file_mapped",
  "file_dirty",
  "file_writeback",
  "anon_thp",
  "inactive_anon",
  "active_anon",
  "inactive_file",
  "active_file",
  "unevictable",
  "slab_reclaimable",
  "slab_unreclaimable",
  "pgfault",
  "pgmajfault",
  "workingset_refault",
  "workingset_activate",
  "workingset_nodereclaim",
  "pgrefill",
  "pgscan",
  "pgsteal",
  "pgactivate",
  "pgdeactivate",
  "pglazyfree",
  "pglazyfreed",
  "thp_fault_alloc",
  "thp_collapse_alloc",
];

/** USER_HZ: cpuacct.stat and /proc/stat count in these (100 on Linux). */
const CLOCK_TICKS = 100;
const NS_PER_TICK = 1e9 / CLOCK_TICKS;

/** A file's text, or undefined when it is not there (controller missing, cgroup gone). */
function read(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined; // absent file = no data, as Docker's collector treats it
  }
}

/** An integer file; "max" and absent give undefined. */
function readInt(path: string): number | undefined {
  const t = read(path)?.trim();
  if (t === undefined || t === "" || t === "max") return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat) → map. */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** v1 blkio `MAJ:MIN Op value` lines (the trailing `Total N` is skipped). */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? "").split("\n")) {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.push({ major: +m[1], minor: +m[2], op: m[3], value: +m[4] });
  }
  return out;
}

/** v2 io.stat (`MAJ:MIN rbytes=… wbytes=… …`) → Docker's read/write entries, or null. */
export function parseIoStatV2(text: string | undefined): BlkioEntry[] | null {
  let out: BlkioEntry[] | null = null;
  for (const line of (text ?? "").split("\n")) {
    const m = /^(\d+):(\d+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const kv: Record<string, number> = {};
    for (const f of m[3].split(/\s+/)) {
      const [k, v] = f.split("=");
      if (v !== undefined) kv[k] = Number(v);
    }
    const major = +m[1], minor = +m[2];
    (out ??= []).push(
      { major, minor, op: "read", value: kv.rbytes ?? 0 },
      { major, minor, op: "write", value: kv.wbytes ?? 0 },
    );
  }
  return out;
}

function pick(all: Record<string, number>, keys: string[], zero: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) {
    if (k in all || zero) out[k] = all[k] ?? 0;
  }
  return out;
}

/** Sorted keys (Go marshals maps sorted; the docker CLI does not care, people diffing do). */
function sorted(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

let memTotal: number | undefined;

/** The host's memory in bytes (Docker caps a container's reported limit at it). */
export function machineMemory(): number {
  if (memTotal !== undefined) return memTotal;
  const m = /^MemTotal:\s+(\d+) kB/m.exec(read("/proc/meminfo") ?? "");
  return memTotal = m ? Number(m[1]) * 1024 : 0;
}

/** Host CPU time in ns from /proc/stat's `cpu` line (moby: its first seven fields). */
export function systemCpuUsage(): number {
  const line = (read("/proc/stat") ?? "").split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return 0;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((n, x) => n + Number(x), 0);
  return ticks * NS_PER_TICK;
}

/** Online CPUs (/sys/devices/system/cpu/online ranges). */
export function onlineCpus(): number {
  const t = read("/sys/devices/system/cpu/online")?.trim();
  if (!t) return navigator.hardwareConcurrency;
  let n = 0;
  for (const part of t.split(",")) {
    const [a, b] = part.split("-").map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

function capLimit(limit: number | undefined): number | undefined {
  const mm = machineMemory();
  if (limit === undefined) return mm || undefined;
  return mm > 0 && limit > mm ? mm : limit;
}

function statsV1(cg: Cgroup): CgroupStats {
  const pidsDir = cg.find("pids"), cpuacct = cg.find("cpuacct"), cpu = cg.find("cpu");
  const mem = cg.find("memory"), blkio = cg.find("blkio");
  const acct = parseFlatKeyed(cpuacct && read(`${cpuacct}/cpuacct.stat`));
  const thr = parseFlatKeyed(cpu && read(`${cpu}/cpu.stat`));
  const percpu = (cpuacct && read(`${cpuacct}/cpuacct.usage_percpu`))?.trim().split(/\s+/)
    .filter((x) => x).map(Number);
  const blk: Record<string, BlkioEntry[] | null> = {};
  for (const k of BLKIO_KEYS) blk[k] = [];
  if (blkio) {
    // CFQ's files when the scheduler keeps them, else the throttle layer's (containerd's rule)
    const cfq = read(`${blkio}/blkio.io_serviced_recursive`);
    const pre = cfq && cfq.trim() !== "" && !/^Total 0$/.test(cfq.trim())
      ? "blkio."
      : "blkio.throttle.";
    blk.io_service_bytes_recursive = parseBlkioV1(
      read(`${blkio}/${pre}io_service_bytes_recursive`),
    );
    blk.io_serviced_recursive = parseBlkioV1(read(`${blkio}/${pre}io_serviced_recursive`));
    if (pre === "blkio.") {
      const more: [string, string][] = [
        ["io_queue_recursive", "io_queued_recursive"],
        ["io_service_time_recursive", "io_service_time_recursive"],
        ["io_wait_time_recursive", "io_wait_time_recursive"],
        ["io_merged_recursive", "io_merged_recursive"],
        ["io_time_recursive", "time_recursive"],
        ["sectors_recursive", "sectors_recursive"],
      ];
      for (const [k, f] of more) blk[k] = parseBlkioV1(read(`${blkio}/blkio.${f}`));
    }
  }
  const all = parseFlatKeyed(mem && read(`${mem}/memory.stat`));
  const stats: Record<string, number> = {};
  for (const k of V1_MEMORY_KEYS) {
    if (k in all) stats[k] = all[k];
    if (`total_${k}` in all) stats[`total_${k}`] = all[`total_${k}`];
  }
  const failcnt = mem ? readInt(`${mem}/memory.failcnt`) : undefined;
  const limit = pidsDir ? readInt(`${pidsDir}/pids.max`) : undefined;
  return {
    pids_stats: {
      current: pidsDir ? readInt(`${pidsDir}/pids.current`) : undefined,
      ...(limit ? { limit } : {}),
    },
    blkio_stats: blk,
    cpu_stats: {
      cpu_usage: {
        total_usage: (cpuacct ? readInt(`${cpuacct}/cpuacct.usage`) : undefined) ?? 0,
        ...(percpu?.length ? { percpu_usage: percpu } : {}),
        usage_in_kernelmode: (acct.system ?? 0) * NS_PER_TICK,
        usage_in_usermode: (acct.user ?? 0) * NS_PER_TICK,
      },
      throttling_data: {
        periods: thr.nr_periods ?? 0,
        throttled_periods: thr.nr_throttled ?? 0,
        throttled_time: thr.throttled_time ?? 0,
      },
    },
    memory_stats: mem
      ? {
        usage: readInt(`${mem}/memory.usage_in_bytes`),
        max_usage: readInt(`${mem}/memory.max_usage_in_bytes`),
        stats: sorted(stats),
        ...(failcnt ? { failcnt } : {}),
        limit: capLimit(readInt(`${mem}/memory.limit_in_bytes`)),
      }
      : {},
  };
}

function statsV2(cg: Cgroup): CgroupStats {
  const d = cg.find("memory")!;
  const cpu = parseFlatKeyed(read(`${d}/cpu.stat`));
  const blk: Record<string, BlkioEntry[] | null> = {};
  for (const k of BLKIO_KEYS) blk[k] = null;
  blk.io_service_bytes_recursive = parseIoStatV2(read(`${d}/io.stat`));
  const memStat = read(`${d}/memory.stat`);
  const limit = readInt(`${d}/pids.max`);
  return {
    pids_stats: { current: readInt(`${d}/pids.current`), ...(limit ? { limit } : {}) },
    blkio_stats: blk,
    cpu_stats: {
      cpu_usage: {
        total_usage: (cpu.usage_usec ?? 0) * 1000,
        usage_in_kernelmode: (cpu.system_usec ?? 0) * 1000,
        usage_in_usermode: (cpu.user_usec ?? 0) * 1000,
      },
      throttling_data: {
        periods: cpu.nr_periods ?? 0,
        throttled_periods: cpu.nr_throttled ?? 0,
        throttled_time: (cpu.throttled_usec ?? 0) * 1000,
      },
    },
    memory_stats: memStat === undefined ? {} : {
      usage: readInt(`${d}/memory.current`),
      stats: sorted(pick(parseFlatKeyed(memStat), V2_MEMORY_KEYS, true)),
      limit: capLimit(readInt(`${d}/memory.max`)),
    },
  };
}

/** The container's cgroup usage, Docker-shaped; host CPU fields filled in. */
export function readCgroupStats(cg: Cgroup): CgroupStats {
  const s = cg.layout.kind === "v2" ? statsV2(cg) : statsV1(cg);
  s.cpu_stats.system_cpu_usage = systemCpuUsage();
  s.cpu_stats.online_cpus = onlineCpus();
  return s;
}

/**
 * Interface counters of the network namespace `pid` lives in
 * (/proc/<pid>/net/dev), without `lo`, as Docker reports them.
 */
export function readNetDev(pid: number): Record<string, NetStats> | undefined {
  const t = read(`/proc/${pid}/net/dev`);
  if (t === undefined) return undefined;
  const out: Record<string, NetStats> = {};
  for (const line of t.split("\n").slice(2)) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === "lo") continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = {
      rx_bytes: f[0],
      rx_packets: f[1],
      rx_errors: f[2],
      rx_dropped: f[3],
      tx_bytes: f[8],
      tx_packets: f[9],
      tx_errors: f[10],
      tx_dropped: f[11],
    };
  }
  return out;
}
