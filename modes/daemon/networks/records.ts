/**
 * What the network area keeps on disk under `<root>/networks/`:
 *   <id>.json              a network (Docker's inspect shape, minus Containers)
 *   ipam/<id>.json         its lease table (core/net/ipam.ts)
 *   endpoints/<cid>.json   a running container's wiring: netns, veths,
 *                          addresses, published ports — what a restarted
 *                          daemon needs to re-attach or to clean up.
 * All writes are atomic (temp + fsync + rename).
 * @module
 */
import { readJson, writeJsonAtomic } from "../../../core/store/atomic.ts";
import type { Published } from "../../../core/net/ports.ts";
import { errorText, removeIfExists } from "../../../core/errdefs/ignore.ts";
import { log } from "../log.ts";

export interface IpamConfigEntry {
  Subnet: string;
  Gateway?: string;
  IPRange?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: "local";
  Driver: "bridge" | "host" | "null";
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigEntry[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** berth: the Linux bridge device (bridge driver) */
  Bridge?: string;
  /** berth: a predefined network (bridge, host, none) */
  Predefined?: boolean;
  /** berth: the subnet was given by the user (so --ip is allowed) */
  UserSubnet?: boolean;
}

/** One container's endpoint on one network, as wired. */
export interface EndpointState {
  netId: string;
  netName: string;
  endpointId: string;
  /** host side of the veth */
  hostVeth: string;
  /** inside: eth0, eth1, … */
  ifName: string;
  ip: string;
  prefix: number;
  /** "" for internal networks (no default route) */
  gateway: string;
  mac: string;
  aliases: string[];
  dnsNames: string[];
  /** EndpointSettings.Links ("name:alias"): DNS aliases for this container only */
  links?: string[];
  /** dual-stack networks: the IPv6 address, its prefix, the IPv6 gateway ("" internal) */
  ip6?: string;
  prefix6?: number;
  gateway6?: string;
}

/** A running container's network state (endpoints/<cid>.json). */
export interface ContainerNet {
  id: string;
  /** container name without the slash */
  name: string;
  pid: number;
  /** inode of /proc/<pid>/ns/net when attached (detects pid reuse) */
  nsIno: number;
  endpoints: Record<string, EndpointState>;
  ports: Published[];
  /** the address published ports are DNATed to */
  portIp?: string;
  /** the container's --dns servers (forwarded to by the embedded DNS) */
  dns: string[];
  /** Config.Hostname: a DNS name on user-defined networks, as in Docker */
  hostname?: string;
}

export class NetworkStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = `${root}/networks`;
  }

  get ipamDir(): string {
    return `${this.dir}/ipam`;
  }

  get endpointDir(): string {
    return `${this.dir}/endpoints`;
  }

  async init(): Promise<void> {
    await Deno.mkdir(this.endpointDir, { recursive: true, mode: 0o700 });
  }

  async loadNetworks(): Promise<NetworkRecord[]> {
    return await this.#loadAll<NetworkRecord>(this.dir);
  }

  saveNetwork(n: NetworkRecord): Promise<void> {
    return writeJsonAtomic(`${this.dir}/${n.Id}.json`, n);
  }

  async removeNetwork(id: string): Promise<void> {
    await removeIfExists(`${this.dir}/${id}.json`);
  }

  async loadEndpoints(): Promise<ContainerNet[]> {
    return await this.#loadAll<ContainerNet>(this.endpointDir);
  }

  saveEndpoints(c: ContainerNet): Promise<void> {
    return writeJsonAtomic(`${this.endpointDir}/${c.id}.json`, c);
  }

  async removeEndpoints(id: string): Promise<void> {
    await removeIfExists(`${this.endpointDir}/${id}.json`);
  }

  async #loadAll<T>(dir: string): Promise<T[]> {
    const out: T[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(".tmp-")) {
        await removeIfExists(`${dir}/${e.name}`);
        continue;
      }
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      let v: T | null;
      try {
        v = await readJson<T | null>(`${dir}/${e.name}`, null);
      } catch (err) {
        // kept on disk as it is, for a person to look at
        log.warn(`${dir}/${e.name} not loaded, it is unreadable: ${errorText(err)}`);
        continue;
      }
      if (v) out.push(v);
    }
    return out;
  }
}

/** 64 random hex characters (network and endpoint IDs). */
export function newId(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** inode of a netns file, or 0. */
export function nsInode(path: string): number {
  try {
    return Deno.statSync(path).ino ?? 0;
  } catch {
    return 0;
  }
}
