/**
 * The networks area of the daemon: publishes `services.network` (the
 * container service's attach/detach hook and the /networks API) and brings
 * networking up. It starts before the containers area, so containers
 * restarted during recovery find their networks.
 * @module
 */
import type { Services } from "../services.ts";
import { messageOf } from "../../../core/errdefs/mod.ts";
import { instanceTag, NetState } from "./state.ts";
import { NetworkService } from "./service.ts";
import { startNetworking, stopNetworking } from "./recover.ts";

export async function startNetworks(s: Services): Promise<void> {
  const st = new NetState(s, await instanceTag(s.config.root));
  const svc = new NetworkService(st, s.events);
  s.network = svc;
  try {
    await startNetworking(st);
  } catch (e) {
    throw new Error(`Error initializing network controller: ${messageOf(e)}`);
  }
}

export async function stopNetworks(s: Services): Promise<void> {
  const svc = s.network as NetworkService | undefined;
  if (svc) await stopNetworking(svc.st);
}
