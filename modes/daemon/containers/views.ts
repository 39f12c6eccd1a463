/**
 * Docker's JSON views of a container: inspect (`GET /containers/{id}/json`)
 * and the `ps` summary (`GET /containers/json`), with moby's status strings.
 * @module
 */
import { type ContainerRecord, ZERO_TIME } from "../../../core/store/containers.ts";
import type {
  ContainerJSON,
  ContainerSummary,
  EndpointSettings,
  MountPoint,
  NetworkSettings,
  Port,
  PortBinding,
} from "../../../core/api/types.ts";
import { humanDuration } from "../../../core/units.ts";

export { humanDuration };

function ago(t: string, now: number): string {
  return humanDuration(now - Date.parse(t));
}

/** moby's State.String(): "Up 3 seconds", "Exited (0) 2 minutes ago", … */
export function statusString(r: ContainerRecord, now = Date.now()): string {
  const s = r.State;
  if (s.Running) {
    if (s.Paused) return `Up ${ago(s.StartedAt, now)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${ago(s.FinishedAt, now)} ago`;
    const h = s.Health?.Status;
    if (h) return `Up ${ago(s.StartedAt, now)} (${h === "starting" ? "health: starting" : h})`;
    return `Up ${ago(s.StartedAt, now)}`;
  }
  if (s.Status === "removing") return "Removal In Progress";
  if (s.Dead) return "Dead";
  if (s.StartedAt === ZERO_TIME) return "Created";
  if (s.FinishedAt === ZERO_TIME) return "";
  return `Exited (${s.ExitCode}) ${ago(s.FinishedAt, now)} ago`;
}

/** moby's list Command: Path + args, args with spaces single-quoted. */
export function commandString(r: ContainerRecord): string {
  if (!r.Args.length) return r.Path;
  return `${r.Path} ${r.Args.map((a) => (a.includes(" ") ? `'${a}'` : a)).join(" ")}`;
}

function mountsView(r: ContainerRecord): MountPoint[] {
  // --tmpfs (HostConfig.Tmpfs) mounts are not mount points in Docker (moby
  // daemon/volumes.go registerMountPoints); --mount type=tmpfs ones are.
  const tmpfs = new Set(
    Object.keys(r.HostConfig.Tmpfs ?? {}).map((d) => d.replace(/\/+$/, "") || "/"),
  );
  return r.MountPoints.filter((m) => !(m.Type === "tmpfs" && tmpfs.has(m.Destination))).map((m) => {
    return {
      Type: m.Type,
      ...(m.Name ? { Name: m.Name } : {}),
      Source: m.Source,
      Destination: m.Destination,
      ...(m.Type === "volume" ? { Driver: m.Driver ?? "local" } : {}),
      Mode: m.Mode,
      RW: m.RW,
      Propagation: m.Propagation,
    };
  });
}

export function portsOf(r: ContainerRecord): NetworkSettings["Ports"] {
  const ports: NetworkSettings["Ports"] = {};
  for (const p of Object.keys(r.Config.ExposedPorts ?? {})) ports[p] = null;
  const bound = r.NetworkSettings?.Ports ?? {};
  if (r.State.Running) { for (const [k, v] of Object.entries(bound)) ports[k] = v; }
  return ports;
}

export function networkSettings(r: ContainerRecord): NetworkSettings {
  const ns = r.NetworkSettings ?? {};
  const mode = r.HostConfig.NetworkMode;
  const nets: Record<string, EndpointSettings> = ns.Networks ?? {};
  if (!ns.Networks && !mode.startsWith("container:")) {
    nets[mode] = {
      IPAMConfig: null,
      Links: null,
      Aliases: null,
      MacAddress: "",
      DriverOpts: null,
      GwPriority: 0,
      NetworkID: "",
      EndpointID: "",
      Gateway: "",
      IPAddress: "",
      IPPrefixLen: 0,
      IPv6Gateway: "",
      GlobalIPv6Address: "",
      GlobalIPv6PrefixLen: 0,
      DNSNames: null,
    };
  }
  return {
    Bridge: "",
    SandboxID: ns.SandboxID ?? "",
    SandboxKey: ns.SandboxKey ?? "",
    Ports: portsOf(r),
    HairpinMode: false,
    LinkLocalIPv6Address: "",
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: ns.EndpointID ?? "",
    Gateway: ns.Gateway ?? "",
    GlobalIPv6Address: ns.GlobalIPv6Address ?? "",
    GlobalIPv6PrefixLen: ns.GlobalIPv6PrefixLen ?? 0,
    IPAddress: ns.IPAddress ?? "",
    IPPrefixLen: ns.IPPrefixLen ?? 0,
    IPv6Gateway: ns.IPv6Gateway ?? "",
    MacAddress: ns.MacAddress ?? "",
    Networks: nets,
  };
}

/** `GET /containers/{id}/json`. */
export function inspectView(
  r: ContainerRecord,
  extra: { execIds?: string[]; sizeRw?: number; sizeRootFs?: number; upper?: string } = {},
): ContainerJSON {
  const v: ContainerJSON = {
    Id: r.Id,
    Created: r.Created,
    Path: r.Path,
    Args: r.Args,
    State: { ...r.State },
    Image: r.Image,
    ResolvConfPath: r.ResolvConfPath,
    HostnamePath: r.HostnamePath,
    HostsPath: r.HostsPath,
    LogPath: r.LogPath,
    Name: r.Name,
    RestartCount: r.RestartCount,
    Driver: r.Driver,
    Platform: r.Platform,
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: extra.execIds?.length ? extra.execIds : null,
    HostConfig: r.HostConfig,
    GraphDriver: {
      Data: extra.upper
        ? { UpperDir: `${extra.upper}/upper`, WorkDir: `${extra.upper}/work` }
        : null,
      Name: "overlay2",
    },
    Mounts: mountsView(r),
    Config: r.Config,
    NetworkSettings: networkSettings(r),
  };
  if (extra.sizeRw !== undefined) v.SizeRw = extra.sizeRw;
  if (extra.sizeRootFs !== undefined) v.SizeRootFs = extra.sizeRootFs;
  return v;
}

/** One `GET /containers/json` item. */
export function summaryView(r: ContainerRecord, now = Date.now()): ContainerSummary {
  const ports: Port[] = [];
  const bound = r.State.Running ? (r.NetworkSettings?.Ports ?? {}) : {};
  for (const p of Object.keys({ ...(r.Config.ExposedPorts ?? {}), ...bound })) {
    const [num, proto = "tcp"] = p.split("/");
    const b: PortBinding[] | null | undefined = bound[p];
    if (b?.length) {
      for (const h of b) {
        ports.push({
          IP: h.HostIp || "0.0.0.0",
          PrivatePort: Number(num),
          PublicPort: Number(h.HostPort),
          Type: proto,
        });
      }
    } else ports.push({ PrivatePort: Number(num), Type: proto });
  }
  const ns = networkSettings(r);
  return {
    Id: r.Id,
    Names: [r.Name],
    Image: r.Config.Image,
    ImageID: r.Image,
    Command: commandString(r),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: ports,
    Labels: r.Config.Labels ?? {},
    State: r.State.Status,
    Status: statusString(r, now),
    HostConfig: { NetworkMode: r.HostConfig.NetworkMode },
    NetworkSettings: { Networks: ns.Networks },
    Mounts: mountsView(r),
  };
}
