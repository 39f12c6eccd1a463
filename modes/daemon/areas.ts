/**
 * Start and stop hooks of the daemon's areas (containers, networks, …), in
 * order. Each area adds one entry; an area's start may add its service to
 * `services` and recover state (reconnect shims, clean stale leases).
 * @module
 */
import type { Services } from "./services.ts";
import { startContainers, stopContainers } from "./containers/area.ts";
import { startNetworks, stopNetworks } from "./networks/area.ts";
import { startBuilds } from "./build/area.ts";

interface Area {
  name: string;
  start(s: Services): Promise<void>;
  stop?(s: Services): Promise<void>;
}

const AREAS: Area[] = [
  // before networks: a killed daemon's build steps must be gone when the
  // network area decides which endpoints still have an owner
  { name: "builds", start: startBuilds },
  { name: "networks", start: startNetworks, stop: stopNetworks },
  { name: "containers", start: startContainers, stop: stopContainers },
];

export async function startAreas(s: Services): Promise<void> {
  for (const a of AREAS) await a.start(s);
}

export async function stopAreas(s: Services): Promise<void> {
  for (const a of [...AREAS].reverse()) await a.stop?.(s);
}
