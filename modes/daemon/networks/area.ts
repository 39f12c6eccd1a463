/**
 * The networks area of the daemon: brings networking up (bridges, firewall,
 * re-adopted endpoints) and down. It starts before the containers area, so
 * containers restarted during recovery find their networks. The service
 * itself is built with the daemon (../daemon.ts).
 * @module
 */
import { messageOf } from "../../../core/errdefs/mod.ts";
import type { NetworkService } from "./service.ts";
import { startNetworking, stopNetworking } from "./recover.ts";

export async function startNetworks(svc: NetworkService): Promise<void> {
  try {
    await startNetworking(svc.st);
  } catch (e) {
    throw new Error(`Error initializing network controller: ${messageOf(e)}`);
  }
}

export async function stopNetworks(svc: NetworkService): Promise<void> {
  await stopNetworking(svc.st);
}
