/**
 * The Engine API HTTP server (node:http, because attach and exec need the
 * connection hijack that Deno.serve does not offer; node:https for TLS hosts). Strips the
 * `/v1.NN` prefix, routes, and turns thrown errors into Docker's JSON errors.
 * @module
 */
import http from "node:http";
import type https from "node:https";
import type { Duplex } from "node:stream";
import { InvalidArgument, messageOf, NotFound } from "../../core/errdefs/mod.ts";
import { API_VERSION, Ctx, MIN_API_VERSION } from "./context.ts";
import { Router } from "./router.ts";
import type { Daemon } from "./daemon.ts";
import { log } from "./log.ts";

export type Handler = (ctx: Ctx) => Promise<void> | void;
export type ApiRouter = Router<Handler>;

const VERSION_RE = /^\/v(\d+\.\d+)(\/.*)$/;

function cmpVersion(a: string, b: string): number {
  const [a1, a2] = a.split(".").map(Number);
  const [b1, b2] = b.split(".").map(Number);
  return a1 - b1 || a2 - b2;
}

const COMMON_HEADERS: Record<string, string> = {
  "Api-Version": API_VERSION,
  "Docker-Experimental": "false",
  "Ostype": "linux",
  "Server": "berth (linux)",
};

/** The request and upgrade listeners of an API server (one per listening address: ./listen.ts). */
export interface ApiHandlers {
  request(req: http.IncomingMessage, res: http.ServerResponse): void;
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Uint8Array): void;
}

export function createApiServer(router: ApiRouter, daemon: Daemon): http.Server {
  const h = apiHandlers(router, daemon);
  return wireApiServer(http.createServer(h.request), h);
}

/** Serve the API on `server` (node:http or node:https). */
export function wireApiServer<S extends http.Server | https.Server>(server: S, h: ApiHandlers): S {
  server.on("upgrade", h.upgrade);
  server.keepAliveTimeout = 60_000;
  return server;
}

export function apiHandlers(router: ApiRouter, daemon: Daemon): ApiHandlers {
  const dispatch = async (
    req: http.IncomingMessage,
    res: http.ServerResponse | undefined,
    socket?: Duplex,
    head?: Uint8Array,
  ) => {
    // The target is a path (origin form): "//x/y" is not an authority, and what URL cannot
    // parse is a 400, answered below (a throw here was an unhandled rejection: the daemon died).
    // An absolute-form target ("http://host/v1.47/…", as a client that talks
    // through a proxy-style unix connector sends, e.g. Deno's fetch) is read
    // as a URL, as Go's net/http does (RFC 9112 §3.2.2).
    const target = req.url ?? "/";
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
    let url: URL | undefined;
    try {
      url = new URL(
        absolute ? target : `http://berth${target.startsWith("/") ? "" : "/"}${target}`,
      );
    } catch { /* url stays undefined */ }
    let path = url?.pathname ?? "/";
    let apiVersion = API_VERSION;
    const m = VERSION_RE.exec(path);
    if (m) {
      apiVersion = m[1];
      path = m[2];
    }
    const ctx = new Ctx({
      req,
      res,
      socket,
      head,
      path,
      query: url?.searchParams ?? new URLSearchParams(),
      apiVersion,
      daemon,
    });
    if (res) { for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v); }
    try {
      if (!url) throw new InvalidArgument(`invalid request target ${JSON.stringify(target)}`);
      if (m && cmpVersion(apiVersion, MIN_API_VERSION) < 0) {
        throw new InvalidArgument(
          `client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
        );
      }
      if (m && cmpVersion(apiVersion, API_VERSION) > 0) {
        throw new InvalidArgument(
          `client version ${apiVersion} is too new. Maximum supported API version is ${API_VERSION}`,
        );
      }
      const hit = router.match(req.method ?? "GET", path);
      if (!hit) throw new NotFound(`page not found`);
      ctx.params = hit.params;
      await hit.handler(ctx);
    } catch (e) {
      if (!(e instanceof Error) || !("kind" in e)) {
        log.error(`${req.method} ${req.url}: ${e instanceof Error ? e.stack : e}`);
      } else {
        log.debug(`${req.method} ${req.url}: ${messageOf(e)}`);
      }
      ctx.error(e);
    }
  };
  // Whatever escapes a request (even its error reply) is that request's end, not the daemon's:
  // a rejection nobody awaits is fatal in Deno.
  const guard = (req: http.IncomingMessage, done: Promise<void>, conn?: Duplex) =>
    done.catch((e) => {
      log.error(`${req.method} ${req.url}: ${e instanceof Error ? e.stack : "unprintable error"}`);
      conn?.destroy();
    });
  return {
    request: (req, res) => guard(req, dispatch(req, res), res.socket ?? undefined),
    upgrade: (req, socket, head) => guard(req, dispatch(req, undefined, socket, head), socket),
  };
}
