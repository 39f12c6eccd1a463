/**
 * The daemon proper: take the root lock, build the daemon (./daemon.ts), start the areas
 * (networks, containers: recovery), serve the Engine API on every -H host,
 * and shut down cleanly on SIGTERM/SIGINT. Memory is given back after
 * start-up and after bursts of requests (./memory.ts).
 * @module
 */
import { lockDown } from "../../core/store/perms.ts";
import { tryLock, unlock } from "../../core/sys/lock.ts";
import { exposeGc } from "../../core/sys/memory.ts";
import { isCompiled } from "../../core/sys/self.ts";
import { messageOf } from "../../core/errdefs/mod.ts";
import { Router } from "./router.ts";
import { apiHandlers, type Handler } from "./server.ts";
import { listenAll, loadTls } from "./listen.ts";
import { registerAll } from "./routes.ts";
import type { DaemonConfig } from "./config.ts";
import { log } from "./log.ts";
import { openDaemon } from "./daemon.ts";
import { startAreas, stopAreas } from "./areas.ts";
import { MemoryKeeper } from "./memory.ts";
import { reloadEvent } from "./events/daemon.ts";
import { startCri } from "./cri/listen.ts";

export async function serve(config: DaemonConfig): Promise<number> {
  await Deno.mkdir(config.root, { recursive: true, mode: 0o711 });
  await Deno.mkdir(config.execRoot, { recursive: true, mode: 0o711 });
  const lockFd = tryLock(`${config.root}/berth.lock`);
  if (lockFd < 0) {
    console.error(
      `berth daemon: another daemon is already using ${config.root} (lock ${config.root}/berth.lock is held)`,
    );
    return 1;
  }
  // an older berth left layers, rootfs and volumes reachable by host users (core/store/perms.ts)
  const sockDir = config.socket.slice(0, config.socket.lastIndexOf("/"));
  for (const top of [config.root, config.execRoot]) {
    const skip = sockDir.startsWith(top + "/") ? [sockDir.slice(top.length + 1).split("/")[0]] : [];
    for (const m of await lockDown(top, skip)) {
      if (m.error) log.warn(`could not make private ${m.line}`);
      else log.info(`tightened ${m.line}`);
    }
  }
  const tls = config.tls ? await loadTls(config.tls) : undefined;
  const daemon = await openDaemon(config);
  await startAreas(daemon);
  // The CRI's socket; its gRPC stack loads on first use (docs/cri.md).
  const cri = await startCri(daemon).catch(async (e) => {
    await stopAreas(daemon).catch((e2) => log.warn(`stopping: ${messageOf(e2)}`));
    throw e;
  });

  const router = new Router<Handler>();
  registerAll(router);
  const handlers = apiHandlers(router, daemon);
  const keeper = new MemoryKeeper();
  // A compiled binary ignores DENO_V8_FLAGS (./v8_flags.ts): take gc another way.
  await exposeGc(isCompiled());
  keeper.collect();
  const listeners = await listenAll(config, handlers, tls).catch(async (e) => {
    await cri.close();
    await stopAreas(daemon).catch((e2) => log.warn(`stopping: ${messageOf(e2)}`));
    throw e;
  });
  for (const s of listeners.servers) keeper.watch(s);
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  const onSig = (name: string) => () => stop(name);
  Deno.addSignalListener("SIGTERM", onSig("SIGTERM"));
  Deno.addSignalListener("SIGINT", onSig("SIGINT"));
  const onHup = () => reloadEvent(daemon.config, daemon.events);
  Deno.addSignalListener("SIGHUP", onHup);
  const sig = await stopped;
  log.info(`received ${sig}, shutting down`);
  Deno.removeSignalListener("SIGHUP", onHup);
  keeper.close();
  await listeners.close();
  await cri.close();
  await stopAreas(daemon).catch((e) => log.warn(`stopping: ${messageOf(e)}`));
  unlock(lockFd);
  return 0;
}
