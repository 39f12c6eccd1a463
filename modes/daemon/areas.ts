/**
 * Start and stop hooks of the daemon's areas (builds, networks, containers),
 * in order, over the built daemon (./daemon.ts): an area's start recovers its
 * state (reconnect shims, clean stale leases), its stop lets go.
 * @module
 */
import type { Daemon } from "./daemon.ts";
import { startContainers, stopContainers } from "./containers/area.ts";
import { startNetworks, stopNetworks } from "./networks/area.ts";
import { startBuilds } from "./build/area.ts";

interface Area {
  name: string;
  start(d: Daemon): Promise<void>;
  stop?(d: Daemon): Promise<void>;
}

const AREAS: Area[] = [
  // before networks: a killed daemon's build steps must be gone when the
  // network area decides which endpoints still have an owner
  { name: "builds", start: (d) => startBuilds(d) },
  {
    name: "networks",
    start: (d) => startNetworks(d.network),
    stop: (d) => stopNetworks(d.network),
  },
  { name: "containers", start: startContainers, stop: (d) => stopContainers(d.containers) },
];

export async function startAreas(d: Daemon): Promise<void> {
  for (const a of AREAS) await a.start(d);
}

export async function stopAreas(d: Daemon): Promise<void> {
  for (const a of [...AREAS].reverse()) await a.stop?.(d);
}
