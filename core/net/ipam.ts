/**
 * IP address management: a lease table per network (pure), its persistence
 * (one JSON file per network, written atomically on every change), and
 * subnet allocation from address pools that avoids every subnet already in
 * use (other networks, the host's routes).
 *
 * @example
 * ```ts
 * import { LeaseTable } from "./ipam.ts";
 * import { formatIp, parseCidr } from "./ipv4.ts";
 * const t = new LeaseTable({ subnet: parseCidr("10.0.0.0/29"), gateway: 0x0a000001 });
 * console.assert(formatIp(t.allocate("c1")) === "10.0.0.2");
 * ```
 * @module
 */
import { Conflict, InvalidArgument, Unavailable } from "../errdefs/mod.ts";
import { readJson, writeJsonAtomic } from "../store/atomic.ts";
import {
  type Cidr,
  contains,
  formatCidr,
  formatIp,
  lastOf,
  overlaps,
  parseCidr,
  parseCidrAddr,
  parseIp,
  subnets,
} from "./ipv4.ts";
import { errorText, handledElsewhere, removeIfExists } from "../errdefs/ignore.ts";

export interface LeaseTableInit {
  subnet: Cidr;
  gateway?: number;
  /** allocate dynamic addresses only from this range (Docker's --ip-range) */
  range?: Cidr;
}

/** The serialized form of a lease table (`<root>/networks/ipam/<id>.json`). */
export interface LeaseFile {
  subnet: string;
  gateway?: string;
  range?: string;
  /** last dynamically allocated address: allocation continues after it */
  last?: string;
  /** address → owner (container ID) */
  leases: Record<string, string>;
}

/** Addresses of one subnet: gateway, network and broadcast are never leased. */
export class LeaseTable {
  readonly subnet: Cidr;
  readonly gateway?: number;
  readonly range?: Cidr;
  #leases = new Map<number, string>();
  #last = 0;

  constructor(init: LeaseTableInit) {
    this.subnet = init.subnet;
    this.gateway = init.gateway;
    this.range = init.range;
    if (init.gateway !== undefined && !contains(init.subnet, init.gateway)) {
      throw new InvalidArgument(
        `gateway ${formatIp(init.gateway)} is not in subnet ${formatCidr(init.subnet)}`,
      );
    }
    if (
      init.range &&
      !(contains(init.subnet, init.range.net) && init.range.prefix >= init.subnet.prefix)
    ) {
      throw new InvalidArgument(
        `ip-range ${formatCidr(init.range)} is not in subnet ${formatCidr(init.subnet)}`,
      );
    }
  }

  get size(): number {
    return this.#leases.size;
  }

  leases(): [ip: number, owner: string][] {
    return [...this.#leases];
  }

  ownerOf(ip: number): string | undefined {
    return this.#leases.get(ip);
  }

  #usable(ip: number): boolean {
    if (!contains(this.subnet, ip)) return false;
    if (this.subnet.prefix < 31 && (ip === this.subnet.net || ip === lastOf(this.subnet))) {
      return false;
    }
    return ip !== this.gateway;
  }

