/**
 * Published ports: parsing `-p` specs into Docker's ExposedPorts and
 * PortBindings, expanding them (with `-P`) into concrete publish requests,
 * and the display formats of `docker ps` and `docker port`. Pure.
 *
 * @example
 * ```ts
 * import { parsePortSpecs, formatPsPorts } from "./ports.ts";
 * const { exposed, bindings } = parsePortSpecs(["127.0.0.1:8080:80", "53/udp"]);
 * console.assert(bindings["80/tcp"][0].HostPort === "8080" && "53/udp" in exposed);
 * console.assert(formatPsPorts([{ IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp" }])
 *   === "0.0.0.0:8080->80/tcp");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";

export type Proto = "tcp" | "udp" | "sctp";

/** Docker's PortBinding. HostPort "" means "any free port". */
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** Docker's PortMap: "80/tcp" → bindings (null when only exposed). */
export type PortMap = Record<string, PortBinding[] | null>;

/** An item of `Ports` in GET /containers/json. */
export interface ApiPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** One container port to publish, with the host side still maybe a range or "". */
export interface PublishRequest {
  proto: Proto;
  ctrPort: number;
  hostIp: string;
  /** [lo, hi] of acceptable host ports; [0, 0] = any */
  hostRange: [number, number];
}

function parseRange(s: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new InvalidArgument(`invalid ${what}: ${s}`);
  const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
  // A host port 0 is "any free port", as Docker has it (go-connections nat
  // accepts 0; the port allocator picks one).
  const min = what === "hostPort" ? 0 : 1;
  if (lo < min || hi > 65535 || hi < lo) throw new InvalidArgument(`invalid ${what}: ${s}`);
  return [lo, hi];
}

function checkProto(p: string): Proto {
  const v = p.toLowerCase();
  if (v !== "tcp" && v !== "udp" && v !== "sctp") {
    throw new InvalidArgument(`invalid proto: ${p}`);
  }
  return v;
}

/** "80" → "80/tcp"; validates the port and protocol. */
export function portKey(s: string): string {
  const [port, proto = "tcp", extra] = s.split("/");
  if (extra !== undefined) throw new InvalidArgument(`invalid port: ${s}`);
  const [lo, hi] = parseRange(port, "containerPort");
  return `${lo === hi ? lo : `${lo}-${hi}`}/${checkProto(proto)}`;
}

/** Split "[ip:][host:]ctr[/proto]" (IPv6 ip in brackets). */
function splitSpec(spec: string): { ip: string; host: string; ctr: string; proto: string } {
  let rest = spec, ip = "";
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0 || rest[end + 1] !== ":") throw new InvalidArgument(`invalid port format: ${spec}`);
    ip = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  let proto = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    proto = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
  }
  const parts = rest.split(":");
  if (ip) {
    if (parts.length !== 2) throw new InvalidArgument(`invalid port format: ${spec}`);
    return { ip, host: parts[0], ctr: parts[1], proto };
  }
  if (parts.length === 1) return { ip: "", host: "", ctr: parts[0], proto };
  if (parts.length === 2) return { ip: "", host: parts[0], ctr: parts[1], proto };
  if (parts.length === 3) return { ip: parts[0], host: parts[1], ctr: parts[2], proto };
  throw new InvalidArgument(`invalid port format: ${spec}`);
}

/** Docker's nat.ParsePortSpecs: `-p` values → ExposedPorts + PortBindings. */
export function parsePortSpecs(
  specs: string[],
): { exposed: Record<string, Record<string, never>>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const spec of specs) {
    const { ip, host, ctr, proto } = splitSpec(spec.trim());
    if (ip && !/^[\d.]+$/.test(ip) && !ip.includes(":")) {
      throw new InvalidArgument(`invalid IP address: ${ip}`);
    }
    if (!ctr) throw new InvalidArgument(`no port specified: ${spec}<empty>`);
    const p = checkProto(proto);
    const [clo, chi] = parseRange(ctr, "containerPort");
    let hlo = 0, hhi = 0;
    if (host) [hlo, hhi] = parseRange(host, "hostPort");
    const n = chi - clo + 1;
    if (host && hhi - hlo + 1 !== n && n !== 1) {
      throw new InvalidArgument(
        `invalid ranges specified for container and host Ports: ${ctr} and ${host}`,
      );
    }
    for (let i = 0; i < n; i++) {
      const key = `${clo + i}/${p}`;
      exposed[key] = {};
      let hp = "";
      if (host) hp = n === 1 && hhi !== hlo ? `${hlo}-${hhi}` : String(hlo + i);
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hp });
    }
  }
  return { exposed, bindings };
}

/** Ports of a key "80/tcp" or "8000-8002/tcp" (ExposedPorts may hold ranges). */
function keyPorts(key: string): { proto: Proto; ports: number[] } {
  const [port, proto = "tcp"] = key.split("/");
  const [lo, hi] = parseRange(port, "port");
  const ports = [];
  for (let p = lo; p <= hi; p++) ports.push(p);
  return { proto: checkProto(proto), ports };
}

/**
 * What to publish for a container: its PortBindings, plus (with publishAll,
 * `-P`) every exposed port not bound yet, on a random host port.
 */
