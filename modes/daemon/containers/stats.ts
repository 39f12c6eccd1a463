/**
 * `GET /containers/{id}/stats`: Docker's StatsJSON from the container's
 * cgroup (core/runtime/cgroups_stats.ts) and its netns's /proc/<pid>/net/dev.
 * Streaming sends one object per second, the first at once (its precpu_stats
 * empty); `stream=false` samples twice a second apart so precpu_stats is
 * filled, as moby primes it; `one-shot=true` answers from one sample. A
 * container that does not run answers zeros for `stream=false` (moby's empty
 * StatsJSON) and nothing until it runs for a stream.
 * @module
 */
import type { ContainerRecord } from "../../../core/store/containers.ts";
import { Cgroup } from "../../../core/runtime/cgroups.ts";
import {
  BLKIO_KEYS,
  type CpuStats,
  readCgroupStats,
  readNetDev,
} from "../../../core/runtime/cgroups_stats.ts";
import { rfc3339Nano } from "../../../core/shim/protocol.ts";
import type { ContainerService } from "./service.ts";
import { containerCgroupsPath } from "./spec.ts";

const ZERO_TIME = "0001-01-01T00:00:00Z";
export const STATS_INTERVAL_MS = 1000;

interface Sample {
  read: string;
  body: ReturnType<typeof readCgroupStats>;
  networks?: Record<string, unknown>;
}

function emptyCpu(): CpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** moby's empty StatsJSON (a container that does not run, `stream=false`). */
export function zeroStats(r: ContainerRecord): Record<string, unknown> {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: Object.fromEntries(BLKIO_KEYS.map((k) => [k, null])),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: emptyCpu(),
    precpu_stats: emptyCpu(),
    memory_stats: {},
    name: r.Name,
    id: r.Id,
  };
}

/** The container's cgroup (the same path its spec got). */
export function cgroupOf(svc: ContainerService, r: ContainerRecord): Cgroup {
  const p = containerCgroupsPath(svc.config.cgroupParent, r.HostConfig.CgroupParent, r.Id);
  return new Cgroup(p ?? `/${r.Id}`);
}

function running(r: ContainerRecord): boolean {
  return r.State.Running && !r.State.Restarting;
}

function sample(svc: ContainerService, r: ContainerRecord): Sample {
  const read = rfc3339Nano();
  const body = readCgroupStats(cgroupOf(svc, r));
  const mode = r.HostConfig.NetworkMode ?? "";
  let networks: Record<string, unknown> | undefined;
  if (mode !== "host" && r.State.Pid > 0) {
    const n = readNetDev(r.State.Pid);
    if (n && Object.keys(n).length) networks = n;
  }
  return { read, body, networks };
}

function shape(r: ContainerRecord, s: Sample, pre?: Sample): Record<string, unknown> {
  return {
    read: s.read,
    preread: pre?.read ?? ZERO_TIME,
    pids_stats: s.body.pids_stats,
    blkio_stats: s.body.blkio_stats,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: s.body.cpu_stats,
    precpu_stats: pre?.body.cpu_stats ?? emptyCpu(),
    memory_stats: s.body.memory_stats,
    name: r.Name,
    id: r.Id,
    ...(s.networks ? { networks: s.networks } : {}),
  };
}

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
  /** false once the client is gone */
  alive(): boolean;
  /** write one object; resolves when flushed to the socket */
  write(obj: Record<string, unknown>): Promise<void>;
  /** resolves when the client hangs up (ends waits early) */
  closed: Promise<void>;
}

/** Serve one stats request (the container is resolved by the caller). */
export async function serveStats(
  svc: ContainerService,
  rec: ContainerRecord,
  o: StatsOptions,
): Promise<void> {
  const pause = (ms: number) => {
    let t: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      new Promise<void>((res) => t = setTimeout(res, ms)),
      o.closed,
    ]).finally(() => clearTimeout(t));
  };
  let r = rec;
  if (!o.stream) {
    if (!running(r)) return o.write(zeroStats(r));
    if (o.oneShot) return o.write(shape(r, sample(svc, r)));
    const pre = sample(svc, r);
    await pause(STATS_INTERVAL_MS);
    if (!o.alive()) return;
    // stopped meanwhile: its cgroup is gone, and so are the numbers
    return o.write(running(r) ? shape(r, sample(svc, r), pre) : zeroStats(r));
  }
  let pre: Sample | undefined;
  while (o.alive()) {
    const cur = svc.store.get(r.Id);
    if (!cur) return; // removed
    r = cur;
    if (running(r)) {
      const s = sample(svc, r);
      await o.write(shape(r, s, pre));
      pre = s;
    } else pre = undefined;
    await pause(STATS_INTERVAL_MS);
  }
}
