/**
 * The CRI's socket, cheaply: the daemon (../daemon.ts) has opened the CRI's
 * image namespace (always, so the Engine API's collection keeps CRI images'
 * blobs and layers); unless `--cri=false`, this listens on `<exec-root>/cri.sock` with
 * a plain node:net server. The gRPC stack (@grpc/grpc-js, the CRI proto:
 * ~40 MB and ~2 s, docs/cri.md) is loaded only on the first connection
 * (./server.ts, through core/sys/lazy.ts); that connection and every later
 * one are handed to it with grpc-js's connection injector.
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import { chmod } from "node:fs/promises";
import { lazy } from "../../../core/sys/lazy.ts";
import { messageOf } from "../../../core/errdefs/mod.ts";
import { log } from "../log.ts";
import type { Daemon } from "../daemon.ts";

export interface CriHandle {
  socket?: string;
  close(): Promise<void>;
}

interface Injector {
  injectConnection(c: Socket): void;
  destroy(): void;
}

export async function startCri(s: Daemon): Promise<CriHandle> {
  if (s.config.cri === false) return { close: () => Promise.resolve() };
  const path = s.config.criSocket ?? `${s.config.execRoot}/cri.sock`;
  let injector: Promise<Injector> | undefined;
  const load = async (): Promise<Injector> => {
    const t0 = performance.now();
    const m = await lazy<typeof import("./server.ts")>("modes/daemon/cri/server.ts");
    const inj = await m.createCriServer(s);
    log.info(`CRI gRPC server loaded in ${Math.round(performance.now() - t0)} ms`);
    return inj;
  };
  const server: Server = createServer({ pauseOnConnect: true }, (conn) => {
    injector ??= load();
    injector.then((i) => i.injectConnection(conn), (e) => {
      log.error(`CRI: cannot load the gRPC server: ${messageOf(e)}`);
      injector = undefined; // the next connection tries again
      conn.destroy();
    });
  });
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
  // A stale socket of an earlier daemon (the root lock says none runs).
  await Deno.remove(path).catch(() => {/* none */});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o660);
  log.info(`CRI listen on ${path}`);
  return {
    socket: path,
    async close() {
      server.close();
      const i = await injector?.catch(() => undefined); // never made: nothing to destroy
      i?.destroy();
      await Deno.remove(path).catch(() => {/* already gone */});
    },
  };
}
