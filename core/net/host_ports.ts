/**
 * Host port reservations for published ports. Traffic itself goes through
 * DNAT (firewall.ts), but the daemon binds and holds every published
 * host port, so another process (or another container) cannot take it and a
 * port already in use is a clear error at `run` time — the job docker-proxy's
 * listening socket does for Docker.
 *
 * @example
 * ```ts ignore
 * const ports = new HostPorts();
 * const r = await ports.reserve("c1", { proto: "tcp", hostIp: "0.0.0.0", hostRange: [0, 0] });
 * console.log(r.hostPort);   // e.g. 49154
 * ports.releaseOwner("c1");
 * ```
 * @module
 */
import dgram from "node:dgram";
import { Conflict, InvalidArgument } from "../errdefs/mod.ts";
import type { Proto } from "./ports.ts";

export interface Reservation {
  owner: string;
  proto: Proto;
  hostIp: string;
  hostPort: number;
  close(): void;
}

function keyOf(proto: string, ip: string, port: number): string {
  return `${proto}/${ip}:${port}`;
}

/** The kernel's ephemeral range (Docker allocates random host ports from it). */
export function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim()
      .split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [Math.max(lo, 1024), hi];
  } catch { /* default */ }
  return [49153, 60999];
}

export class PortInUse extends Conflict {}

function bindTcp(ip: string, port: number): () => void {
  const l = Deno.listen({ hostname: ip, port, transport: "tcp" });
  return () => {
    try {
      l.close();
    } catch { /* closed */ }
  };
}

function bindUdp(ip: string, port: number): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: "udp4", reuseAddr: false });
    s.once("error", reject);
    s.bind({ port, address: ip, exclusive: true }, () => {
      s.off("error", reject);
      s.on("error", () => {});
      s.unref();
      resolve(() => {
        try {
          s.close();
        } catch { /* closed */ }
      });
    });
  });
}

export class HostPorts {
  #held = new Map<string, Reservation>();

  /** Bind (and keep) a host port; `hostRange` [0,0] picks a free ephemeral one. */
  async reserve(
    owner: string,
    req: { proto: Proto; hostIp: string; hostRange: [number, number] },
  ): Promise<Reservation> {
    if (req.proto === "sctp") throw new InvalidArgument("sctp ports are not supported");
    if (req.hostIp.includes(":")) {
      throw new InvalidArgument(`IPv6 host addresses are not supported: ${req.hostIp}`);
    }
    const ip = req.hostIp || "0.0.0.0";
    let [lo, hi] = req.hostRange;
    const random = lo === 0;
    if (random) [lo, hi] = ephemeralRange();
    const n = hi - lo + 1;
    const start = random ? Math.floor(Math.random() * n) : 0;
    let lastErr: unknown;
    for (let i = 0; i < n; i++) {
      const port = lo + ((start + i) % n);
      const k = keyOf(req.proto, ip, port);
      if (
        this.#held.has(k) || (ip !== "0.0.0.0" && this.#held.has(keyOf(req.proto, "0.0.0.0", port)))
      ) {
        lastErr = new PortInUse(`Bind for ${ip}:${port} failed: port is already allocated`);
        if (!random && n === 1) throw lastErr;
        continue;
      }
      try {
        const close = req.proto === "tcp" ? bindTcp(ip, port) : await bindUdp(ip, port);
        const r: Reservation = { owner, proto: req.proto, hostIp: ip, hostPort: port, close };
        this.#held.set(k, r);
        return r;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (e instanceof Deno.errors.AddrInUse || code === "EADDRINUSE") {
          lastErr = new PortInUse(
            `failed to bind host port ${ip}:${port}/${req.proto}: address already in use`,
          );
          continue;
        }
        if (e instanceof Deno.errors.AddrNotAvailable || code === "EADDRNOTAVAIL") {
          throw new InvalidArgument(
            `failed to bind host port ${ip}:${port}/${req.proto}: cannot assign requested address`,
          );
        }
        throw e;
      }
    }
    throw lastErr ?? new PortInUse(`no free host port in ${lo}-${hi}`);
  }

  /** Release every port of `owner`; returns how many. */
  releaseOwner(owner: string): number {
    let n = 0;
    for (const [k, r] of this.#held) {
      if (r.owner !== owner) continue;
      r.close();
      this.#held.delete(k);
      n++;
    }
    return n;
  }

  get size(): number {
    return this.#held.size;
  }

  closeAll(): void {
    for (const r of this.#held.values()) r.close();
    this.#held.clear();
  }
}
