/**
 * Bridges and veth pairs through iproute2, batched: wiring a container costs
 * two `ip -batch` runs (one inside its netns via nsenter, one on the host),
 * ~5 ms in all. Host-side veths carry an ifalias `berth:<tag>:<container>` so
 * a restarted daemon can tell its own stale links from anyone else's.
 *
 * @example
 * ```ts ignore
 * await ensureBridge({ name: "berth0", address: "10.213.0.1/24" });
 * await attachVeth({
 *   hostName: "veth1a2b3c4", bridge: "berth0", nsPath: "/proc/1234/ns/net",
 *   ifName: "eth0", mac: "02:42:0a:d5:00:02", address: "10.213.0.2/24",
 *   gateway: "10.213.0.1", alias: "berth::c1",
 * });
 * ```
 * @module
 */
import { runCmd } from "./firewall_linux.ts";
import { attachVethNetlink, deleteLinkNetlink, type VethSpec } from "./netlink_linux.ts";
import { keepFirstError } from "../errdefs/ignore.ts";

/** netlink (default) or iproute2 (BERTH_NET_IPROUTE=1) for per-container wiring. */
export function useNetlink(): boolean {
  return Deno.env.get("BERTH_NET_IPROUTE") !== "1";
}

export class LinkError extends Error {}

/** Run `ip -batch -` (inside `nsPath` when given). */
export async function ipBatch(lines: string[], nsPath?: string): Promise<void> {
  if (lines.length === 0) return;
  const r = nsPath
    ? await runCmd("nsenter", [`--net=${nsPath}`, "ip", "-batch", "-"], lines.join("\n") + "\n")
    : await runCmd("ip", ["-batch", "-"], lines.join("\n") + "\n");
  if (r.code !== 0) {
    throw new LinkError(r.stderr.trim().split("\n").slice(-2).join("; ") || `ip exited ${r.code}`);
  }
}

export function linkExists(name: string): boolean {
  try {
    Deno.statSync(`/sys/class/net/${name}`);
    return true;
  } catch {
    return false;
  }
}

function writeSysctl(path: string, value: string): void {
  try {
    Deno.writeTextFileSync(path, value);
  } catch { /* not there (older kernel) or read-only: best effort */ }
}

/** Global switches bridges with NAT need: forwarding on. */
export function enableForwarding(): void {
  try {
    if (Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward").trim() !== "1") {
      Deno.writeTextFileSync("/proc/sys/net/ipv4/ip_forward", "1");
    }
  } catch (e) {
    throw new LinkError(`cannot enable IPv4 forwarding: ${(e as Error).message}`);
  }
}

export interface BridgeSpec {
  name: string;
  /** gateway address with prefix, "10.213.0.1/24" */
  address: string;
  mtu?: number;
  /** ifalias (marks the bridge as berth's) */
  alias?: string;
  /** IPv6 gateway address with prefix, "fd00:1::1/64" (dual-stack networks) */
  address6?: string;
}

/** Create the bridge if needed, give it its gateway address, bring it up. */
export async function ensureBridge(b: BridgeSpec): Promise<void> {
  const lines: string[] = [];
  if (!linkExists(b.name)) lines.push(`link add ${b.name} type bridge`);
  lines.push(`addr replace ${b.address} dev ${b.name}`);
  if (b.alias) lines.push(`link set ${b.name} alias ${b.alias}`);
  lines.push(`link set ${b.name}${b.mtu ? ` mtu ${b.mtu}` : ""} up`);
  await ipBatch(lines);
  // 127.0.0.1:PORT → container: loopback-sourced packets may leave via this bridge.
  writeSysctl(`/proc/sys/net/ipv4/conf/${b.name}/route_localnet`, "1");
  if (b.address6) {
    // The host may default to disable_ipv6 on new links; nodad: usable at once, as libnetwork.
    writeSysctl(`/proc/sys/net/ipv6/conf/${b.name}/disable_ipv6`, "0");
    await ipBatch([`addr replace ${b.address6} dev ${b.name} nodad`]);
  }
}

export async function deleteLink(name: string): Promise<void> {
  if (!linkExists(name)) return;
  if (useNetlink()) return await deleteLinkNetlink(name);
  const r = await runCmd("ip", ["link", "del", name]);
  if (r.code !== 0 && linkExists(name)) throw new LinkError(r.stderr.trim());
}

/** The spec lives with netlink_linux.ts (which this module calls), exported here too. */
export type { VethSpec };

/**
 * Create a veth pair from inside the container's netns (so any netns path
 * works), configure the container side, then enslave the host side to the
 * bridge. On failure both ends are removed. netlink_linux.ts does the same
 * without processes; iproute2 is the fallback (BERTH_NET_IPROUTE=1).
 */
export async function attachVeth(v: VethSpec): Promise<void> {
  if (useNetlink()) await attachVethNetlink(v);
  else await attachVethIproute(v);
  if (v.address6) {
    // One more `ip` run, for dual-stack endpoints only (nodad: usable at once, as libnetwork).
    const lines = [`addr add ${v.address6} dev ${v.ifName} nodad`];
    if (v.gateway6) lines.push(`route replace default via ${v.gateway6} dev ${v.ifName}`);
    try {
      await ipBatch(lines, v.nsPath);
    } catch (e) {
      await deleteLink(v.hostName).catch(keepFirstError);
      throw e;
    }
  }
}

/** attachVeth through two `ip -batch` runs. */
export async function attachVethIproute(v: VethSpec): Promise<void> {
  const mtu = v.mtu ? ` mtu ${v.mtu}` : "";
  const inside = [
    `link add ${v.ifName}${mtu} address ${v.mac} type veth peer name ${v.hostName}${mtu} netns ${Deno.pid}`,
    `link set lo up`,
    `addr add ${v.address} dev ${v.ifName}`,
    `link set ${v.ifName} up`,
  ];
  if (v.gateway) inside.push(`route replace default via ${v.gateway} dev ${v.ifName}`);
  try {
    await ipBatch(inside, v.nsPath);
    await ipBatch([
      `link set ${v.hostName} alias ${v.alias}`,
      `link set ${v.hostName} master ${v.bridge} up`,
      `link set ${v.hostName} type bridge_slave hairpin on`,
    ]);
  } catch (e) {
    await deleteLink(v.hostName).catch(keepFirstError);
    await ipBatch([`link del ${v.ifName}`], v.nsPath).catch(keepFirstError);
    throw e;
  }
}

export interface LinkInfo {
  name: string;
  alias?: string;
  master?: string;
  kind?: string;
}

/** All links (optionally of one kind: veth, bridge) with alias and master. */
export async function listLinks(kind?: string): Promise<LinkInfo[]> {
  const r = await runCmd("ip", ["-j", "-d", "link", "show", ...(kind ? ["type", kind] : [])]);
  if (r.code !== 0) throw new LinkError(r.stderr.trim());
  const arr = JSON.parse(r.stdout || "[]") as {
    ifname: string;
    ifalias?: string;
    master?: string;
    linkinfo?: { info_kind?: string };
  }[];
  return arr.map((l) => ({
    name: l.ifname.split("@")[0],
    alias: l.ifalias,
    master: l.master,
    kind: l.linkinfo?.info_kind,
  }));
}
