/**
 * IPv4 addresses and CIDR subnets as plain numbers: parse, format, contain,
 * overlap, n-th host. Pure; no I/O.
 *
 * @example
 * ```ts
 * import { parseCidr, formatIp, hostAt } from "./ipv4.ts";
 * const s = parseCidr("10.213.0.0/24");
 * console.assert(formatIp(hostAt(s, 1)) === "10.213.0.1");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";

/** A subnet: network address (host bits zero) and prefix length. */
export interface Cidr {
  /** network address as an unsigned 32-bit number */
  net: number;
  prefix: number;
}

const IP_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parse dotted-quad IPv4, or undefined when it is not one. */
export function tryParseIp(s: string): number | undefined {
  const m = IP_RE.exec(s.trim());
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = v * 256 + o;
  }
  return v;
}

export function parseIp(s: string): number {
  const v = tryParseIp(s);
  if (v === undefined) throw new InvalidArgument(`invalid IPv4 address: ${s}`);
  return v;
}

export function formatIp(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The netmask of a prefix length as a number. */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parse "a.b.c.d/n". With `strict` (default false) host bits must be zero;
 * otherwise they are dropped (the address part is returned as `addr`).
 */
export function parseCidrAddr(s: string): { cidr: Cidr; addr: number } {
  const [ip, p, extra] = s.trim().split("/");
  const prefix = Number(p);
  if (extra !== undefined || p === undefined || !/^\d{1,2}$/.test(p) || prefix > 32) {
    throw new InvalidArgument(`invalid CIDR address: ${s}`);
  }
  const a = tryParseIp(ip);
  if (a === undefined) throw new InvalidArgument(`invalid CIDR address: ${s}`);
  return { cidr: { net: (a & maskOf(prefix)) >>> 0, prefix }, addr: a };
}

export function parseCidr(s: string): Cidr {
  return parseCidrAddr(s).cidr;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.net)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** Last address (broadcast) of the subnet. */
export function lastOf(c: Cidr): number {
  return (c.net + size(c) - 1) >>> 0;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.net;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.net <= lastOf(b) && b.net <= lastOf(a);
}

/** The n-th address of the subnet (0 = network address). */
export function hostAt(c: Cidr, n: number): number {
  return (c.net + n) >>> 0;
}

/** Docker's MAC for an IP: 02:42 followed by the four address bytes. */
export function macForIp(ip: number): string {
  const b = [0x02, 0x42, (ip >>> 24) & 255, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function checkMac(mac: string): string {
  if (!MAC_RE.test(mac)) throw new InvalidArgument(`invalid MAC address: ${mac}`);
  const first = parseInt(mac.slice(0, 2), 16);
  if (first & 1) throw new InvalidArgument(`invalid MAC address: ${mac} is a multicast address`);
  return mac.toLowerCase();
}

/** The reverse-DNS name of an address: 2.0.213.10.in-addr.arpa */
export function ptrName(ip: number): string {
  return `${ip & 255}.${(ip >>> 8) & 255}.${(ip >>> 16) & 255}.${(ip >>> 24) & 255}.in-addr.arpa`;
}

/** Split a subnet into consecutive subnets of `prefix` (base must be ≤ prefix). */
export function* subnets(base: Cidr, prefix: number): Generator<Cidr> {
  if (prefix < base.prefix || prefix > 32) return;
  const step = 2 ** (32 - prefix);
  for (let n = base.net; n <= lastOf(base); n += step) yield { net: n >>> 0, prefix };
}
