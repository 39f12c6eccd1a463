/**
 * `POST /containers/{id}/update` (moby daemon/update.go + container
 * UpdateContainer, 20.10): validate the resources (Docker's messages), check
 * them against what the container already has (NanoCpus vs CpuPeriod/Quota,
 * memory vs memoryswap), write them to the live cgroup when the container
 * runs (core/runtime/cgroups_update.ts), then persist them in HostConfig.
 * Zero or absent fields keep their value; KernelMemory is ignored with
 * Docker's deprecation warning; a Block I/O weight the host cannot apply is
 * discarded with Docker's warning. The new restart policy is what the next
 * exit is judged by.
 * @module
 */
import { BerthError, Conflict, InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { ContainerRecord } from "../../../core/store/containers.ts";
import type { HostConfig } from "../../../core/api/types.ts";
import type { OciResources } from "../../../core/oci/runtime_types.ts";
import type { ContainerUpdate, RestartPolicy } from "../../../core/api/containers.ts";
import { checkResources } from "../api/checks.ts";
import { cpuResources } from "../../../core/oci/runtime_spec.ts";
import { blkioWeightSupported, updateCgroup } from "../../../core/runtime/cgroups_update.ts";
import { onlineCpus } from "../../../core/runtime/cgroups_stats.ts";
import type { ContainerService } from "./service.ts";
import { cgroupOf } from "./stats.ts";

/** An update's resources with Go's zeros filled in (PidsLimit: absent = unchanged). */
interface Requested {
  Memory: number;
  MemorySwap: number;
  MemoryReservation: number;
  CpuShares: number;
  NanoCpus: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  CpusetMems: string;
  BlkioWeight: number;
  PidsLimit: number | undefined;
}

const RESTART = ["", "no", "always", "unless-stopped", "on-failure"];

/** A 500 (the cgroup refused the values): moby's errdefs.System. */
class UpdateFailed extends BerthError {
  constructor(message: string) {
    super("Internal", message);
  }
}

/** "0-2,4" → set of numbers; undefined when it does not parse. */
function parseList(s: string): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

function available(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path).trim() || fallback;
  } catch {
    return fallback; // no such file on this host
  }
}

function checkSet(value: string, what: "cpus" | "mems"): void {
  const want = parseList(value);
  if (!want) throw new InvalidArgument(`Invalid value ${value} for cpuset ${what}`);
  const avail = what === "cpus"
    ? available("/sys/devices/system/cpu/online", `0-${onlineCpus() - 1}`)
    : available("/sys/devices/system/node/online", "0");
  const have = parseList(avail) ?? new Set();
  if ([...want].some((x) => !have.has(x))) {
    throw new InvalidArgument(
      what === "cpus"
        ? `Requested CPUs are not available - requested ${value}, available: ${avail}`
        : `Requested memory nodes are not available - requested ${value}, available: ${avail}`,
    );
  }
}

/**
 * The body's resources, checked (moby verifyPlatformContainerResources with
 * update=true: api/checks.ts, plus what needs the host) with zeros filled in.
 */
function validate(b: ContainerUpdate, warnings: string[]): Requested {
  const r: Requested = {
    Memory: b.Memory ?? 0,
    MemorySwap: b.MemorySwap ?? 0,
    MemoryReservation: b.MemoryReservation ?? 0,
    CpuShares: b.CpuShares ?? 0,
    NanoCpus: b.NanoCpus ?? 0,
    CpuPeriod: b.CpuPeriod ?? 0,
    CpuQuota: b.CpuQuota ?? 0,
    CpusetCpus: b.CpusetCpus ?? "",
    CpusetMems: b.CpusetMems ?? "",
    BlkioWeight: b.BlkioWeight ?? 0,
    PidsLimit: b.PidsLimit,
  };
  // moby warns and discards a weight the host cannot apply before judging its range
  if (r.BlkioWeight > 0 && !blkioWeightSupported()) {
    warnings.push(
      "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
    );
    r.BlkioWeight = 0;
  }
  checkResources({ ...b, BlkioWeight: r.BlkioWeight }, true);
  if ((b.KernelMemory ?? 0) !== 0) {
    warnings.push(
      "Specifying a kernel memory limit is deprecated and will be removed in a future release.",
    );
  }
  if (r.CpusetCpus) checkSet(r.CpusetCpus, "cpus");
  if (r.CpusetMems) checkSet(r.CpusetMems, "mems");
  return r;
}

