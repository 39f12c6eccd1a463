/**
 * The network area's shared state: network records, running containers'
 * wiring, the IPAM, firewall, embedded DNS, name table and host port
 * reservations, plus the small helpers every operation needs (resolve a
 * network, the desired firewall state, the per-daemon naming).
 * @module
 */
import { NotFound } from "../../../core/errdefs/mod.ts";
import { IpamStore } from "../../../core/net/ipam.ts";
import { Firewall } from "../../../core/net/firewall_linux.ts";
import type { FwState } from "../../../core/net/firewall.ts";
import { NameTable } from "../../../core/net/dns/resolver.ts";
import { type DnsView, EmbeddedDns } from "../../../core/net/dns/server_linux.ts";
import { HostPorts } from "../../../core/net/host_ports.ts";
import { parseResolvConf } from "../../../core/net/etc_files.ts";
import { tryLock, unlock } from "../../../core/sys/lock.ts";
import type { ContainerRecord } from "../../../core/store/containers.ts";
import type { DaemonConfig } from "../config.ts";
import { log } from "../log.ts";
import { type ContainerNet, type NetworkRecord, NetworkStore } from "./records.ts";

/** The container store as the network area uses it. */
export interface ContainerAccess {
  get(id: string): ContainerRecord | undefined;
  resolve(ref: string): ContainerRecord;
  list(): ContainerRecord[];
  save(r: ContainerRecord): Promise<void>;
}

export const DEFAULT_ROOT = "/var/lib/berth";

/** "" for the default root, else 4 hex chars of the root's hash. */
export async function instanceTag(root: string): Promise<string> {
  if (root.replace(/\/+$/, "") === DEFAULT_ROOT) return "";
  const h = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(root));
  return [...new Uint8Array(h)].slice(0, 2).map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What {@link NetState} is built from (../daemon.ts). */
export interface NetDeps {
  config: DaemonConfig;
  /** The containers' records (endpoints of `container:X` modes, links); none in tests. */
  containers?: ContainerAccess;
}

export class NetState {
  readonly config: DaemonConfig;
  readonly #containers: ContainerAccess | undefined;
  readonly tag: string;
  readonly store: NetworkStore;
  readonly ipam: IpamStore;
  readonly fw: Firewall;
  readonly names = new NameTable();
  readonly dns: EmbeddedDns;
  readonly ports = new HostPorts();
  readonly nets = new Map<string, NetworkRecord>();
  readonly live = new Map<string, ContainerNet>();
  #resolv = { at: 0, servers: [] as string[] };

  constructor(d: NetDeps, tag: string) {
    this.config = d.config;
    this.#containers = d.containers;
    this.tag = tag;
    this.store = new NetworkStore(d.config.root);
    this.ipam = new IpamStore(this.store.ipamDir);
    this.fw = new Firewall(`BERTH${tag}`, { enabled: d.config.iptables !== false });
    this.dns = new EmbeddedDns({
      table: this.names,
      upstreams: () => this.hostResolvers().map((ip) => ({ ip, port: 53 })),
      log: (m) => log.warn(m),
      debug: (m) => log.debug(m),
    });
  }

  /** Name of the default bridge device. */
  get defaultBridge(): string {
    return this.tag ? `berth${this.tag}` : "berth0";
  }

  /**
   * dockerd's --bridge=none: a container asking for the default bridge gets
   * no network but loopback (dockerd sets NetworkDisabled).
   */
  noDefaultBridge(mode: string): boolean {
    return this.config.bridge === "none" && ["", "bridge", "default"].includes(mode);
  }

  /** ifalias prefix marking links this daemon created. */
  get aliasPrefix(): string {
    return `berth:${this.tag || "0"}:`;
  }

  containers(): ContainerAccess | undefined {
    return this.#containers;
  }

  /** The host resolv.conf path (BERTH_RESOLV_CONF overrides it, for tests). */
  resolvConfPath(): string {
    return Deno.env.get("BERTH_RESOLV_CONF") || "/etc/resolv.conf";
  }

