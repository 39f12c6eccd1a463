/**
 * The containers area of the daemon: opens the container and volume stores,
 * publishes the services (containers, volumes, execs, imageUsers,
 * containerCounts) and reconnects to running containers' shims.
 * @module
 */
import { ContainerStore } from "../../../core/store/containers.ts";
import { PRIVATE_DIR } from "../../../core/store/perms.ts";
import { log } from "../log.ts";
import type { Services } from "../services.ts";
import { ContainerService } from "./service.ts";
import { VolumeService } from "./volumes.ts";
import { ExecService } from "./exec.ts";

export async function startContainers(s: Services): Promise<void> {
  const store = new ContainerStore(s.config.root);
  const volumes = new VolumeService(s.config.root, s.events);
  await Promise.all([store.init((m) => log.warn(m)), volumes.init()]);
  await Deno.mkdir(`${s.config.execRoot}/shims`, { recursive: true, mode: PRIVATE_DIR });
  await Deno.mkdir(`${s.config.execRoot}/s`, { recursive: true, mode: PRIVATE_DIR });
  const svc = new ContainerService(s, store, volumes, s.events);
  volumes.users = (n) => svc.volumeUsers(n);
  s.containers = svc;
  s.volumes = volumes;
  s.execs = new ExecService(svc);
  s.imageUsers = (id: string) => svc.imageUsers(id);
  s.containerCounts = () => svc.counts();
  await svc.recover();
}

export async function stopContainers(s: Services): Promise<void> {
  const svc = s.containers as ContainerService | undefined;
  svc?.close();
  // records a full disk kept from being written (ContainerStore.saveOrDefer): one last try
  if (svc && !await svc.store.flush()) log.warn("some container records could not be written");
}
