/**
 * Dual-stack bridge networks: a network with `EnableIPv6` carries a second
 * IPAM.Config entry (the IPv6 subnet and gateway, after the IPv4 one, as
 * Docker lists them). A container's IPv6 address is derived from its IPv4
 * lease: the same host offset in the IPv6 subnet (10.214.0.2 → fd00:1::2),
 * so no second lease table is kept and the two addresses come and go
 * together. The one offset that would collide — the IPv6 gateway's, when
 * the IPv4 gateway is elsewhere — is mapped onto the IPv4 gateway's offset,
 * which is never leased. Static `--ip6` is therefore not offered.
 * @module
 */
import { Forbidden, InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { Cidr } from "../../../core/net/ipv4.ts";
import {
  type Cidr6,
  contains6,
  formatCidr6,
  formatIp6,
  hostAt6,
  overlaps6,
  parseCidr6,
  parseIp6,
} from "../../../core/net/ipv6.ts";
import type { IpamConfigEntry, NetworkRecord } from "./records.ts";

export interface V6 {
  subnet: Cidr6;
  gateway: bigint;
}

export function isV6Entry(c: { Subnet?: string }): boolean {
  return !!c.Subnet?.includes(":");
}

/** The IPv6 side of a network, when it has one. */
export function v6Of(n: NetworkRecord): V6 | undefined {
  if (!n.EnableIPv6) return undefined;
  const c = n.IPAM.Config.find(isV6Entry);
  if (!c) return undefined;
  const subnet = parseCidr6(c.Subnet);
  return { subnet, gateway: c.Gateway ? parseIp6(c.Gateway) : hostAt6(subnet, 1n) };
}

/**
 * Check an IPv6 IPAM request against the IPv4 subnet and the other
 * networks; the entry to store. Messages as libnetwork's where it has one.
 */
export function v6Entry(
  req: Partial<IpamConfigEntry> | undefined,
  v4: Cidr,
  others: Iterable<NetworkRecord>,
): IpamConfigEntry {
  if (!req?.Subnet) {
    // Docker 20.10 has no default IPv6 pool either.
    throw new Forbidden(
      "could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network",
    );
  }
  const subnet = parseCidr6(req.Subnet);
  if (128 - subnet.prefix < 32 - v4.prefix) {
    throw new InvalidArgument(
      `IPv6 subnet ${
        formatCidr6(subnet)
      } is smaller than the IPv4 subnet: berth gives each container the IPv4 host offset in it`,
    );
  }
  const gateway = req.Gateway ? parseIp6(req.Gateway) : hostAt6(subnet, 1n);
  if (!contains6(subnet, gateway)) {
    throw new InvalidArgument(`gateway ${req.Gateway} is not in subnet ${formatCidr6(subnet)}`);
  }
  if (req.IPRange) throw new InvalidArgument("an IPv6 --ip-range is not supported by berth");
  for (const o of others) {
    const ov = v6Of(o);
    if (ov && overlaps6(ov.subnet, subnet)) {
      throw new Forbidden(
        "invalid pool request: Pool overlaps with other one on this address space",
      );
    }
  }
  return { Subnet: formatCidr6(subnet), Gateway: formatIp6(gateway) };
}

/** The IPv6 address of the container holding IPv4 `ip4` (see the module note). */
export function v6Address(v6: V6, v4: Cidr, v4Gateway: number | undefined, ip4: number): bigint {
  let off = BigInt((ip4 - v4.net) >>> 0);
  const gwOff = v6.gateway - v6.subnet.net;
  if (off === gwOff && v4Gateway !== undefined) off = BigInt((v4Gateway - v4.net) >>> 0);
  return hostAt6(v6.subnet, off);
}
