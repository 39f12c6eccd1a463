/**
 * Engine API version comparisons and what moby adapts for older callers
 * (v20.10.24 api/server/router/container/container_routes.go
 * postContainersCreate): below 1.25 the client removes the container itself
 * (AutoRemove off); below 1.40 the IpcMode default is `shareable`. (moby's
 * CgroupnsMode `host` default below 1.41 on cgroup v1 is not copied: berth's
 * default is `private` for every caller.)
 * @module
 */
import type { ContainerCreate } from "../../core/api/types.ts";

/** Compare two "major.minor" API versions (<0, 0, >0). */
export function cmpVersion(a: string, b: string): number {
  const [a1, a2] = a.split(".").map(Number);
  const [b1, b2] = b.split(".").map(Number);
  return a1 - b1 || a2 - b2;
}

/** Adjust a create body's HostConfig for an older caller, in place. */
export function adaptCreateBody(body: ContainerCreate, version: string): void {
  const hc = body.HostConfig;
  if (!hc) return;
  if (cmpVersion(version, "1.25") < 0) hc.AutoRemove = false;
  if (cmpVersion(version, "1.40") < 0 && !hc.IpcMode) hc.IpcMode = "shareable";
}

/**
 * An inspect answer for an older caller, in place (daemon/inspect.go,
 * inspect_linux.go containerInspectPre120): through 1.20 Config repeats
 * HostConfig.VolumeDriver; below 1.20 it also repeats Memory, MemorySwap,
 * CpuShares and Cpuset, and Volumes/VolumesRW (destination → source/RW)
 * stand in for Mounts.
 */
export function adaptInspectView(view: Record<string, unknown>, version: string): void {
  if (cmpVersion(version, "1.20") > 0) return;
  const hc = (view.HostConfig ?? {}) as Record<string, unknown>;
  // a copy: the view shares the stored record's Config
  const cfg = { ...(view.Config ?? {}) } as Record<string, unknown>;
  view.Config = cfg;
  cfg.VolumeDriver = hc.VolumeDriver ?? "";
  if (cmpVersion(version, "1.20") === 0) return;
  Object.assign(cfg, {
    Memory: hc.Memory ?? 0,
    MemorySwap: hc.MemorySwap ?? 0,
    CpuShares: hc.CpuShares ?? 0,
    Cpuset: hc.CpusetCpus ?? "",
  });
  const volumes: Record<string, string> = {}, rw: Record<string, boolean> = {};
  for (const m of (view.Mounts ?? []) as { Destination: string; Source: string; RW: boolean }[]) {
    volumes[m.Destination] = m.Source;
    rw[m.Destination] = m.RW;
  }
  delete view.Mounts;
  view.Volumes = volumes;
  view.VolumesRW = rw;
}
