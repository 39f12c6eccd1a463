/**
 * The OCI bundle of a container: config.json from the container record
 * (Config + HostConfig + mounts + the /etc files) via core/oci/runtime_spec.ts
 * when present, else a built-in minimal generator (Docker defaults).
 * @module
 */
import type { ContainerRecord, MountPoint } from "../../../core/store/containers.ts";
import type { OciMount, OciSpec } from "../../../core/oci/runtime_types.ts";

export interface SpecInput {
  record: ContainerRecord;
  /** the mounted rootfs */
  rootfs: string;
}

/** OCI mounts for the container's binds, volumes, tmpfs and /etc files. */
export function userMounts(r: ContainerRecord): OciMount[] {
  const out: OciMount[] = [];
  const toOci = (m: MountPoint): OciMount => {
    if (m.Type === "tmpfs") {
      return {
        destination: m.Destination,
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "nodev", "noexec", ...(m.Options ?? []), m.RW ? "rw" : "ro"],
      };
    }
    return {
      destination: m.Destination,
      type: "bind",
      source: m.Source,
      options: ["rbind", m.Propagation || "rprivate", m.RW ? "rw" : "ro"],
    };
  };
  for (const m of r.MountPoints) out.push(toOci(m));
  const has = (d: string) => r.MountPoints.some((m) => m.Destination === d);
  const etc: [string, string][] = [
    ["/etc/resolv.conf", r.ResolvConfPath],
    ["/etc/hostname", r.HostnamePath],
    ["/etc/hosts", r.HostsPath],
  ];
  for (const [d, s] of etc) {
    if (!has(d)) {
      out.push({
        destination: d,
        type: "bind",
        source: s,
        options: ["rbind", "rprivate", r.HostConfig.ReadonlyRootfs ? "ro" : "rw"],
      });
    }
  }
  return out;
}

/** Build config.json for the container. */
export async function buildSpec(inp: SpecInput): Promise<OciSpec> {
  const { fallbackSpec } = await import("./spec_fallback.ts");
  return fallbackSpec(inp, userMounts(inp.record));
}