  /** Lease `want` (static --ip) or the next free address after the last one given. */
  allocate(owner: string, want?: number): number {
    if (want !== undefined) {
      if (!contains(this.subnet, want)) {
        throw new InvalidArgument(
          `no configured subnet contains IP address ${formatIp(want)}`,
        );
      }
      if (!this.#usable(want)) {
        throw new InvalidArgument(`address ${formatIp(want)} is reserved`);
      }
      const cur = this.#leases.get(want);
      if (cur !== undefined && cur !== owner) {
        throw new Conflict(`Address already in use: ${formatIp(want)}`);
      }
      this.#leases.set(want, owner);
      return want;
    }
    const r = this.range ?? this.subnet;
    const first = r.net, last = lastOf(r);
    const n = last - first + 1;
    let start = this.#last >= first && this.#last <= last ? this.#last + 1 : first;
    for (let i = 0; i < n; i++, start++) {
      if (start > last) start = first;
      const ip = start >>> 0;
      if (!this.#usable(ip) || this.#leases.has(ip)) continue;
      this.#leases.set(ip, owner);
      this.#last = ip;
      return ip;
    }
    throw new Unavailable(`no available IPv4 addresses on this network's address pools`);
  }

  release(ip: number): void {
    this.#leases.delete(ip);
  }

  /** Release every lease of `owner`; returns how many. */
  releaseOwner(owner: string): number {
    let n = 0;
    for (const [ip, o] of this.#leases) {
      if (o === owner) {
        this.#leases.delete(ip);
        n++;
      }
    }
    return n;
  }

  toJSON(): LeaseFile {
    const leases: Record<string, string> = {};
    for (const [ip, o] of [...this.#leases].sort((a, b) => a[0] - b[0])) leases[formatIp(ip)] = o;
    return {
      subnet: formatCidr(this.subnet),
      gateway: this.gateway === undefined ? undefined : formatIp(this.gateway),
      range: this.range ? formatCidr(this.range) : undefined,
      last: this.#last ? formatIp(this.#last) : undefined,
      leases,
    };
  }

  static fromJSON(f: LeaseFile): LeaseTable {
    const t = new LeaseTable({
      subnet: parseCidr(f.subnet),
      gateway: f.gateway ? parseIp(f.gateway) : undefined,
      range: f.range ? parseCidr(f.range) : undefined,
    });
    for (const [ip, o] of Object.entries(f.leases ?? {})) t.#leases.set(parseIp(ip), o);
    if (f.last) t.#last = parseIp(f.last);
    return t;
  }
}

/** Persisted lease tables, one file per network under `dir`. */
export class IpamStore {
  readonly dir: string;
  #tables = new Map<string, LeaseTable>();
  #writes = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Load the tables; one that cannot be read stays on disk and is reported through `warn`. */
  async init(warn: (msg: string) => void = console.error): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    for await (const e of Deno.readDir(this.dir)) {
      if (e.name.startsWith(".tmp-")) {
        await removeIfExists(`${this.dir}/${e.name}`);
        continue;
      }
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      let f: LeaseFile | null;
      try {
        f = await readJson<LeaseFile | null>(`${this.dir}/${e.name}`, null);
      } catch (err) {
        warn(`address leases ${e.name} not loaded, the file is unreadable: ${errorText(err)}`);
        continue;
      }
      if (f) this.#tables.set(e.name.slice(0, -5), LeaseTable.fromJSON(f));
    }
  }

  get(netId: string): LeaseTable | undefined {
    return this.#tables.get(netId);
  }

  ids(): string[] {
    return [...this.#tables.keys()];
  }

  async create(netId: string, init: LeaseTableInit): Promise<LeaseTable> {
    const t = new LeaseTable(init);
    this.#tables.set(netId, t);
    await this.save(netId);
    return t;
  }

  /** Persist a network's table (writes are serialized per network). */
  save(netId: string): Promise<void> {
    const prev = this.#writes.get(netId) ?? Promise.resolve();
    const next = prev.catch(handledElsewhere).then(async () => {
      const t = this.#tables.get(netId);
      if (t) await writeJsonAtomic(`${this.dir}/${netId}.json`, t.toJSON());
    });
    this.#writes.set(netId, next);
    return next;
  }

  async remove(netId: string): Promise<void> {
    this.#tables.delete(netId);
    await (this.#writes.get(netId) ?? Promise.resolve()).catch(handledElsewhere);
    this.#writes.delete(netId);
    await removeIfExists(`${this.dir}/${netId}.json`);
  }

  /** Total leases held in all tables. */
  count(): number {
    let n = 0;
    for (const t of this.#tables.values()) n += t.size;
    return n;
  }
}

/** An address pool for user-defined networks (Docker's --default-address-pool). */
export interface AddressPool {
  base: Cidr;
  size: number;
}

/** berth's default pool: 10.214.0.0/16 in /24s (clear of docker0 and Podman's 10.88/16). */
export const DEFAULT_POOLS: AddressPool[] = [{ base: parseCidr("10.214.0.0/16"), size: 24 }];

/** Parse `base=10.10.0.0/16,size=24`. */
export function parsePool(s: string): AddressPool {
  const kv: Record<string, string> = {};
  for (const part of s.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) throw new InvalidArgument(`invalid address pool ${s}: want base=CIDR,size=N`);
    kv[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  if (!kv.base) throw new InvalidArgument(`invalid address pool ${s}: base is missing`);
  const base = parseCidr(kv.base);
  const size = kv.size ? Number(kv.size) : base.prefix;
  if (!Number.isInteger(size) || size < base.prefix || size > 30) {
    throw new InvalidArgument(`invalid address pool ${s}: size must be ${base.prefix}..30`);
  }
  return { base, size };
}

/** The first subnet of the pools that overlaps none of `taken`. */
export function allocateSubnet(pools: AddressPool[], taken: Cidr[]): Cidr {
  for (const p of pools) {
    for (const s of subnets(p.base, p.size)) {
      if (!taken.some((t) => overlaps(t, s))) return s;
    }
  }
  throw new Unavailable(
    "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
  );
}

/** Parse /proc/net/route text into the subnets routed on the host (default route excluded). */
export function parseProcRoutes(text: string): { dev: string; cidr: Cidr }[] {
  const out: { dev: string; cidr: Cidr }[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (h: string) => {
      const v = parseInt(h, 16) >>> 0;
      return (((v & 255) << 24) | (((v >>> 8) & 255) << 16) | (((v >>> 16) & 255) << 8) |
        (v >>> 24)) >>> 0;
    };
    const dest = le(f[1]), mask = le(f[7]);
    if (mask === 0) continue;
    let prefix = 0;
    for (let m = mask; m & 0x80000000; m = (m << 1) >>> 0) prefix++;
    out.push({ dev: f[0], cidr: { net: dest, prefix } });
  }
  return out;
}

/** Subnets routed on the host right now (main table), with their devices. */
export async function hostRoutes(): Promise<{ dev: string; cidr: Cidr }[]> {
  try {
    return parseProcRoutes(await Deno.readTextFile("/proc/net/route"));
  } catch {
    return [];
  }
}

/** Parse a gateway CIDR like Docker's --bip (10.213.0.1/24). */
export function parseBip(s: string): { subnet: Cidr; gateway: number } {
  const { cidr, addr } = parseCidrAddr(s);
  if (addr === cidr.net) throw new InvalidArgument(`invalid --bip ${s}: give the gateway address`);
  return { subnet: cidr, gateway: addr };
}
