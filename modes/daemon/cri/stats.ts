/**
 * CRI stats: ContainerStats/ListContainerStats and
 * PodSandboxStats/ListPodSandboxStats from the cgroups the processes run in
 * (core/runtime/cgroups_stats.ts, v1 and v2), the writable layer's disk use
 * and the pod's network interfaces (/proc/<pause>/net/dev). CPU use in
 * nano-cores is the rate since the previous sample of the same container
 * or pod (kept in memory, as containerd does), absent on the first.
 * @module
 */
import { Cgroup } from "../../../core/runtime/cgroups.ts";
import {
  type CgroupStats,
  readCgroupStats,
  readNetDev,
} from "../../../core/runtime/cgroups_stats.ts";
import { NotFound } from "../../../core/errdefs/mod.ts";
import type { CriContainerRecord, CriContainers } from "./containers.ts";
import type { CriPods, SandboxRecord } from "./pods.ts";
import { usage } from "./images.ts";
import type { Msg, Unary } from "./types.ts";

const u64 = (v: number | undefined) => v === undefined ? null : { value: Math.max(0, v) };

function readStats(path: string | undefined): CgroupStats | undefined {
  if (!path) return undefined;
  try {
    return readCgroupStats(new Cgroup(path));
  } catch {
    return undefined; // the cgroup is gone (the process exited): no figures, as containerd
  }
}

function labelsMatch(have: Record<string, string> | undefined, want: Record<string, string>) {
  return Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
}

export class CriStats {
  readonly pods: CriPods;
  readonly containers: CriContainers;
  /** the previous CPU sample per container or pod: [ns timestamp, usage ns] */
  #prev = new Map<string, [number, number]>();

  constructor(pods: CriPods, containers: CriContainers) {
    this.pods = pods;
    this.containers = containers;
  }

