/**
 * Network area start-up and shutdown. Start: load networks (creating the
 * predefined bridge/host/none), bring every bridge up, re-adopt running
 * containers (same netns inode as recorded: DNS sockets, names, port
 * reservations come back; their veths and rules were never touched), and
 * undo whatever a crash left: endpoints of dead containers, leases without
 * an owner, our veths and bridges nobody owns. Then the firewall is written
 * in one atomic restore. Stop: if no container is attached, take everything
 * down (bridges, rules), so an idle host carries nothing of berth's.
 * @module
 */
import { formatCidr, formatIp, hostAt, parseIp } from "../../../core/net/ipv4.ts";
import { allocateSubnet, hostRoutes, parseBip } from "../../../core/net/ipam.ts";
import {
  deleteLink,
  enableForwarding,
  ensureBridge,
  linkExists,
  listLinks,
} from "../../../core/net/link_linux.ts";
import { log, logFailure } from "../log.ts";
import { type ContainerNet, type NetworkRecord, newId, nsInode } from "./records.ts";
import { type NetState, withHostLock } from "./state.ts";
import { registerAndSweep, unregister } from "./orphans.ts";
import { isV6Entry, v6Entry } from "./ipv6.ts";
import { parseIp6 } from "../../../core/net/ipv6.ts";
import type { Cidr } from "../../../core/net/ipv4.ts";

/** Candidates for the default bridge: 10.213.0.0/24, 10.213.1.0/24, … */
const DEFAULT_BRIDGE_POOL = [{ base: { net: parseIp("10.213.0.0"), prefix: 16 }, size: 24 }];

export function baseRecord(name: string, driver: NetworkRecord["Driver"]): NetworkRecord {
  return {
    Name: name,
    Id: newId(),
    Created: new Date().toISOString(),
    Scope: "local",
    Driver: driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Options: {},
    Labels: {},
  };
}

/** Subnets in use: our networks and the host's routes (minus the given bridge's own). */
export async function takenSubnets(st: NetState, exceptDev?: string): Promise<Cidr[]> {
  const out: Cidr[] = [];
  for (const r of await hostRoutes()) if (r.dev !== exceptDev) out.push(r.cidr);
  for (const n of st.nets.values()) {
    for (const c of n.IPAM.Config) {
      try {
        const [ip, p] = c.Subnet.split("/");
        out.push({ net: parseIp(ip), prefix: Number(p) });
      } catch { /* skip */ }
    }
  }
  return out;
}

async function ensureDefaultBridge(st: NetState): Promise<void> {
  let n = st.byName("bridge");
  const bip = st.config.bip ? parseBip(st.config.bip) : undefined;
  const dev = st.defaultBridge;
  await withHostLock(async () => {
    if (!n) {
      n = baseRecord("bridge", "bridge");
      n.Predefined = true;
      n.Bridge = dev;
      n.Options = {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.enable_icc": "true",
        "com.docker.network.bridge.enable_ip_masquerade": "true",
        "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        "com.docker.network.bridge.name": dev,
        "com.docker.network.driver.mtu": "1500",
      };
    }
    let subnet: Cidr, gateway: number;
    if (bip) {
      ({ subnet, gateway } = bip);
    } else if (n.IPAM.Config[0]) {
      const [ip, p] = n.IPAM.Config[0].Subnet.split("/");
      subnet = { net: parseIp(ip), prefix: Number(p) };
      gateway = parseIp(n.IPAM.Config[0].Gateway!);
    } else {
      const others = await takenSubnets(st, dev);
      subnet = allocateSubnet(DEFAULT_BRIDGE_POOL, others);
      gateway = hostAt(subnet, 1);
    }
    const cfg = { Subnet: formatCidr(subnet), Gateway: formatIp(gateway) };
    const changed = JSON.stringify(n.IPAM.Config[0]) !== JSON.stringify(cfg);
    // --ipv6 [--fixed-cidr-v6]: as dockerd, the flags decide at every start.
    const fixed = st.config.ipv6 && st.config.fixedCidrV6;
    const others = [...st.nets.values()].filter((o) => o.Id !== n!.Id);
    const v6 = fixed ? v6Entry({ Subnet: fixed }, subnet, others) : undefined;
    n.EnableIPv6 = !!st.config.ipv6;
    n.IPAM.Config = [cfg, ...(v6 ? [v6] : [])];
    st.nets.set(n.Id, n);
    const t = st.ipam.get(n.Id);
    if (!t || changed) await st.ipam.create(n.Id, { subnet, gateway });
    await st.store.saveNetwork(n);
    await ensureBridge({
      name: dev,
      address: `${formatIp(gateway)}/${subnet.prefix}`,
      address6: v6 ? `${v6.Gateway}/${v6.Subnet.split("/")[1]}` : undefined,
      alias: `${st.aliasPrefix}n:${n.Id}`,
    });
  });
}

/** --bridge=none: no default bridge network; its device goes with the stale-link sweep below. */
async function dropDefaultBridge(st: NetState): Promise<void> {
  const n = st.byName("bridge");
  if (!n?.Predefined) return;
  st.nets.delete(n.Id);
  await st.store.removeNetwork(n.Id);
}

