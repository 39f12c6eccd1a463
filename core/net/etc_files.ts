/**
 * /etc/hosts and /etc/resolv.conf for a container, as Docker writes them.
 * Pure: callers pass the host's resolv.conf text in.
 *
 * - hosts: localhost/IPv6 defaults, `--add-host` entries (`host-gateway`
 *   resolved), then the container's own address(es) with its hostname.
 * - resolv.conf on the default bridge: the host's (or `--dns`) nameservers
 *   without loopback ones (unreachable from a netns; Google's when none is
 *   left). On user-defined networks: `nameserver 127.0.0.11` (the embedded
 *   DNS) with `options ndots:0`, and the real servers become the embedded
 *   DNS's upstreams.
 *
 * @example
 * ```ts
 * import { buildResolvConf } from "./etc_files.ts";
 * const r = buildResolvConf("nameserver 127.0.0.53\nsearch lan\n", { embedded: true });
 * console.assert(r.text.startsWith("nameserver 127.0.0.11\n") && r.upstreams[0] === "127.0.0.53");
 * ```
 * @module
 */

export const DEFAULT_HOSTS = [
  "127.0.0.1\tlocalhost",
  "::1\tlocalhost ip6-localhost ip6-loopback",
  "fe00::0\tip6-localnet",
  "ff00::0\tip6-mcastprefix",
  "ff02::1\tip6-allnodes",
  "ff02::2\tip6-allrouters",
];

export interface HostsInput {
  hostname: string;
  domainname?: string;
  /** the container's addresses (first network first) */
  ips: string[];
  /** API ExtraHosts: "name:ip" (ip may be IPv6 or "host-gateway") */
  extraHosts?: string[];
  /** what `host-gateway` stands for */
  hostGateway?: string;
}

/** Split "name:ip" (Docker's ExtraHosts form; also accepts "name=ip"). */
export function parseExtraHost(e: string): { name: string; ip: string } | undefined {
  const i = e.search(/[:=]/);
  if (i <= 0) return undefined;
  return { name: e.slice(0, i), ip: e.slice(i + 1).replace(/^\[|\]$/g, "") };
}

export function buildHosts(h: HostsInput): string {
  const lines = [...DEFAULT_HOSTS];
  for (const e of h.extraHosts ?? []) {
    const p = parseExtraHost(e);
    if (!p) continue;
    const ip = p.ip === "host-gateway" ? h.hostGateway : p.ip;
    if (ip) lines.push(`${ip}\t${p.name}`);
  }
  const names = h.domainname ? `${h.hostname}.${h.domainname} ${h.hostname}` : h.hostname;
  for (const ip of h.ips) lines.push(`${ip}\t${names}`);
  return lines.join("\n") + "\n";
}

export interface ParsedResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): ParsedResolvConf {
  const out: ParsedResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [k, ...v] = line.split(/\s+/);
    if (k === "nameserver" && v[0]) out.nameservers.push(v[0]);
    else if (k === "search" || k === "domain") out.search = v;
    else if (k === "options") out.options.push(...v);
  }
  return out;
}

export function isLoopbackResolver(ip: string): boolean {
  return /^127\./.test(ip) || ip === "::1" || ip === "0.0.0.0";
}

export interface ResolvInput {
  /** use the embedded DNS (user-defined networks) */
  embedded: boolean;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
}

/** The container's resolv.conf text and (embedded) the servers to forward to. */
export function buildResolvConf(hostText: string, o: ResolvInput): {
  text: string;
  upstreams: string[];
} {
  const host = parseResolvConf(hostText);
  const servers = o.dns?.length ? o.dns : host.nameservers;
  const search = o.dnsSearch?.length ? o.dnsSearch.filter((s) => s !== ".") : host.search;
  let options = o.dnsOptions?.length ? [...o.dnsOptions] : host.options;
  const lines: string[] = [];
  let upstreams: string[] = [];
  if (o.embedded) {
    lines.push("nameserver 127.0.0.11");
    upstreams = servers;
    if (!options.some((x) => x.startsWith("ndots:"))) options = [...options, "ndots:0"];
  } else {
    let ns = servers.filter((s) => !isLoopbackResolver(s) && !s.includes(":"));
    if (ns.length === 0 && !o.dns?.length) ns = ["8.8.8.8", "8.8.4.4"];
    if (o.dns?.length) ns = o.dns;
    for (const s of ns) lines.push(`nameserver ${s}`);
  }
  if (search.length) lines.push(`search ${search.join(" ")}`);
  if (options.length) lines.push(`options ${options.join(" ")}`);
  return { text: lines.join("\n") + "\n", upstreams };
}