  #cpu(key: string, ts: number, st: CgroupStats | undefined): Msg {
    if (!st) return null;
    const total = st.cpu_stats.cpu_usage.total_usage;
    const prev = this.#prev.get(key);
    this.#prev.set(key, [ts, total]);
    const rate = prev && ts > prev[0]
      ? Math.round((total - prev[1]) / ((ts - prev[0]) / 1e9))
      : undefined;
    return { timestamp: ts, usage_core_nano_seconds: u64(total), usage_nano_cores: u64(rate) };
  }

  #memory(ts: number, st: CgroupStats | undefined): Msg {
    if (!st) return null;
    const m = st.memory_stats, k = m.stats ?? {};
    const usage = m.usage ?? 0;
    // working set as cadvisor/containerd: usage less the inactive file cache
    const inactive = k.total_inactive_file ?? k.inactive_file ?? 0;
    const ws = Math.max(0, usage - inactive);
    const limit = m.limit && m.limit < 2 ** 62 ? m.limit : undefined;
    return {
      timestamp: ts,
      working_set_bytes: u64(ws),
      available_bytes: limit !== undefined ? u64(limit - ws) : null,
      usage_bytes: u64(usage),
      rss_bytes: u64(k.total_rss ?? k.rss ?? k.anon),
      page_faults: u64(k.total_pgfault ?? k.pgfault),
      major_page_faults: u64(k.total_pgmajfault ?? k.pgmajfault),
    };
  }

  async container(c: CriContainerRecord): Promise<Msg> {
    const ts = Date.now() * 1e6;
    const st = c.state === "CONTAINER_RUNNING" ? readStats(c.cgroup) : undefined;
    const upper = `${this.containers.store.dirOf(c.id)}/upper`;
    const fs = await usage(upper);
    return {
      attributes: {
        id: c.id,
        metadata: c.config.metadata,
        labels: c.config.labels ?? {},
        annotations: c.config.annotations ?? {},
      },
      cpu: this.#cpu(c.id, ts, st),
      memory: this.#memory(ts, st),
      writable_layer: {
        timestamp: ts,
        fs_id: { mountpoint: upper },
        used_bytes: u64(fs.bytes),
        inodes_used: u64(fs.inodes),
      },
      swap: null,
    };
  }

  async pod(sb: SandboxRecord): Promise<Msg> {
    const ts = Date.now() * 1e6;
    const ready = sb.state === "SANDBOX_READY" && await this.pods.holderAlive(sb);
    const mine = this.containers.store.list().filter((c) => c.sandboxId === sb.id);
    const containers = [];
    for (const c of mine) containers.push(await this.container(c));
    // the pod's own cgroup when kubelet made one (cgroup_parent), else the holder's and the
    // containers' added up
    const parent = sb.config.linux?.cgroup_parent;
    let st: CgroupStats | undefined;
    if (ready && parent) st = readStats(`/${parent.split("/").filter((x: string) => x).join("/")}`);
    let cpu: Msg = null, memory: Msg = null;
    if (st) {
      cpu = this.#cpu(sb.id, ts, st);
      memory = this.#memory(ts, st);
    } else if (ready) {
      const parts = [
        readStats(sb.cgroup),
        ...mine.map((c) => c.state === "CONTAINER_RUNNING" ? readStats(c.cgroup) : undefined),
      ].filter((x): x is CgroupStats => !!x);
      const sum = (f: (s: CgroupStats) => number | undefined) =>
        parts.reduce((n, s) => n + (f(s) ?? 0), 0);
      const total: CgroupStats = {
        pids_stats: { current: sum((s) => s.pids_stats.current) },
        blkio_stats: {},
        cpu_stats: {
          cpu_usage: {
            total_usage: sum((s) => s.cpu_stats.cpu_usage.total_usage),
            usage_in_kernelmode: 0,
            usage_in_usermode: 0,
          },
          throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
        },
        memory_stats: {
          usage: sum((s) => s.memory_stats.usage),
          stats: Object.fromEntries(
            ["inactive_file", "rss", "anon", "pgfault", "pgmajfault"].map((k) => [
              k,
              sum((s) => s.memory_stats.stats?.[`total_${k}`] ?? s.memory_stats.stats?.[k]),
            ]),
          ),
        },
      };
      st = total;
      cpu = this.#cpu(sb.id, ts, total);
      memory = this.#memory(ts, total);
    }
    let network: Msg = null;
    if (ready && sb.netns) {
      const dev = readNetDev(sb.pid) ?? {};
      const ifs = Object.entries(dev).filter(([n]) => n !== "lo").map(([name, n]) => ({
        name,
        rx_bytes: u64(n.rx_bytes),
        rx_errors: u64(n.rx_errors),
        tx_bytes: u64(n.tx_bytes),
        tx_errors: u64(n.tx_errors),
      }));
      network = {
        timestamp: ts,
        default_interface: ifs.find((i) => i.name === "eth0") ?? null,
        interfaces: ifs,
      };
    }
    return {
      attributes: {
        id: sb.id,
        metadata: sb.config.metadata,
        labels: sb.config.labels ?? {},
        annotations: sb.config.annotations ?? {},
      },
      linux: {
        cpu,
        memory,
        network,
        process: st ? { timestamp: ts, process_count: u64(st.pids_stats.current) } : null,
        containers,
      },
      windows: null,
    };
  }

  handlers(): Record<string, Unary> {
    return {
      ContainerStats: async (req) => {
        const c = this.containers.store.resolve(req.container_id ?? "");
        return { stats: await this.container(c) };
      },
      ListContainerStats: async (req) => {
        const f = req.filter ?? {};
        const stats = [];
        for (const c of this.containers.store.list()) {
          if (f.id && !c.id.startsWith(f.id)) continue;
          if (f.pod_sandbox_id && !c.sandboxId.startsWith(f.pod_sandbox_id)) continue;
          if (f.label_selector && !labelsMatch(c.config.labels, f.label_selector)) continue;
          // containerd lists only running containers' stats
          if (c.state !== "CONTAINER_RUNNING") continue;
          stats.push(await this.container(c));
        }
        this.#prune();
        return { stats };
      },
      PodSandboxStats: async (req) => {
        const sb = this.pods.store.tryResolve(req.pod_sandbox_id ?? "");
        if (!sb) throw new NotFound(`pod sandbox "${req.pod_sandbox_id}" not found`);
        return { stats: await this.pod(sb) };
      },
      ListPodSandboxStats: async (req) => {
        const f = req.filter ?? {};
        const stats = [];
        for (const sb of this.pods.store.list()) {
          if (f.id && !sb.id.startsWith(f.id)) continue;
          if (f.label_selector && !labelsMatch(sb.config.labels, f.label_selector)) continue;
          if (sb.state !== "SANDBOX_READY") continue;
          stats.push(await this.pod(sb));
        }
        this.#prune();
        return { stats };
      },
    };
  }

  /** Forget the samples of what is gone. */
  #prune(): void {
    for (const id of this.#prev.keys()) {
      if (!this.containers.store.get(id) && !this.pods.store.get(id)) this.#prev.delete(id);
    }
  }
}
