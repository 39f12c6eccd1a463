/**
 * Packet filter and NAT rules for berth's bridge networks, generated from the
 * desired state (networks + published ports) as iptables-restore input. Only
 * berth's own chains are written; each apply declares (hence flushes) and
 * refills them in one atomic restore per table, so the kernel never holds a
 * half-updated set and cleanup is "flush and delete our chains".
 *
 * Chains (P = prefix, "BERTH" for the default daemon):
 *   nat    P               DNAT of published ports (jumped to from PREROUTING and
 *                          OUTPUT for local destinations, so 127.0.0.1:PORT works)
 *   nat    P-POSTROUTING   outbound MASQUERADE; masquerade of loopback-sourced and
 *                          hairpin (same-subnet, DNATed) traffic
 *   filter P-FORWARD       per-bridge accept/drop; internal networks sealed
 *   filter P-ISOLATION-1/2 drop traffic between different berth networks
 *                          (except connections to published ports)
 * Pure; see firewall_linux.ts for applying.
 *
 * @example
 * ```ts
 * import { renderNat } from "./firewall.ts";
 * const txt = renderNat("BERTH", {
 *   networks: [{ bridge: "berth0", subnet: "10.213.0.0/24", internal: false }],
 *   ports: [{ proto: "tcp", hostIp: "0.0.0.0", hostPort: 8080, ctrIp: "10.213.0.2", ctrPort: 80 }],
 * });
 * console.assert(txt.includes("--to-destination 10.213.0.2:80"));
 * ```
 * @module
 */

export interface FwNetwork {
  bridge: string;
  /** "10.213.0.0/24" */
  subnet: string;
  internal: boolean;
  /** inter-container communication on this bridge (default true) */
  icc?: boolean;
  /** masquerade outbound traffic (default true; never for internal networks) */
  masquerade?: boolean;
}

export interface FwPort {
  proto: "tcp" | "udp" | "sctp";
  /** "0.0.0.0" = every local address */
  hostIp: string;
  hostPort: number;
  ctrIp: string;
  ctrPort: number;
}

export interface FwState {
  networks: FwNetwork[];
  ports: FwPort[];
}

export interface ChainNames {
  dnat: string;
  post: string;
  forward: string;
  iso1: string;
  iso2: string;
}

export function chainNames(prefix: string): ChainNames {
  return {
    dnat: prefix,
    post: `${prefix}-POSTROUTING`,
    forward: `${prefix}-FORWARD`,
    iso1: `${prefix}-ISOLATION-1`,
    iso2: `${prefix}-ISOLATION-2`,
  };
}

/** A jump from a built-in chain into one of ours: [table, chain, ...rule args]. */
export interface Jump {
  table: "nat" | "filter";
  chain: string;
  rule: string[];
  /** insert at the top (true) or append */
  first: boolean;
}

export function jumps(prefix: string): Jump[] {
  const c = chainNames(prefix);
  const local = ["-m", "addrtype", "--dst-type", "LOCAL", "-j", c.dnat];
  return [
    { table: "nat", chain: "PREROUTING", rule: local, first: false },
    { table: "nat", chain: "OUTPUT", rule: local, first: false },
    { table: "nat", chain: "POSTROUTING", rule: ["-j", c.post], first: true },
    { table: "filter", chain: "FORWARD", rule: ["-j", c.forward], first: true },
  ];
}

/** iptables-restore input (for --noflush) that rewrites our nat chains. */
export function renderNat(prefix: string, s: FwState): string {
  const c = chainNames(prefix);
  const out = ["*nat", `:${c.dnat} - [0:0]`, `:${c.post} - [0:0]`];
  for (const p of sortPorts(s.ports)) {
    const dst = p.hostIp && p.hostIp !== "0.0.0.0" ? `-d ${p.hostIp}/32 ` : "";
    out.push(
      `-A ${c.dnat} ${dst}-p ${p.proto} -m ${p.proto} --dport ${p.hostPort} ` +
        `-j DNAT --to-destination ${p.ctrIp}:${p.ctrPort}`,
    );
  }
  for (const n of s.networks) {
    if (!n.internal && n.masquerade !== false) {
      out.push(`-A ${c.post} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
    }
    // 127.0.0.1:PORT from the host, DNATed in OUTPUT (needs route_localnet on the bridge).
    out.push(`-A ${c.post} -s 127.0.0.0/8 -o ${n.bridge} -j MASQUERADE`);
    // Hairpin and container→published port of a neighbour via a host address.
    out.push(
      `-A ${c.post} -s ${n.subnet} -o ${n.bridge} -m conntrack --ctstate DNAT -j MASQUERADE`,
    );
  }
  out.push("COMMIT", "");
  return out.join("\n");
}

/** iptables-restore input (for --noflush) that rewrites our filter chains. */
export function renderFilter(prefix: string, s: FwState): string {
  const c = chainNames(prefix);
  const out = ["*filter", `:${c.forward} - [0:0]`, `:${c.iso1} - [0:0]`, `:${c.iso2} - [0:0]`];
  out.push(`-A ${c.forward} -j ${c.iso1}`);
  for (const n of s.networks) {
    const b = n.bridge;
    out.push(`-A ${c.forward} -o ${b} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    if (!n.internal) out.push(`-A ${c.forward} -o ${b} -m conntrack --ctstate DNAT -j ACCEPT`);
    out.push(`-A ${c.forward} -i ${b} -o ${b} -j ${n.icc === false ? "DROP" : "ACCEPT"}`);
    if (n.internal) {
      out.push(`-A ${c.forward} -i ${b} ! -o ${b} -j DROP`);
    } else {
      out.push(`-A ${c.forward} -i ${b} ! -o ${b} -j ACCEPT`);
    }
    // Nothing else may enter: no routed access from outside or from other bridges.
    out.push(`-A ${c.forward} -o ${b} -j DROP`);
  }
  for (const n of s.networks) {
    out.push(
      `-A ${c.iso1} -i ${n.bridge} ! -o ${n.bridge} -m conntrack ! --ctstate DNAT -j ${c.iso2}`,
    );
  }
  for (const n of s.networks) out.push(`-A ${c.iso2} -o ${n.bridge} -j DROP`);
  out.push("COMMIT", "");
  return out.join("\n");
}

function sortPorts(ports: FwPort[]): FwPort[] {
  return [...ports].sort((a, b) =>
    a.hostPort - b.hostPort || a.proto.localeCompare(b.proto) || a.hostIp.localeCompare(b.hostIp)
  );
}