export function publishRequests(
  bindings: Record<string, Partial<PortBinding>[] | null> | undefined,
  exposed: Record<string, unknown> | undefined,
  publishAll: boolean,
): PublishRequest[] {
  const out: PublishRequest[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { proto, ports } = keyPorts(key);
    for (const ctrPort of ports) {
      seen.add(`${ctrPort}/${proto}`);
      for (const b of list ?? [{ HostIp: "", HostPort: "" }]) {
        const hostRange: [number, number] = b.HostPort
          ? parseRange(b.HostPort, "hostPort")
          : [0, 0];
        out.push({ proto, ctrPort, hostIp: b.HostIp || "0.0.0.0", hostRange });
      }
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { proto, ports } = keyPorts(key);
      for (const ctrPort of ports) {
        if (seen.has(`${ctrPort}/${proto}`)) continue;
        out.push({ proto, ctrPort, hostIp: "0.0.0.0", hostRange: [0, 0] });
      }
    }
  }
  return out;
}

/** A published port as it is in effect. */
export interface Published {
  proto: Proto;
  ctrPort: number;
  hostIp: string;
  hostPort: number;
}

/** NetworkSettings.Ports: exposed ports (null) and their effective bindings. */
export function portMap(exposed: Record<string, unknown> | undefined, pub: Published[]): PortMap {
  const m: PortMap = {};
  for (const key of Object.keys(exposed ?? {})) {
    try {
      const { proto, ports } = keyPorts(key);
      for (const p of ports) m[`${p}/${proto}`] ??= null;
    } catch { /* ignore odd keys */ }
  }
  for (const p of pub) {
    const k = `${p.ctrPort}/${p.proto}`;
    (m[k] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return m;
}

/** GET /containers/json `Ports` from a PortMap. */
export function apiPorts(m: PortMap | undefined): ApiPort[] {
  const out: ApiPort[] = [];
  for (const [key, list] of Object.entries(m ?? {})) {
    const [port, proto = "tcp"] = key.split("/");
    const priv = Number(port);
    if (!list || list.length === 0) out.push({ PrivatePort: priv, Type: proto });
    else {
      for (const b of list) {
        out.push({ IP: b.HostIp, PrivatePort: priv, PublicPort: Number(b.HostPort), Type: proto });
      }
    }
  }
  return out;
}

function hostAddr(ip: string): string {
  return ip.includes(":") ? `[${ip}]` : ip;
}

/** `docker ps` PORTS column (ranges of consecutive ports folded, like the CLI). */
export function formatPsPorts(ports: ApiPort[]): string {
  const sorted = [...ports].sort((a, b) =>
    (a.IP ?? "").localeCompare(b.IP ?? "") || a.Type.localeCompare(b.Type) ||
    a.PrivatePort - b.PrivatePort || (a.PublicPort ?? 0) - (b.PublicPort ?? 0)
  );
  const groups: { ip?: string; type: string; priv: [number, number]; pub?: [number, number] }[] =
    [];
  for (const p of sorted) {
    const g = groups[groups.length - 1];
    const consecutive = g && g.ip === p.IP && g.type === p.Type &&
      p.PrivatePort === g.priv[1] + 1 &&
      (p.PublicPort === undefined
        ? g.pub === undefined
        : g.pub !== undefined && p.PublicPort === g.pub[1] + 1);
    if (consecutive) {
      g.priv[1] = p.PrivatePort;
      if (g.pub && p.PublicPort !== undefined) g.pub[1] = p.PublicPort;
      continue;
    }
    groups.push({
      ip: p.IP,
      type: p.Type,
      priv: [p.PrivatePort, p.PrivatePort],
      pub: p.PublicPort === undefined ? undefined : [p.PublicPort, p.PublicPort],
    });
  }
  const r = (x: [number, number]) => x[0] === x[1] ? `${x[0]}` : `${x[0]}-${x[1]}`;
  return groups.map((g) =>
    g.pub && g.ip !== undefined
      ? `${hostAddr(g.ip)}:${r(g.pub)}->${r(g.priv)}/${g.type}`
      : `${r(g.priv)}/${g.type}`
  ).join(", ");
}

/**
 * `docker port C [PRIVATE_PORT[/PROTO]]` lines. With a filter, only the host
 * addresses; otherwise "80/tcp -> 0.0.0.0:8080". Throws NotFound-like
 * InvalidArgument text when the filtered port has no mapping.
 */
export function formatPortLines(m: PortMap | undefined, filter?: string): string[] {
  const entries = Object.entries(m ?? {}).filter(([, l]) => l && l.length) as [
    string,
    PortBinding[],
  ][];
  entries.sort((a, b) => {
    const [pa, ta] = a[0].split("/"), [pb, tb] = b[0].split("/");
    return Number(pa) - Number(pb) || ta.localeCompare(tb);
  });
  if (filter !== undefined) {
    const key = filter.includes("/") ? filter : `${filter}/tcp`;
    const hit = entries.find(([k]) => k === key);
    if (!hit) throw new InvalidArgument(`No public port '${key}' published for this container`);
    return hit[1].map((b) => `${hostAddr(b.HostIp)}:${b.HostPort}`);
  }
  const out: string[] = [];
  for (const [k, list] of entries) {
    for (const b of list) out.push(`${k} -> ${hostAddr(b.HostIp)}:${b.HostPort}`);
  }
  return out;
}
