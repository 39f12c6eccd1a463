/**
 * Wiring a container into its networks (the container service's attach /
 * detach hook) and live connect / disconnect: address from IPAM, veth into
 * the container's netns, published ports (reserved host port + DNAT), names
 * in the embedded DNS, /etc/hosts and resolv.conf, NetworkSettings.
 * @module
 */
import { Conflict, Forbidden, InvalidArgument } from "../../../core/errdefs/mod.ts";
import { checkMac, formatIp, macForIp, parseIp } from "../../../core/net/ipv4.ts";
import { attachVeth, deleteLink, ipBatch, useNetlink } from "../../../core/net/link_linux.ts";
import { loopbackUpNetlink } from "../../../core/net/netlink_linux.ts";
import { portMap, publishRequests } from "../../../core/net/ports.ts";
import { buildHosts, buildResolvConf } from "../../../core/net/etc_files.ts";
import type { ContainerRecord, StoredNetworkSettings } from "../../../core/store/containers.ts";
import type {
  ContainerConfig,
  EndpointConfig,
  EndpointSettings,
  HostConfig,
} from "../../../core/api/types.ts";
import { log, logFailure } from "../log.ts";
import { formatIp6, parseIp6 } from "../../../core/net/ipv6.ts";
import { v6Address, v6Of } from "./ipv6.ts";
import { linkedContainers } from "../containers/links.ts";
import {
  type ContainerNet,
  type EndpointState,
  type NetworkRecord,
  newId,
  nsInode,
} from "./records.ts";
import type { NetState } from "./state.ts";

/**
 * What wiring reads and writes of a container record: a container's, or the
 * stand-in of a build RUN step (service.ts attachStep), which has no more.
 */
export type NetContainer =
  & Pick<
    ContainerRecord,
    "Id" | "Name" | "NetworkSettings" | "HostsPath" | "ResolvConfPath" | "LinkRefs"
  >
  & {
    HostConfig:
      & Pick<HostConfig, "NetworkMode" | "Dns" | "DnsSearch" | "DnsOptions" | "ExtraHosts">
      & Partial<Pick<HostConfig, "PortBindings" | "PublishAllPorts">>;
    Config: Pick<ContainerConfig, "Hostname" | "Domainname" | "ExposedPorts" | "MacAddress">;
  };

