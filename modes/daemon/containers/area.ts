/**
 * The containers area of the daemon: opens the container and volume stores
 * and reconnects to running containers' shims. The services themselves
 * (containers, volumes, execs) are built with the daemon (../daemon.ts).
 * @module
 */
import { PRIVATE_DIR } from "../../../core/store/perms.ts";
import type { DaemonConfig } from "../config.ts";
import { log } from "../log.ts";
import type { ContainerService } from "./service.ts";
import type { VolumeService } from "./volumes.ts";

export async function startContainers(
  d: { config: DaemonConfig; containers: ContainerService; volumes: VolumeService },
): Promise<void> {
  await Promise.all([d.containers.store.init((m) => log.warn(m)), d.volumes.init()]);
  await Deno.mkdir(`${d.config.execRoot}/shims`, { recursive: true, mode: PRIVATE_DIR });
  await Deno.mkdir(`${d.config.execRoot}/s`, { recursive: true, mode: PRIVATE_DIR });
  await d.containers.recover();
}

export async function stopContainers(svc: ContainerService): Promise<void> {
  svc.close();
  // records a full disk kept from being written (ContainerStore.saveOrDefer): one last try
  if (!await svc.store.flush()) log.warn("some container records could not be written");
}
