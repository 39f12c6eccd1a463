/**
 * The embedded DNS server's name table and answer logic (pure): which names a
 * container can see (names, aliases, short IDs of the containers on the
 * networks it shares, plus `name.network`), PTR for their addresses, and when
 * to forward to the host's resolvers instead.
 *
 * @example
 * ```ts
 * import { NameTable } from "./resolver.ts";
 * import { TYPE_A } from "./packet.ts";
 * const t = new NameTable();
 * t.set("net1", "app", { id: "c1", names: ["web", "www"], ip: 0x0a000002 });
 * const r = t.answer(["net1"], "www", TYPE_A);
 * console.assert(r.kind === "answer" && r.records[0].ip === 0x0a000002);
 * ```
 * @module
 */
import { type Record, TYPE_A, TYPE_AAAA, TYPE_PTR } from "./packet.ts";
import { ip6Bytes } from "../ipv6.ts";

/** What a container registers on a network. */
export interface DnsEndpoint {
  /** container ID (the key) */
  id: string;
  /** container name (first), aliases, short ID, … (lowercase compare) */
  names: string[];
  ip: number;
  /** dual-stack networks: the IPv6 address (AAAA, ip6.arpa PTR) */
  ip6?: bigint;
}

export type Answer =
  | { kind: "answer"; records: Record[] }
  /** the name exists here but has no record of that type */
  | { kind: "nodata" }
  /** not ours: ask the host's resolvers */
  | { kind: "forward" };

export const TTL = 600;

interface Net {
  name: string;
  eps: Map<string, DnsEndpoint>;
}

export class NameTable {
  #nets = new Map<string, Net>();

  /** Add or replace a container's endpoint on a network. */
  set(netId: string, netName: string, ep: DnsEndpoint): void {
    let n = this.#nets.get(netId);
    if (!n) this.#nets.set(netId, n = { name: netName, eps: new Map() });
    n.name = netName;
    n.eps.set(ep.id, { ...ep, names: ep.names.filter((x) => x).map((x) => x.toLowerCase()) });
  }

  delete(netId: string, containerId: string): void {
    const n = this.#nets.get(netId);
    n?.eps.delete(containerId);
    if (n && n.eps.size === 0) this.#nets.delete(netId);
  }

  dropNetwork(netId: string): void {
    this.#nets.delete(netId);
  }

  /** Number of endpoints registered on a network. */
  count(netId: string): number {
    return this.#nets.get(netId)?.eps.size ?? 0;
  }

  /** Addresses for `name` as seen from the networks `view`. */
  lookup(view: string[], name: string): number[] {
    const ips: number[] = [];
    for (const ep of this.#matches(view, name)) if (!ips.includes(ep.ip)) ips.push(ep.ip);
    return ips;
  }

  /** IPv6 addresses for `name` (endpoints on dual-stack networks). */
  lookup6(view: string[], name: string): bigint[] {
    const ips: bigint[] = [];
    for (const ep of this.#matches(view, name)) {
      if (ep.ip6 !== undefined && !ips.includes(ep.ip6)) ips.push(ep.ip6);
    }
    return ips;
  }

  #matches(view: string[], name: string): DnsEndpoint[] {
    const q = name.toLowerCase().replace(/\.$/, "");
    const out: DnsEndpoint[] = [];
    for (const id of view) {
      const n = this.#nets.get(id);
      if (!n) continue;
      const suffix = "." + n.name.toLowerCase();
      const bare = q.endsWith(suffix) ? q.slice(0, -suffix.length) : undefined;
      for (const ep of n.eps.values()) {
        if (ep.names.includes(q) || (bare !== undefined && ep.names.includes(bare))) out.push(ep);
      }
    }
    return out;
  }

  /** `name.network` of the container holding `ip` on one of the networks in `view`. */
  reverse(view: string[], ip: number | bigint): string | undefined {
    for (const id of view) {
      const n = this.#nets.get(id);
      if (!n) continue;
      for (const ep of n.eps.values()) {
        const hit = typeof ip === "bigint" ? ep.ip6 === ip : ep.ip === ip;
        if (hit && ep.names[0]) return `${ep.names[0]}.${n.name}`;
      }
    }
    return undefined;
  }

  /** Answer a question asked by a container attached to `view`. */
  answer(view: string[], name: string, type: number): Answer {
    const q = name.toLowerCase().replace(/\.$/, "");
    if (type === TYPE_PTR) {
      const ip = parsePtr(q) ?? parsePtr6(q);
      if (ip === undefined) return { kind: "forward" };
      const target = this.reverse(view, ip);
      if (!target) return { kind: "forward" };
      return { kind: "answer", records: [{ type: TYPE_PTR, ttl: TTL, target }] };
    }
    const ips = this.lookup(view, q);
    if (ips.length === 0) return { kind: "forward" };
    if (type === TYPE_AAAA) {
      const v6 = rotate(this.lookup6(view, q));
      if (!v6.length) return { kind: "nodata" };
      return {
        kind: "answer",
        records: v6.map((ip) => ({ type: TYPE_AAAA, ttl: TTL, data: ip6Bytes(ip) })),
      };
    }
    if (type !== TYPE_A) return { kind: "nodata" };
    // Rotate, like Docker, so repeated lookups of a shared alias spread the load.
    const k = Math.floor(Math.random() * ips.length);
    const order = [...ips.slice(k), ...ips.slice(0, k)];
    return { kind: "answer", records: order.map((ip) => ({ type: TYPE_A, ttl: TTL, ip })) };
  }
}

function rotate<T>(xs: T[]): T[] {
  const k = Math.floor(Math.random() * xs.length);
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/** The 32-nibble ip6.arpa form → the address, else undefined. */
export function parsePtr6(name: string): bigint | undefined {
  const m = /^((?:[0-9a-f]\.){32})ip6\.arpa\.?$/i.exec(name);
  if (!m) return undefined;
  const nibbles = m[1].split(".").slice(0, 32).reverse().join("");
  return BigInt("0x" + nibbles);
}

/** 2.0.213.10.in-addr.arpa → 10.213.0.2 (as a number), else undefined. */
export function parsePtr(name: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa\.?$/i.exec(name);
  if (!m) return undefined;
  const o = [m[4], m[3], m[2], m[1]].map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}