/** moby UpdateContainer: merge into a copy of HostConfig, or a conflict message. */
function merge(
  rec: ContainerRecord,
  r: Requested,
  policy: RestartPolicy | undefined,
): HostConfig {
  const hc: HostConfig = structuredClone(rec.HostConfig);
  const conflict = (m: string) => new Conflict(`Cannot update container ${rec.Id}: ${m}`);
  if (r.NanoCpus > 0 && (hc.CpuPeriod ?? 0) > 0) {
    throw conflict(
      "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set",
    );
  }
  if (r.NanoCpus > 0 && (hc.CpuQuota ?? 0) > 0) {
    throw conflict(
      "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set",
    );
  }
  if (r.CpuPeriod > 0 && hc.NanoCpus > 0) {
    throw conflict(
      "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set",
    );
  }
  if (r.CpuQuota > 0 && hc.NanoCpus > 0) {
    throw conflict(
      "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set",
    );
  }
  for (const k of ["BlkioWeight", "CpuShares", "NanoCpus", "CpuPeriod", "CpuQuota"] as const) {
    if (r[k] !== 0) hc[k] = r[k];
  }
  if (r.CpusetCpus) hc.CpusetCpus = r.CpusetCpus;
  if (r.CpusetMems) hc.CpusetMems = r.CpusetMems;
  if (r.Memory !== 0) {
    if (r.Memory > (hc.MemorySwap ?? 0) && r.MemorySwap === 0) {
      throw conflict(
        "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
      );
    }
    hc.Memory = r.Memory;
  }
  if (r.MemorySwap !== 0) hc.MemorySwap = r.MemorySwap;
  if (r.MemoryReservation !== 0) hc.MemoryReservation = r.MemoryReservation;
  // postContainerUpdate: 0 and any negative value mean unlimited, stored as 0
  if (r.PidsLimit !== undefined) hc.PidsLimit = r.PidsLimit > 0 ? r.PidsLimit : 0;
  if (policy?.Name) {
    if (rec.HostConfig.AutoRemove && policy.Name !== "no") {
      throw conflict(
        "Restart policy cannot be updated because AutoRemove is enabled for the container",
      );
    }
    hc.RestartPolicy = { Name: policy.Name, MaximumRetryCount: policy.MaximumRetryCount ?? 0 };
  }
  return hc;
}

function checkPolicy(p: RestartPolicy | undefined): void {
  if (!p) return;
  if (!RESTART.includes(p.Name ?? "")) {
    throw new InvalidArgument(`invalid restart policy '${p?.Name}'`);
  }
  const n = p.MaximumRetryCount ?? 0;
  if (n < 0) {
    throw new InvalidArgument("invalid restart policy: maximum retry count cannot be negative");
  }
  if (p.Name !== "on-failure" && n > 0) {
    throw new InvalidArgument(
      "invalid restart policy: maximum retry count can only be used with 'on-failure'",
    );
  }
}

/** The OCI resources to write for the request's (non-zero) fields. */
function toOci(r: Requested): OciResources {
  const out: OciResources = {};
  if (r.Memory || r.MemorySwap || r.MemoryReservation) {
    out.memory = {};
    if (r.Memory) out.memory.limit = r.Memory;
    if (r.MemorySwap) out.memory.swap = r.MemorySwap;
    if (r.MemoryReservation) out.memory.reservation = r.MemoryReservation;
  }
  const cpu = cpuResources(r);
  if (cpu) out.cpu = cpu;
  if (r.PidsLimit !== undefined) out.pids = { limit: r.PidsLimit > 0 ? r.PidsLimit : 0 };
  if (r.BlkioWeight) out.blockIO = { weight: r.BlkioWeight };
  return out;
}

/** Update a container; returns Docker's Warnings. */
export function updateContainer(
  svc: ContainerService,
  ref: string,
  body: ContainerUpdate,
): Promise<string[]> {
  const rec = svc.resolve(ref);
  return svc.live(rec.Id).serial(async () => {
    const warnings: string[] = [];
    const r = validate(body, warnings);
    const policy = body.RestartPolicy;
    checkPolicy(policy);
    const hc = merge(rec, r, policy);
    if (rec.State.Running && !rec.State.Restarting) {
      try {
        updateCgroup(cgroupOf(svc, rec), toOci(r));
      } catch (e) {
        throw new UpdateFailed(`Cannot update container ${rec.Id}: ${(e as Error).message}`);
      }
    }
    rec.HostConfig = hc;
    await svc.store.save(rec);
    svc.events.container("update", rec);
    return warnings;
  });
}