export async function startNetworking(st: NetState): Promise<void> {
  const t0 = performance.now();
  const missing = st.fw.missing(); // before any bridge exists: fail with nothing to undo
  if (missing) throw new Error(missing);
  await st.store.init();
  await st.ipam.init((m) => log.warn(m));
  for (const n of await st.store.loadNetworks()) st.nets.set(n.Id, n);
  for (const [name, driver] of [["host", "host"], ["none", "null"]] as const) {
    if (!st.byName(name)) {
      const n = baseRecord(name, driver);
      n.Predefined = true;
      st.nets.set(n.Id, n);
      await st.store.saveNetwork(n);
    }
  }
  enableForwarding();
  await registerAndSweep(st.tag, st.config.root);
  if (st.config.bridge === "none") await dropDefaultBridge(st);
  else await ensureDefaultBridge(st);
  for (const n of st.nets.values()) {
    if (n.Driver !== "bridge" || n.Predefined || !n.Bridge) continue;
    const cfg = n.IPAM.Config[0];
    if (!st.ipam.get(n.Id)) {
      const [ip, p] = cfg.Subnet.split("/");
      await st.ipam.create(n.Id, {
        subnet: { net: parseIp(ip), prefix: Number(p) },
        gateway: parseIp(cfg.Gateway!),
      });
    }
    const v6 = n.IPAM.Config.find(isV6Entry);
    await ensureBridge({
      name: n.Bridge,
      address: `${cfg.Gateway}/${cfg.Subnet.split("/")[1]}`,
      address6: n.EnableIPv6 && v6 ? `${v6.Gateway}/${v6.Subnet.split("/")[1]}` : undefined,
      alias: `${st.aliasPrefix}n:${n.Id}`,
      mtu: Number(n.Options["com.docker.network.driver.mtu"]) || undefined,
    }).catch((e) => log.warn(`network ${n.Name}: bridge ${n.Bridge}: ${e.message}`));
  }
  // Re-adopt running containers, clean up after dead ones.
  for (const c of await st.store.loadEndpoints()) {
    const nsPath = `/proc/${c.pid}/ns/net`;
    if (c.nsIno && nsInode(nsPath) === c.nsIno) await adopt(st, c, nsPath);
    else await forget(st, c);
  }
  // Leases nobody holds (crash between lease and endpoint record).
  for (const id of st.ipam.ids()) {
    const t = st.ipam.get(id)!;
    let n = 0;
    for (const [ip, owner] of t.leases()) {
      if (!st.live.get(owner)?.endpoints[id]) {
        t.release(ip);
        n++;
      }
    }
    if (n) await st.ipam.save(id);
    if (!st.nets.has(id)) await st.ipam.remove(id);
  }
  // Our links nobody owns.
  const links = await listLinks().catch(() => []);
  for (const l of links) {
    if (!l.alias?.startsWith(st.aliasPrefix)) continue;
    const [kind, id] = l.alias.slice(st.aliasPrefix.length).split(":");
    const own = kind === "c"
      ? [...(st.live.get(id)?.endpoints ? Object.values(st.live.get(id)!.endpoints) : [])]
        .some((e) => e.hostVeth === l.name)
      : st.nets.get(id)?.Bridge === l.name;
    if (!own) {
      log.info(`removing stale link ${l.name} (${l.alias})`);
      await deleteLink(l.name).catch(logFailure(`removing stale link ${l.name}`));
    }
  }
  await st.fw.init(st.fwState());
  if (!st.fw.enabled) log.warn("--iptables=false: no NAT, isolation or published-port rules");
  log.info(
    `networks: ${st.nets.size} networks, ${st.live.size} attached containers, firewall ${st.fw.prefix} (${await st
      .fw.backend()}), ready in ${Math.round(performance.now() - t0)} ms`,
  );
}

async function adopt(st: NetState, c: ContainerNet, nsPath: string): Promise<void> {
  st.live.set(c.id, c);
  for (const ep of Object.values(c.endpoints)) {
    const n = st.nets.get(ep.netId);
    if (!n) continue;
    if (!n.Predefined) {
      st.names.set(n.Id, n.Name, {
        id: c.id,
        names: ep.dnsNames,
        ip: parseIp(ep.ip),
        ...(ep.ip6 ? { ip6: parseIp6(ep.ip6) } : {}),
      });
    }
    st.ipam.get(n.Id)?.allocate(c.id, parseIp(ep.ip));
  }
  for (const p of c.ports) {
    await st.ports.reserve(c.id, {
      proto: p.proto,
      hostIp: p.hostIp,
      hostRange: [p.hostPort, p.hostPort],
    }).catch((e) => log.warn(`container ${c.id.slice(0, 12)}: port ${p.hostPort}: ${e.message}`));
  }
  const view = st.dnsView(c);
  if (view.nets.length) {
    try {
      st.dns.addContainer(c.id, nsPath, view);
    } catch (e) {
      log.warn(`container ${c.id.slice(0, 12)}: embedded DNS: ${(e as Error).message}`);
    }
  }
}

async function forget(st: NetState, c: ContainerNet): Promise<void> {
  for (const ep of Object.values(c.endpoints)) {
    if (linkExists(ep.hostVeth)) {
      await deleteLink(ep.hostVeth).catch(logFailure(`removing link ${ep.hostVeth}`));
    }
  }
  await st.store.removeEndpoints(c.id);
}

/** Daemon shutdown: sockets go; with nothing attached, bridges and rules go too. */
export async function stopNetworking(st: NetState): Promise<void> {
  await st.dns.close();
  st.ports.closeAll();
  if (st.live.size > 0) return;
  await st.fw.teardown().catch((e) => log.warn(`firewall teardown: ${e.message}`));
  for (const n of st.nets.values()) {
    if (n.Bridge) await deleteLink(n.Bridge).catch(logFailure(`removing bridge ${n.Bridge}`));
  }
  await unregister(st.tag);
}