/** Docker's EndpointSettings as stored in NetworkSettings.Networks. */
export function endpointSettings(net: NetworkRecord, cfg: EndpointConfig = {}): EndpointSettings {
  return {
    IPAMConfig: cfg.IPAMConfig && Object.keys(cfg.IPAMConfig).length ? cfg.IPAMConfig : null,
    Links: cfg.Links ?? null,
    Aliases: cfg.Aliases?.length ? cfg.Aliases : null,
    MacAddress: cfg.MacAddress ?? "",
    DriverOpts: cfg.DriverOpts ?? null,
    GwPriority: cfg.GwPriority ?? 0,
    NetworkID: net.Id,
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

/** Check an endpoint request against its network (Docker's messages). */
export function checkEndpointConfig(net: NetworkRecord, cfg: EndpointConfig): void {
  if (net.Driver !== "bridge") {
    if (cfg?.Aliases?.length) {
      throw new InvalidArgument(
        "network-scoped alias is supported only for containers in user defined networks",
      );
    }
    return;
  }
  if (net.Predefined && cfg?.Aliases?.length) {
    throw new InvalidArgument(
      "network-scoped alias is supported only for containers in user defined networks",
    );
  }
  if (cfg?.IPAMConfig?.IPv6Address) {
    // networks/ipv6.ts: the IPv6 address follows the IPv4 lease
    throw new InvalidArgument(
      "a static IPv6 address (--ip6) is not supported by berth: a container's IPv6 address follows its IPv4 address",
    );
  }
  const ip = cfg?.IPAMConfig?.IPv4Address;
  if (ip) {
    parseIp(ip);
    if (net.Predefined) {
      throw new InvalidArgument(
        "user specified IP address is supported on user defined networks only",
      );
    }
    if (!net.UserSubnet) {
      throw new InvalidArgument(
        "user specified IP address is supported only when connecting to networks with user configured subnets",
      );
    }
  }
  if (cfg?.MacAddress) checkMac(cfg.MacAddress);
}

/** The networks a container asks for, primary (NetworkMode) first. */
export function requestedNetworks(
  st: NetState,
  r: NetContainer,
): { net: NetworkRecord; cfg: EndpointConfig }[] {
  const mode = r.HostConfig.NetworkMode || "bridge";
  const saved: Record<string, EndpointSettings> = r.NetworkSettings?.Networks ?? {};
  const out: { net: NetworkRecord; cfg: EndpointConfig }[] = [];
  const primary = st.resolveNet(mode);
  out.push({ net: primary, cfg: saved[primary.Name] ?? saved[mode] ?? {} });
  for (const [key, cfg] of Object.entries(saved)) {
    const n = st.tryResolveNet(cfg?.NetworkID || key) ?? st.tryResolveNet(key);
    if (!n || n.Id === primary.Id || out.some((o) => o.net.Id === n.Id)) continue;
    if (n.Driver !== "bridge") continue;
    out.push({ net: n, cfg });
  }
  return out;
}

function freeIfName(c: ContainerNet): string {
  const used = new Set(Object.values(c.endpoints).map((e) => e.ifName));
  for (let i = 0;; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}

/** Create one endpoint (address, veth) of a running container. */
async function wire(
  st: NetState,
  c: ContainerNet,
  net: NetworkRecord,
  cfg: EndpointConfig,
  nsPath: string,
  defaultRoute: boolean,
  mac?: string,
): Promise<EndpointState> {
  const table = st.ipam.get(net.Id);
  if (!table || !net.Bridge) throw new Forbidden(`network ${net.Name} has no address pool`);
  const want = cfg?.IPAMConfig?.IPv4Address ? parseIp(cfg.IPAMConfig.IPv4Address) : undefined;
  const ip = table.allocate(c.id, want);
  const ep: EndpointState = {
    netId: net.Id,
    netName: net.Name,
    endpointId: newId(),
    hostVeth: `veth${newId().slice(0, 7)}`,
    ifName: freeIfName(c),
    ip: formatIp(ip),
    prefix: table.subnet.prefix,
    gateway: net.Internal || table.gateway === undefined ? "" : formatIp(table.gateway),
    mac: mac ? checkMac(mac) : macForIp(ip),
    aliases: cfg?.Aliases ?? [],
    dnsNames: [],
    ...(cfg?.Links?.length ? { links: cfg.Links } : {}),
  };
  const v6 = v6Of(net);
  if (v6) {
    ep.ip6 = formatIp6(v6Address(v6, table.subnet, table.gateway, ip));
    ep.prefix6 = v6.subnet.prefix;
    ep.gateway6 = net.Internal ? "" : formatIp6(v6.gateway);
  }
  if (!net.Predefined) {
    ep.dnsNames = [c.name, ...ep.aliases, c.id.slice(0, 12)];
    // moby adds the hostname to the endpoint's aliases on user-defined
    // networks (v20.10.24 daemon/container_operations.go updateNetworkConfig).
    if (c.hostname && !ep.dnsNames.includes(c.hostname)) ep.dnsNames.push(c.hostname);
  }
  c.endpoints[net.Id] = ep;
  try {
    await Promise.all([
      st.ipam.save(net.Id),
      attachVeth({
        hostName: ep.hostVeth,
        bridge: net.Bridge,
        nsPath,
        ifName: ep.ifName,
        mac: ep.mac,
        address: `${ep.ip}/${ep.prefix}`,
        gateway: defaultRoute && ep.gateway ? ep.gateway : undefined,
        address6: ep.ip6 ? `${ep.ip6}/${ep.prefix6}` : undefined,
        gateway6: defaultRoute && ep.gateway6 ? ep.gateway6 : undefined,
        alias: `${st.aliasPrefix}c:${c.id}`,
        mtu: Number(net.Options["com.docker.network.driver.mtu"]) || undefined,
      }),
    ]);
  } catch (e) {
    delete c.endpoints[net.Id];
    table.release(ip);
    await st.ipam.save(net.Id).catch(logFailure(`recording the address leases of ${net.Id}`));
    throw e;
  }
  if (!net.Predefined) {
    st.names.set(net.Id, net.Name, {
      id: c.id,
      names: ep.dnsNames,
      ip,
      ...(ep.ip6 ? { ip6: parseIp6(ep.ip6) } : {}),
    });
  }
  return ep;
}

/** Remove one endpoint: veth, lease, names. */
/**
 * Remove one endpoint: names and lease at once; the veth (normally already
 * gone with the netns) and the lease file in the background unless `wait`.
 * A crash before they finish is cleaned up at the next start.
 */
async function unwire(
  st: NetState,
  c: ContainerNet,
  ep: EndpointState,
  wait = false,
): Promise<void> {
  delete c.endpoints[ep.netId];
  st.names.delete(ep.netId, c.id);
  const link = deleteLink(ep.hostVeth).catch((e) =>
    log.warn(`removing ${ep.hostVeth}: ${e.message}`)
  );
  const t = st.ipam.get(ep.netId);
  let save: Promise<void> = Promise.resolve();
  if (t && t.ownerOf(parseIp(ep.ip)) === c.id) {
    t.release(parseIp(ep.ip));
    save = st.ipam.save(ep.netId).catch((e) => log.warn(`saving leases: ${e.message}`));
  }
  if (wait) await Promise.all([link, save]);
}

/** Write the settings of the live endpoints into the record (Docker's shape). */
export function fillSettings(st: NetState, r: NetContainer, c: ContainerNet | undefined): void {
  const ns: StoredNetworkSettings = r.NetworkSettings ?? {};
  const nets: Record<string, EndpointSettings> = ns.Networks ?? {};
  for (const ep of Object.values(c?.endpoints ?? {})) {
    const net = st.nets.get(ep.netId);
    const has = Object.entries(nets).some(([k, v]) =>
      k === ep.netName || v?.NetworkID === ep.netId
    );
    if (net && !has) nets[net.Name] = endpointSettings(net, { Aliases: ep.aliases });
  }
  for (const [name, es] of Object.entries(nets)) {
    const net = st.tryResolveNet(es?.NetworkID || name);
    const ep = net && c?.endpoints[net.Id];
    es.EndpointID = ep?.endpointId ?? "";
    es.Gateway = ep?.gateway ?? "";
    es.IPAddress = ep?.ip ?? "";
    es.IPPrefixLen = ep?.prefix ?? 0;
    es.MacAddress = ep?.mac ?? "";
    es.DNSNames = ep?.dnsNames.length ? ep.dnsNames : null;
    es.IPv6Gateway = ep?.gateway6 ?? "";
    es.GlobalIPv6Address = ep?.ip6 ?? "";
    es.GlobalIPv6PrefixLen = ep?.prefix6 ?? 0;
  }
  const bridge = [...st.nets.values()].find((n) => n.Name === "bridge");
  const main = bridge && c?.endpoints[bridge.Id];
  ns.Networks = nets;
  ns.Bridge = "";
  ns.SandboxID = c ? c.id : "";
  ns.SandboxKey = c ? `/proc/${c.pid}/ns/net` : "";
  ns.EndpointID = main?.endpointId ?? "";
  ns.Gateway = main?.gateway ?? "";
  ns.IPAddress = main?.ip ?? "";
  ns.IPPrefixLen = main?.prefix ?? 0;
  ns.MacAddress = main?.mac ?? "";
  ns.GlobalIPv6Address = main?.ip6 ?? "";
  ns.GlobalIPv6PrefixLen = main?.prefix6 ?? 0;
  ns.IPv6Gateway = main?.gateway6 ?? "";
  ns.Ports = c ? portMap(r.Config.ExposedPorts, c.ports) : {};
  r.NetworkSettings = ns;
}

/**
 * Legacy links' /etc/hosts entries (`alias hostname name:ip`, after the
 * --add-host ones as libnetwork writes them). The start already refused
 * children that do not run, so one that stopped since is left out.
 */
function linkHosts(st: NetState, r: NetContainer): string[] {
  const store = st.containers();
  if (!store || !r.LinkRefs?.length) return [];
  const view = { get: (id: string) => store.get(id), tryResolve: () => undefined, list: () => [] };
  try {
    return linkedContainers(r, view).hosts;
  } catch (e) {
    log.warn(`links of ${r.Name}: ${(e as Error).message}`);
    return [];
  }
}

/** /etc/hosts and /etc/resolv.conf, rewritten in place (they are bind-mounted). */
export async function writeEtc(st: NetState, r: NetContainer, c: ContainerNet): Promise<void> {
  const hc = r.HostConfig;
  const bridge = st.byName("bridge");
  const gw = bridge ? st.ipam.get(bridge.Id)?.gateway : undefined;
  const eps = Object.values(c.endpoints);
  const hosts = buildHosts({
    hostname: r.Config.Hostname,
    domainname: r.Config.Domainname,
    // IPv4 lines first, then IPv6 ones (Docker 23+ writes both; 20.10 only IPv4)
    ips: [...eps.map((e) => e.ip), ...eps.flatMap((e) => e.ip6 ? [e.ip6] : [])],
    extraHosts: [...(hc.ExtraHosts ?? []), ...linkHosts(st, r)],
    hostGateway: gw === undefined ? undefined : formatIp(gw),
  });
  const embedded = st.dnsView(c).nets.length > 0;
  const resolv = buildResolvConf(st.hostResolvConf(), {
    embedded,
    dns: hc.Dns ?? [],
    dnsSearch: hc.DnsSearch ?? [],
    dnsOptions: hc.DnsOptions ?? [],
  });
  if (r.HostsPath) await Deno.writeTextFile(r.HostsPath, hosts, { create: true });
  if (r.ResolvConfPath) await Deno.writeTextFile(r.ResolvConfPath, resolv.text, { create: true });
}

/** The container service's hook: the namespaces exist, the process has not started. */
export async function attach(st: NetState, r: NetContainer, pid: number): Promise<void> {
  const mode: string = r.HostConfig.NetworkMode || "bridge";
  const nsPath = `/proc/${pid}/ns/net`;
  if (mode === "host") return;
  if (mode === "none" || st.noDefaultBridge(mode)) {
    if (useNetlink()) await loopbackUpNetlink(nsPath);
    else await ipBatch(["link set lo up"], nsPath);
    return;
  }
  if (mode.startsWith("container:")) {
    const other = st.containers()?.resolve(mode.slice("container:".length));
    if (other) {
      for (
        const [from, to] of [[other.HostsPath, r.HostsPath], [
          other.ResolvConfPath,
          r.ResolvConfPath,
        ]]
      ) {
        const text = await Deno.readTextFile(from).catch(() => undefined); // none: nothing to share
        if (text !== undefined && to) await Deno.writeTextFile(to, text, { create: true });
      }
    }
    return;
  }
  if (st.live.has(r.Id)) await detach(st, r);
  const t0 = performance.now();
  const wanted = requestedNetworks(st, r);
  const c: ContainerNet = {
    id: r.Id,
    name: r.Name.replace(/^\//, ""),
    pid,
    nsIno: nsInode(nsPath),
    endpoints: {},
    ports: [],
    dns: r.HostConfig.Dns ?? [],
    hostname: r.Config.Hostname,
  };
  st.live.set(r.Id, c);
  try {
    let route = true;
    for (const [i, { net, cfg }] of wanted.entries()) {
      const mac = i === 0 ? (cfg?.MacAddress || r.Config.MacAddress) : cfg?.MacAddress;
      const ep = await wire(st, c, net, cfg, nsPath, route, mac);
      if (ep.gateway) route = false;
    }
    const primary = c.endpoints[wanted[0].net.Id];
    const reqs = publishRequests(
      r.HostConfig.PortBindings,
      r.Config.ExposedPorts,
      !!r.HostConfig.PublishAllPorts,
    );
    if (reqs.length && primary && !wanted[0].net.Internal) {
      c.portIp = primary.ip;
      for (const q of reqs) {
        try {
          const res = await st.ports.reserve(r.Id, q);
          c.ports.push({
            proto: q.proto,
            ctrPort: q.ctrPort,
            hostIp: res.hostIp,
            hostPort: res.hostPort,
          });
        } catch (e) {
          throw new Conflict(
            `driver failed programming external connectivity on endpoint ${c.name} (${primary.endpointId}): ${
              (e as Error).message
            }`,
          );
        }
      }
    }
    const view = st.dnsView(c);
    if (view.nets.length) st.dns.addContainer(c.id, nsPath, view);
    await Promise.all([
      st.store.saveEndpoints(c),
      c.ports.length ? st.applyFirewall({ filter: false }) : undefined,
      writeEtc(st, r, c),
    ]);
    fillSettings(st, r, c);
    log.debug(`network attach ${c.id.slice(0, 12)}: ${(performance.now() - t0).toFixed(1)} ms`);
  } catch (e) {
    await detach(st, r).catch(logFailure(`undoing the network attach of ${r.Id}`));
    throw e;
  }
}

/** The container service's hook after the container stopped (also on rm). */
export async function detach(st: NetState, r: NetContainer): Promise<void> {
  const c = st.live.get(r.Id);
  if (c) {
    const t0 = performance.now();
    st.live.delete(r.Id);
    st.dns.removeContainer(c.id);
    const hadPorts = st.ports.releaseOwner(c.id) > 0 || c.ports.length > 0;
    for (const ep of Object.values(c.endpoints)) await unwire(st, c, ep);
    if (hadPorts) {
      await st.applyFirewall({ filter: false }).catch((e) => log.warn(`firewall: ${e.message}`));
    }
    await st.store.removeEndpoints(c.id);
    log.debug(`network detach ${c.id.slice(0, 12)}: ${(performance.now() - t0).toFixed(1)} ms`);
  }
  if (r.NetworkSettings?.Networks) fillSettings(st, r, undefined);
}

/** `network connect`: add an endpoint (live if the container runs). */
export async function connectLive(
  st: NetState,
  r: NetContainer,
  net: NetworkRecord,
  cfg: EndpointConfig,
): Promise<void> {
  const c = st.live.get(r.Id);
  if (!c) return;
  const nsPath = `/proc/${c.pid}/ns/net`;
  const route = !Object.values(c.endpoints).some((e) => e.gateway);
  await wire(st, c, net, cfg, nsPath, route, cfg?.MacAddress);
  await st.store.saveEndpoints(c);
  const view = st.dnsView(c);
  if (view.nets.length) st.dns.addContainer(c.id, nsPath, view);
  st.dns.setView(c.id, view);
  await writeEtc(st, r, c);
}

/** `network disconnect` of a running container. */
export async function disconnectLive(
  st: NetState,
  r: NetContainer | Pick<ContainerRecord, "Id">,
  net: NetworkRecord,
): Promise<void> {
  const c = st.live.get(r.Id);
  const ep = c?.endpoints[net.Id];
  if (!c || !ep) return;
  await unwire(st, c, ep, true);
  if (c.portIp === ep.ip) {
    st.ports.releaseOwner(c.id);
    c.ports = [];
    c.portIp = undefined;
    await st.applyFirewall({ filter: false });
  }
  await st.store.saveEndpoints(c);
  const view = st.dnsView(c);
  if (view.nets.length) st.dns.setView(c.id, view);
  else st.dns.removeContainer(c.id);
  // a force disconnect of a container that is gone has only its ID: no files to write
  if ("HostConfig" in r) await writeEtc(st, r, c);
}
