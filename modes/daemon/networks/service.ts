/**
 * The daemon's network service (`daemon.network`, ../daemon.ts): Docker's network
 * commands (create, ls, inspect, rm, prune, connect, disconnect) and the
 * container service's hooks (prepare at create, attach before start, detach
 * after stop, netnsPath for `--network container:X`).
 *
 * @example
 * ```ts ignore
 * const net = new NetworkService(new NetState({ config }, tag), events);
 * const { Id } = await net.create({ Name: "front", Labels: { app: "web" } });
 * await net.connect("front", "web1", { Aliases: ["www"] });
 * ```
 * @module
 */
import { Conflict, Forbidden, InvalidArgument, NotFound } from "../../../core/errdefs/mod.ts";
import {
  contains,
  formatCidr,
  formatIp,
  hostAt,
  overlaps,
  parseCidr,
  parseIp,
} from "../../../core/net/ipv4.ts";
import { allocateSubnet, DEFAULT_POOLS, parsePool } from "../../../core/net/ipam.ts";
import { deleteLink, ensureBridge } from "../../../core/net/link_linux.ts";
import { isV6Entry, v6Entry } from "./ipv6.ts";
import type { ContainerRecord } from "../../../core/store/containers.ts";
import type {
  ContainerCreate,
  EndpointConfig,
  EndpointSettings,
  Network,
  NetworkCreate,
} from "../../../core/api/types.ts";
import {
  attach,
  checkEndpointConfig,
  connectLive,
  detach,
  disconnectLive,
  endpointSettings,
  fillSettings,
  type NetContainer,
} from "./endpoints.ts";
import type { NetworkRecord } from "./records.ts";
import { baseRecord, takenSubnets } from "./recover.ts";
import type { NetState } from "./state.ts";
import { withHostLock } from "./state.ts";
import type { Events } from "../events/log.ts";
import { matchFilters, networkView } from "./views.ts";
import { pruneFilter } from "../prune_filters.ts";
import { logFailure } from "../log.ts";

export class NetworkService {
  readonly st: NetState;
  #events?: Events;

  constructor(st: NetState, events?: Events) {
    this.st = st;
    this.#events = events;
  }

