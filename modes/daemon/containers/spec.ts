/**
 * The OCI bundle of a container: config.json from the container record via
 * core/oci/runtime_spec.ts (Docker's defaults live there); this file maps the
 * record's mounts, /etc files, user and network mode onto its input.
 * @module
 */
import type { ContainerRecord, MountPoint } from "../../../core/store/containers.ts";
import type { OciSpec } from "../../../core/oci/runtime_types.ts";
import { generateSpec, type MountInput } from "../../../core/oci/runtime_spec.ts";
import { parseGroup, resolveUser } from "../../../core/oci/user.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { hostCapabilities } from "../../../core/runtime/proc.ts";
import { hostDevices } from "../../../core/oci/host_devices.ts";
import { customDevices, type DeviceMapping } from "../../../core/oci/device_mapping.ts";
import { mergeEnv } from "./links.ts";

export interface SpecInput {
  record: ContainerRecord;
  /** the mounted rootfs */
  rootfs: string;
  /** network namespace to join (e.g. another container's) */
  netnsPath?: string;
  /** the daemon's cgroup parent (DaemonConfig.cgroupParent) */
  cgroupParent?: string;
  /** pid namespace to join (`--pid container:X`) */
  pidnsPath?: string;
  /** legacy link variables (links.ts), under the container's own env */
  linkEnv?: string[];
}

/**
 * The cgroup path of a container (Docker's cgroupfs driver): under its own
 * `--cgroup-parent` when it has one (a relative one counts from the root of
 * the hierarchy, where the daemon's init is), else under the daemon's.
 */
export function containerCgroupsPath(
  parent: string | undefined,
  own: string | undefined,
  id: string,
): string | undefined {
  if (own) {
    const parts = own.split("/").filter((x) => x && x !== ".");
    if (parts.includes("..")) throw new InvalidArgument(`invalid cgroup parent: ${own}`);
    return `/${[...parts, id].join("/")}`;
  }
  return parent ? `${parent}/${id}` : undefined;
}

function mountInput(m: MountPoint): MountInput {
  if (m.Type === "tmpfs") {
    return {
      type: "tmpfs",
      destination: m.Destination,
      readOnly: !m.RW,
      options: ["nosuid", "nodev", "noexec", ...(m.Options ?? [])],
    };
  }
  return {
    type: "bind",
    source: m.Source,
    destination: m.Destination,
    readOnly: !m.RW,
    options: m.Propagation ? [m.Propagation] : [],
  };
}

function initPath(): string {
  const p = findInitBinary();
  if (!p) {
    throw new InvalidArgument(
      `exec: "docker-init": executable file not found in $PATH (install tini for --init)`,
    );
  }
  return p;
}

/** --group-add names → gids through the image's /etc/group. */
export async function groupIds(rootfs: string, groups: string[]): Promise<string[]> {
  if (groups.every((g) => /^\d+$/.test(g))) return groups;
  let text = "";
  try {
    text = await Deno.readTextFile(`${rootfs}/etc/group`);
  } catch { /* none */ }
  const entries = parseGroup(text);
  return groups.map((g) => {
    if (/^\d+$/.test(g)) return g;
    const e = entries.find((x) => x.name === g);
    if (!e) {
      throw new InvalidArgument(`unable to find group ${g}: no matching entries in group file`);
    }
    return String(e.gid);
  });
}

function sysctlExists(name: string): boolean {
  try {
    Deno.statSync(`/proc/sys/${name.replaceAll(".", "/")}`);
    return true;
  } catch {
    return false; // not on this kernel: Docker leaves it out too
  }
}

function inUserNamespace(): boolean {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(Deno.readTextFileSync("/proc/self/uid_map"));
  } catch {
    return false; // no user namespaces at all
  }
}

/**
 * The sysctls Docker sets in a container's own network namespace
 * (moby v20.10.24 daemon/oci_linux.go WithCommonOptions): unprivileged ping
 * for every group (not inside a user namespace) and binding any port without
 * CAP_NET_BIND_SERVICE. The container's --sysctl values win.
 */
export function defaultSysctls(networkMode: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (networkMode === "host" || networkMode.startsWith("container:")) return out;
  if (!inUserNamespace() && sysctlExists("net.ipv4.ping_group_range")) {
    out["net.ipv4.ping_group_range"] = "0 2147483647";
  }
  if (sysctlExists("net.ipv4.ip_unprivileged_port_start")) {
    out["net.ipv4.ip_unprivileged_port_start"] = "0";
  }
  return out;
}

let initBinary: string | null | undefined;

/** A static init for `--init` (Docker's docker-init is tini-static). */
export function findInitBinary(): string | null {
  if (initBinary !== undefined) return initBinary;
  initBinary = null;
  for (const p of ["/usr/bin/docker-init", "/usr/bin/tini-static", "/usr/local/bin/docker-init"]) {
    try {
      initBinary = Deno.realPathSync(p);
      break;
    } catch { /* next */ }
  }
  return initBinary;
}

/** Build config.json for the container. */
export async function buildSpec(inp: SpecInput): Promise<OciSpec> {
  const r = inp.record;
  const c = r.Config, hc = r.HostConfig;
  const user = await resolveUser(inp.rootfs, c.User ?? "");
  const has = (d: string) => r.MountPoints.some((m) => m.Destination === d);
  return generateSpec({
    id: r.Id,
    rootfs: inp.rootfs,
    cgroupsPath: containerCgroupsPath(inp.cgroupParent, hc.CgroupParent, r.Id),
    config: {
      Cmd: c.Cmd,
      Entrypoint: c.Entrypoint,
      Env: mergeEnv(inp.linkEnv ?? [], c.Env ?? []),
      WorkingDir: c.WorkingDir,
      User: c.User,
      Hostname: c.Hostname,
      Domainname: c.Domainname,
      Tty: c.Tty,
    },
    user,
    host: {
      ...hc,
      GroupAdd: await groupIds(inp.rootfs, hc.GroupAdd ?? []),
      Sysctls: { ...defaultSysctls(hc.NetworkMode ?? ""), ...(hc.Sysctls ?? {}) },
    },
    mounts: r.MountPoints.map(mountInput),
    etc: {
      hosts: has("/etc/hosts") ? undefined : r.HostsPath,
      hostname: has("/etc/hostname") ? undefined : r.HostnamePath,
      resolvConf: has("/etc/resolv.conf") ? undefined : r.ResolvConfPath,
    },
    netnsPath: inp.netnsPath,
    joinNamespaces: inp.pidnsPath ? { pid: inp.pidnsPath } : undefined,
    ...containerDevices(hc),
    init: hc.Init ? initPath() : undefined,
    // --privileged: every capability the daemon has (moby GetAllCapabilities); runc
    // refuses capabilities the host lacks
    hostCaps: hc.Privileged ? hostCapabilities() : undefined,
  });
}

/**
 * Devices and cgroup rules (moby's WithDevices): --privileged sees the host's
 * devices with everything allowed, plus --device nodes placed at another
 * path; otherwise the --device nodes with their permissions and the
 * --device-cgroup-rule rules.
 */
function containerDevices(
  hc: { Privileged?: boolean; Devices?: DeviceMapping[]; DeviceCgroupRules?: string[] },
) {
  if (hc.Privileged) {
    const moved = (hc.Devices ?? []).filter((d) =>
      d.PathInContainer && d.PathInContainer !== d.PathOnHost
    );
    return { devices: [...hostDevices(), ...customDevices(moved, []).devices] };
  }
  const c = customDevices(hc.Devices, hc.DeviceCgroupRules);
  return { devices: c.devices, deviceRules: c.rules };
}
