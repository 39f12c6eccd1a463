/**
 * IPv6 address and CIDR math (BigInt), for dual-stack networks: parsing
 * (`::` compression, embedded IPv4), RFC 5952 formatting, the host at an
 * offset of a subnet, and the nibble PTR name.
 *
 * @example
 * ```ts
 * import { formatIp6, hostAt6, parseCidr6 } from "./ipv6.ts";
 * const c = parseCidr6("fd00:1::/64");
 * console.assert(formatIp6(hostAt6(c, 2n)) === "fd00:1::2");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";

export interface Cidr6 {
  net: bigint;
  prefix: number;
}

const ALL = (1n << 128n) - 1n;

/** Parse an IPv6 address; undefined when it is not one. */
export function tryParseIp6(s: string): bigint | undefined {
  let text = s.trim();
  if (!text.includes(":") || /[^0-9a-fA-F:.]/.test(text)) return undefined;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const o = v4.slice(1).map(Number);
    if (o.some((x) => x > 255)) return undefined;
    const hi = ((o[0] << 8) | o[1]).toString(16), lo = ((o[2] << 8) | o[3]).toString(16);
    text = `${text.slice(0, v4.index)}${hi}:${lo}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const part = (h: string) => (h === "" ? [] : h.split(":"));
  const head = part(halves[0]), rest = halves.length === 2 ? part(halves[1]) : [];
  if (halves.length === 2 && head.length + rest.length > 7) return undefined;
  const groups = halves.length === 2
    ? [...head, ...Array(8 - head.length - rest.length).fill("0"), ...rest]
    : head;
  if (groups.length !== 8) return undefined;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

export function parseIp6(s: string): bigint {
  const v = tryParseIp6(s);
  if (v === undefined) throw new InvalidArgument(`invalid IPv6 address: ${s}`);
  return v;
}

/** RFC 5952: lowercase, leading zeros dropped, the longest run of 2+ zero groups as `::`. */
export function formatIp6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

function mask6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL;
}

/** "fd00:1::/64" (host bits must be zero, as libnetwork's ParseCIDR-based checks want). */
export function parseCidr6(s: string): Cidr6 {
  const i = s.indexOf("/");
  const prefix = i < 0 ? NaN : Number(s.slice(i + 1));
  if (i < 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > 128) {
    throw new InvalidArgument(`invalid CIDR address: ${s}`);
  }
  const ip = tryParseIp6(s.slice(0, i));
  if (ip === undefined) throw new InvalidArgument(`invalid CIDR address: ${s}`);
  return { net: ip & mask6(prefix), prefix };
}

export function formatCidr6(c: Cidr6): string {
  return `${formatIp6(c.net)}/${c.prefix}`;
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & mask6(c.prefix)) === c.net;
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.net & mask6(p)) === (b.net & mask6(p));
}

/** The address `n` hosts into the subnet. */
export function hostAt6(c: Cidr6, n: bigint): bigint {
  return c.net + n;
}

/** Host bits of the subnet (2^(128-prefix)). */
export function size6(c: Cidr6): bigint {
  return 1n << BigInt(128 - c.prefix);
}

/** The nibble form: `2.0.0.0.….1.0.0.0.0.0.d.f.ip6.arpa`. */
export function ptrName6(ip: bigint): string {
  const n: string[] = [];
  for (let i = 0; i < 32; i++) n.push(((ip >> BigInt(i * 4)) & 0xfn).toString(16));
  return `${n.join(".")}.ip6.arpa`;
}

/** 16 bytes, network order (an AAAA record's data). */
export function ip6Bytes(ip: bigint): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(ip & 0xffn);
    ip >>= 8n;
  }
  return b;
}