  /** moby's LogNetworkEventWithAttributes: name and type, + the container for (dis)connect. */
  #event(action: string, n: NetworkRecord, container?: string): void {
    this.#events?.network(
      action,
      { id: n.Id, name: n.Name, type: n.Driver },
      container ? { container } : {},
    );
  }

  /** connect/disconnect events for each network of a container that starts or stops. */
  #containerEvents(action: string, r: ContainerRecord): void {
    for (const [name, ep] of Object.entries(r.NetworkSettings?.Networks ?? {})) {
      const n = this.st.tryResolveNet(ep?.NetworkID || name);
      if (n) this.#event(action, n, r.Id);
    }
  }

  // ---- container hooks ----

  /** At container create: validate the requested networks, record them (Docker's shape). */
  prepare(r: ContainerRecord, body: ContainerCreate): void {
    const mode: string = r.HostConfig.NetworkMode || "bridge";
    const eps: Record<string, EndpointConfig> = body?.NetworkingConfig?.EndpointsConfig ?? {};
    const nets: Record<string, EndpointSettings> = {};
    if (this.st.noDefaultBridge(mode)) {
      r.NetworkSettings = { ...(r.NetworkSettings ?? {}), Networks: {} };
      return;
    }
    if (mode.startsWith("container:")) {
      const other = this.st.containers()?.resolve(mode.slice("container:".length));
      if (other && other.Id === r.Id) {
        throw new InvalidArgument("cannot join own network namespace");
      }
      r.NetworkSettings = { ...(r.NetworkSettings ?? {}), Networks: {} };
      return;
    }
    const primary = this.st.resolveNet(mode);
    const pkey = Object.keys(eps).find((k) =>
      this.st.tryResolveNet(k === "default" ? "bridge" : k)?.Id === primary.Id
    );
    const pcfg = pkey ? eps[pkey] : {};
    checkEndpointConfig(primary, pcfg);
    nets[primary.Name] = endpointSettings(primary, pcfg);
    for (const [key, cfg] of Object.entries(eps)) {
      const n = this.st.resolveNet(key);
      if (n.Id === primary.Id) continue;
      if (primary.Driver !== "bridge" || n.Driver !== "bridge") {
        throw new InvalidArgument(
          "conflicting options: container cannot be connected to multiple networks with one of the networks in host or none mode",
        );
      }
      checkEndpointConfig(n, cfg);
      nets[n.Name] = endpointSettings(n, cfg);
    }
    r.NetworkSettings = { ...(r.NetworkSettings ?? {}), Networks: nets };
  }

  async attach(r: ContainerRecord, pid: number): Promise<void> {
    await attach(this.st, r, pid);
    this.#containerEvents("connect", r);
  }

  async detach(r: ContainerRecord): Promise<void> {
    const was = this.st.live.has(r.Id);
    await detach(this.st, r);
    if (was) this.#containerEvents("disconnect", r);
  }

  /**
   * For build RUN steps (no container record): wire the netns of `pid` into
   * `network` (default: the default bridge) and write hosts/resolv.conf to
   * the given files (in place). Undo with detachStep(id).
   */
  async attachStep(
    id: string,
    pid: number,
    o: StepOptions = {},
  ): Promise<void> {
    const r = stepRecord(id, o);
    this.#steps.set(id, r);
    try {
      await attach(this.st, r, pid);
    } catch (e) {
      this.#steps.delete(id);
      throw e;
    }
  }

  async detachStep(id: string): Promise<void> {
    const r = this.#steps.get(id);
    this.#steps.delete(id);
    if (r) await detach(this.st, r);
  }

  #steps = new Map<string, NetContainer>();

  /** The netns a container must join instead of a new one (`--network container:X`). */
  netnsPath(r: ContainerRecord): string | undefined {
    const mode: string = r.HostConfig.NetworkMode ?? "";
    if (!mode.startsWith("container:")) return undefined;
    const other = this.st.containers()?.resolve(mode.slice("container:".length));
    if (!other?.State.Running || !other.State.Pid) {
      throw new Conflict(`cannot join network of a non running container: ${mode.slice(10)}`);
    }
    return `/proc/${other.State.Pid}/ns/net`;
  }

  // ---- networks ----

  list(filters: Record<string, string[]> = {}): Network[] {
    const out: Network[] = [];
    for (const n of this.st.nets.values()) {
      if (!matchFilters(n, filters, this.#inUse(n))) continue;
      out.push(networkView(n));
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  inspect(ref: string): Network {
    const n = this.st.resolveNet(ref);
    const attached = this.st.attachedTo(n.Id).map((c) => ({
      id: c.id,
      name: c.name,
      ep: c.endpoints[n.Id],
    }));
    return networkView(n, attached);
  }

  /** Referenced by a container (any state) or attached. */
  #inUse(n: NetworkRecord): boolean {
    if (this.st.attachedTo(n.Id).length) return true;
    for (const r of this.st.containers()?.list() ?? []) {
      const mode = r.HostConfig.NetworkMode;
      if (mode === n.Name || mode === n.Id) return true;
      for (const [k, v] of Object.entries(r.NetworkSettings?.Networks ?? {})) {
        if (k === n.Name || v?.NetworkID === n.Id) return true;
      }
    }
    return false;
  }

  async create(body: NetworkCreate): Promise<{ Id: string; Warning: string }> {
    const name: string = body?.Name ?? "";
    if (!name) throw new InvalidArgument("network name is required");
    // Any name that is not blank, as libnetwork's config.IsValidName (moby v20.10.24).
    if (!name.trim()) throw new InvalidArgument(`invalid name: ${name}`);
    if (this.st.byName(name)) throw new Conflict(`network with name ${name} already exists`);
    const driver = body.Driver || "bridge";
    if (driver === "host" || driver === "null") {
      throw new Forbidden(`only one instance of "${driver}" network is allowed`);
    }
    if (driver !== "bridge") throw new NotFound(`plugin "${driver}" not found`);
    if (body.Ingress) throw new Forbidden("ingress networks are not supported");
    const ipamDriver = body.IPAM?.Driver || "default";
    if (ipamDriver !== "default") throw new NotFound(`plugin "${ipamDriver}" not found`);
    const all = (body.IPAM?.Config ?? []).filter((c) => c && Object.keys(c).length);
    const cfgs = all.filter((c) => !isV6Entry(c));
    const v6Req = all.filter(isV6Entry);
    if (cfgs.length > 1) throw new InvalidArgument("only one IPv4 subnet per network is supported");
    if (v6Req.length > 1) {
      throw new InvalidArgument("only one IPv6 subnet per network is supported");
    }
    const n = baseRecord(name, "bridge");
    n.Internal = !!body.Internal;
    n.Attachable = !!body.Attachable;
    n.Options = { ...(body.Options ?? {}) };
    n.Labels = { ...(body.Labels ?? {}) };
    // null unless given, as Docker shows it (libnetwork keeps a nil map)
    n.IPAM.Options = body.IPAM?.Options ?? null;
    n.Bridge = n.Options["com.docker.network.bridge.name"] || `br-${n.Id.slice(0, 12)}`;
    if (n.Bridge.length > 15) throw new InvalidArgument(`bridge name too long: ${n.Bridge}`);
    for (const o of this.st.nets.values()) {
      if (o.Bridge === n.Bridge) throw new Conflict(`bridge name ${n.Bridge} is already in use`);
    }
    const cfg = cfgs[0] ?? {};
    await withHostLock(async () => {
      let subnet;
      if (cfg.Subnet) {
        subnet = parseCidr(cfg.Subnet);
        if (subnet.prefix > 30) throw new InvalidArgument(`subnet ${cfg.Subnet} is too small`);
        for (const t of await takenSubnets(this.st)) {
          if (overlaps(t, subnet)) {
            throw new Forbidden(
              "invalid pool request: Pool overlaps with other one on this address space",
            );
          }
        }
        n.UserSubnet = true;
      } else {
        const pools = this.st.config.defaultAddressPools?.map(parsePool) ?? DEFAULT_POOLS;
        subnet = allocateSubnet(pools, await takenSubnets(this.st));
      }
      const gateway = cfg.Gateway ? parseIp(cfg.Gateway) : hostAt(subnet, 1);
      if (!contains(subnet, gateway)) {
        throw new InvalidArgument(`gateway ${cfg.Gateway} is not in subnet ${formatCidr(subnet)}`);
      }
      const range = cfg.IPRange ? parseCidr(cfg.IPRange) : undefined;
      await this.st.ipam.create(n.Id, { subnet, gateway, range });
      const v6 = body.EnableIPv6 ? v6Entry(v6Req[0], subnet, this.st.nets.values()) : undefined;
      n.EnableIPv6 = !!v6;
      n.IPAM.Config = [{
        Subnet: formatCidr(subnet),
        ...(cfg.IPRange ? { IPRange: formatCidr(range!) } : {}),
        Gateway: formatIp(gateway),
      }, ...(v6 ? [v6] : [])];
      try {
        await ensureBridge({
          name: n.Bridge!,
          address: `${formatIp(gateway)}/${subnet.prefix}`,
          address6: v6 ? `${v6.Gateway}/${v6.Subnet.split("/")[1]}` : undefined,
          alias: `${this.st.aliasPrefix}n:${n.Id}`,
          mtu: Number(n.Options["com.docker.network.driver.mtu"]) || undefined,
        });
        this.st.nets.set(n.Id, n);
        await this.st.store.saveNetwork(n);
      } catch (e) {
        this.st.nets.delete(n.Id);
        await this.st.ipam.remove(n.Id);
        await deleteLink(n.Bridge!).catch(logFailure(`removing bridge ${n.Bridge}`));
        throw e;
      }
    });
    await this.st.applyFirewall();
    this.#event("create", n);
    return { Id: n.Id, Warning: "" };
  }

  async remove(ref: string): Promise<void> {
    const n = this.st.resolveNet(ref);
    if (n.Predefined) {
      throw new Forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
    }
    const active = this.st.attachedTo(n.Id);
    if (active.length) {
      throw new Forbidden(
        `error while removing network: network ${n.Name} id ${n.Id} has active endpoints`,
      );
    }
    this.st.nets.delete(n.Id);
    this.st.names.dropNetwork(n.Id);
    await this.st.applyFirewall();
    if (n.Bridge) await deleteLink(n.Bridge);
    await this.st.ipam.remove(n.Id);
    await this.st.store.removeNetwork(n.Id);
    this.#event("destroy", n);
  }

  async prune(filters: Record<string, string[]> = {}): Promise<{ NetworksDeleted: string[] }> {
    const pf = pruneFilter(filters, ["label", "label!", "until"]);
    const deleted: string[] = [];
    for (const n of [...this.st.nets.values()]) {
      if (n.Predefined || this.#inUse(n)) continue;
      if (!pf.labels(n.Labels) || !pf.before(Date.parse(n.Created))) continue;
      await this.remove(n.Id);
      deleted.push(n.Name);
    }
    return { NetworksDeleted: deleted };
  }

  async connect(ref: string, containerRef: string, cfg: EndpointConfig = {}): Promise<void> {
    const n = this.st.resolveNet(ref);
    const store = this.#store();
    const r = store.resolve(containerRef);
    const mode: string = r.HostConfig.NetworkMode || "bridge";
    if (mode === "host" || mode === "none" || mode.startsWith("container:")) {
      throw new Forbidden(
        "container sharing network namespace with another container or host cannot be connected to any other network",
      );
    }
    if (n.Driver !== "bridge") {
      throw new Forbidden(
        "container cannot be disconnected from host network or connected to host network",
      );
    }
    const nets: Record<string, EndpointSettings> = r.NetworkSettings?.Networks ?? {};
    if (nets[n.Name] || this.st.live.get(r.Id)?.endpoints[n.Id]) {
      throw new Forbidden(
        `endpoint with name ${r.Name.slice(1)} already exists in network ${n.Name}`,
      );
    }
    checkEndpointConfig(n, cfg);
    nets[n.Name] = endpointSettings(n, cfg);
    r.NetworkSettings = { ...(r.NetworkSettings ?? {}), Networks: nets };
    try {
      await connectLive(this.st, r, n, cfg);
    } catch (e) {
      delete nets[n.Name];
      throw e;
    }
    fillSettings(this.st, r, this.st.live.get(r.Id));
    // A container that is not running keeps the MAC it asked for until it
    // starts (its endpoint is wired from this record then), as moby's
    // EndpointSettings does; a stop clears it again (cleanOperationalData).
    if (!this.st.live.get(r.Id) && cfg?.MacAddress) nets[n.Name].MacAddress = cfg.MacAddress;
    await store.save(r);
    this.#event("connect", n, r.Id);
  }

  async disconnect(ref: string, containerRef: string, force = false): Promise<void> {
    const n = this.st.resolveNet(ref);
    const store = this.#store();
    let r: ContainerRecord;
    try {
      r = store.resolve(containerRef);
    } catch (e) {
      if (!force) throw e;
      // force: drop a stale endpoint of a container that no longer exists
      for (const c of this.st.attachedTo(n.Id)) {
        if (c.id.startsWith(containerRef) || c.name === containerRef) {
          await disconnectLive(this.st, { Id: c.id }, n)
            .catch(logFailure(`dropping the endpoint of ${c.id} on ${n.Name}`));
        }
      }
      return;
    }
    const nets: Record<string, EndpointSettings> = r.NetworkSettings?.Networks ?? {};
    const key = Object.keys(nets).find((k) => k === n.Name || nets[k]?.NetworkID === n.Id);
    if (!key && !this.st.live.get(r.Id)?.endpoints[n.Id]) {
      throw new Forbidden(`container ${r.Id} is not connected to network ${n.Name}`);
    }
    if (n.Driver !== "bridge") {
      throw new Forbidden(
        "container cannot be disconnected from host network or connected to host network",
      );
    }
    await disconnectLive(this.st, r, n);
    if (key) delete nets[key];
    fillSettings(this.st, r, this.st.live.get(r.Id));
    await store.save(r);
    this.#event("disconnect", n, r.Id);
  }

  #store() {
    const s = this.st.containers();
    if (!s) throw new InvalidArgument("containers are not available");
    return s;
  }
}

/** The minimal record attach() needs, for a build step. */
/** What a build step asks of attachStep. */
export interface StepOptions {
  network?: string;
  hostname?: string;
  hostsPath?: string;
  resolvConfPath?: string;
  /** `--add-host` entries of the build ("name:ip"). */
  extraHosts?: string[];
}

function stepRecord(id: string, o: StepOptions): NetContainer {
  return {
    Id: id,
    Name: `/build-${id.slice(0, 12)}`,
    HostConfig: {
      NetworkMode: o.network || "bridge",
      Dns: [],
      DnsSearch: [],
      DnsOptions: [],
      ExtraHosts: o.extraHosts ?? [],
    },
    Config: { Hostname: o.hostname ?? id.slice(0, 12), Domainname: "" },
    NetworkSettings: {},
    HostsPath: o.hostsPath ?? "",
    ResolvConfPath: o.resolvConfPath ?? "",
  };
}
