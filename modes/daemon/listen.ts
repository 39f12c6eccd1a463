/**
 * Listen on every `-H` host (./hosts.ts): a node:http server per unix socket
 * or plain tcp address, a node:https one per tcp address when --tls/--tlsverify
 * is on (node:https is loaded only then: the idle daemon does not carry it).
 * All of them serve the same handlers, hijacked streams (attach, exec)
 * included. Decisions: docs/transport.md.
 * @module
 */
import http from "node:http";
import type https from "node:https";
import { chmod } from "node:fs/promises";
import { messageOf } from "../../core/errdefs/mod.ts";
import { type ApiHandlers, wireApiServer } from "./server.ts";
import { type ApiHost, type DaemonTls, INSECURE_WARNING } from "./hosts.ts";
import type { DaemonConfig } from "./config.ts";
import { log } from "./log.ts";

type Server = http.Server | https.Server;

export interface Listeners {
  servers: Server[];
  close(): Promise<void>;
}

/** How long a start-up waits after the insecure-TCP warning (dockerd 20.10 waits too). */
export const INSECURE_DELAY_MS = 1000;

/**
 * Listen on every host. `tls` is `loadTls(config.tls)`, read by the caller
 * before anything is started (a missing file stops the start at once).
 */
export async function listenAll(
  config: DaemonConfig,
  h: ApiHandlers,
  tls?: https.ServerOptions,
): Promise<Listeners> {
  const hosts: ApiHost[] = config.hosts ??
    [{ proto: "unix", path: config.socket, url: `unix://${config.socket}` }];
  const sockets: string[] = [];
  const servers: Server[] = [];
  const close = async () => {
    for (const s of servers) {
      s.close();
      s.closeAllConnections?.();
    }
    for (const p of sockets) await Deno.remove(p).catch(() => {}); // gone already: fine
  };
  try {
    if (!hosts.some((x) => x.proto === "unix" && x.path === config.socket)) {
      // private: only the build's self-pull uses it (DaemonConfig.socket)
      servers.push(await listenUnix(h, config.socket, 0o600));
      sockets.push(config.socket);
    }
    if (config.insecureTcp?.length) {
      for (const line of INSECURE_WARNING) log.warn(line);
      await new Promise((r) => setTimeout(r, INSECURE_DELAY_MS));
    }
    const opts = tls;
    for (const host of hosts) {
      if (host.proto === "unix") {
        servers.push(await listenUnix(h, host.path, 0o660));
        sockets.push(host.path);
        log.info(`API listen on ${host.path}`);
        continue;
      }
      let server: Server;
      if (opts) {
        const { default: httpsMod } = await import("node:https");
        server = wireApiServer(httpsMod.createServer(opts, h.request), h);
        server.on("tlsClientError", (e: Error) => log.debug(`tls handshake: ${messageOf(e)}`));
      } else {
        server = wireApiServer(http.createServer(h.request), h);
      }
      servers.push(server);
      await listen(server, (cb) => server.listen(host.port, host.hostname, cb), host.url);
      log.info(`API listen on ${host.url.slice("tcp://".length)}${opts ? " (TLS)" : ""}`);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { servers, close };
}

async function listenUnix(h: ApiHandlers, path: string, mode: number): Promise<http.Server> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
  await Deno.remove(path).catch(() => {}); // a stale socket from a crash; none is fine
  const server = wireApiServer(http.createServer(h.request), h);
  await listen(server, (cb) => server.listen(path, cb), `unix://${path}`);
  await chmod(path, mode);
  return server;
}

function listen(server: Server, go: (cb: () => void) => void, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", (e: Error) => reject(new Error(`listen on ${what}: ${messageOf(e)}`)));
    go(() => resolve());
  });
}

/** dockerd's server TLS: its certificate, and with --tlsverify the clients' CA (required). */
export async function loadTls(t: DaemonTls): Promise<https.ServerOptions> {
  let cert: string, key: string;
  try {
    [cert, key] = await Promise.all([Deno.readTextFile(t.cert), Deno.readTextFile(t.key)]);
  } catch (e) {
    throw new Error(
      `Could not load X509 key pair (cert: "${t.cert}", key: "${t.key}"): ${messageOf(e)}`,
    );
  }
  let ca: string | undefined;
  if (t.verify && t.ca) {
    try {
      ca = await Deno.readTextFile(t.ca);
    } catch (e) {
      throw new Error(`Could not read CA certificate "${t.ca}": ${messageOf(e)}`);
    }
  }
  return {
    cert,
    key,
    ca,
    requestCert: t.verify,
    rejectUnauthorized: t.verify,
    minVersion: "TLSv1.2",
    // A hijacked stream's client half-closes (the docker CLI's CloseWrite: a TLS close_notify)
    // and goes on reading the output; without this the socket ends at the client's EOF.
    allowHalfOpen: true,
  };
}