  hostResolvConf(): string {
    try {
      return Deno.readTextFileSync(this.resolvConfPath());
    } catch {
      return "";
    }
  }

  /** Nameservers of the host (cached for 5 s). */
  hostResolvers(): string[] {
    if (Date.now() - this.#resolv.at > 5000) {
      this.#resolv = {
        at: Date.now(),
        servers: parseResolvConf(this.hostResolvConf()).nameservers.filter((s) => !s.includes(":")),
      };
    }
    return this.#resolv.servers;
  }

  /** Docker's lookup order: full ID, exact name, unique ID prefix. */
  tryResolveNet(ref: string): NetworkRecord | undefined {
    if (!ref) return undefined;
    const byId = this.nets.get(ref);
    if (byId) return byId;
    for (const n of this.nets.values()) if (n.Name === ref) return n;
    let hit: NetworkRecord | undefined;
    for (const n of this.nets.values()) {
      if (n.Id.startsWith(ref)) {
        if (hit) return undefined;
        hit = n;
      }
    }
    return hit;
  }

  resolveNet(ref: string): NetworkRecord {
    const n = this.tryResolveNet(ref === "default" ? "bridge" : ref);
    if (!n) throw new NotFound(`network ${ref} not found`);
    return n;
  }

  byName(name: string): NetworkRecord | undefined {
    for (const n of this.nets.values()) if (n.Name === name) return n;
    return undefined;
  }

  /** Containers currently attached to a network. */
  attachedTo(netId: string): ContainerNet[] {
    return [...this.live.values()].filter((c) => c.endpoints[netId]);
  }

  /** The firewall's desired state from the records. */
  fwState(): FwState {
    const networks = [...this.nets.values()].filter((n) => n.Driver === "bridge" && n.Bridge)
      .map((n) => ({
        bridge: n.Bridge!,
        subnet: n.IPAM.Config[0].Subnet,
        internal: n.Internal,
        icc: n.Options["com.docker.network.bridge.enable_icc"] !== "false",
        masquerade: n.Options["com.docker.network.bridge.enable_ip_masquerade"] !== "false",
      }));
    const ports = [];
    for (const c of this.live.values()) {
      if (!c.portIp) continue;
      for (const p of c.ports) ports.push({ ...p, ctrIp: c.portIp });
    }
    return { networks, ports };
  }

  applyFirewall(which?: { nat?: boolean; filter?: boolean }): Promise<void> {
    return this.fw.apply(this.fwState(), which);
  }

  /** The DNS view of a container: its user-defined networks. */
  dnsView(c: ContainerNet): DnsView {
    const nets = Object.keys(c.endpoints).filter((id) => {
      const n = this.nets.get(id);
      return n && !n.Predefined;
    });
    const forward = nets.some((id) => !this.nets.get(id)!.Internal);
    // EndpointSettings.Links ("name:alias"): names only this container resolves.
    const aliases: Record<string, string> = {};
    for (const id of nets) {
      for (const l of c.endpoints[id].links ?? []) {
        const [name, alias = name] = l.replace(/^\/+/, "").split(":");
        if (name) aliases[alias.replace(/^\/+/, "").toLowerCase()] = name;
      }
    }
    return {
      nets,
      forward,
      upstreams: c.dns.length ? c.dns.map((ip) => ({ ip, port: 53 })) : undefined,
      ...(Object.keys(aliases).length ? { aliases } : {}),
    };
  }
}

/**
 * Hold the host-wide network lock while choosing subnets and creating
 * bridges, so two daemons on one host never pick the same subnet.
 */
export async function withHostLock<T>(fn: () => Promise<T>): Promise<T> {
  let dir = "/run/lock";
  try {
    Deno.statSync(dir);
  } catch {
    dir = "/tmp";
  }
  const path = `${dir}/berth-net.lock`;
  let fd = -1;
  for (let i = 0; i < 1000 && fd < 0; i++) {
    fd = tryLock(path);
    if (fd < 0) await new Promise((r) => setTimeout(r, 10));
  }
  try {
    return await fn();
  } finally {
    unlock(fd);
  }
}
