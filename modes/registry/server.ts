/**
 * Start a registry: storage, access control and the HTTP(S) listener.
 *
 * @example
 * ```ts
 * import { startRegistry } from "./server.ts";
 * const reg = await startRegistry({ root: await Deno.makeTempDir(), addr: "127.0.0.1:0" });
 * console.assert((await fetch(`${reg.url}/v2/`).then((r) => r.text())) === "{}");
 * await reg.close();
 * ```
 * @module
 */
import { InvalidArgument } from "../../core/errdefs/mod.ts";
import { type Authorizer, BasicAuth, NoAuth, TokenAuth } from "./auth.ts";
import type { Ctx } from "./context.ts";
import { createHandler } from "./handler.ts";
import { Htpasswd } from "./htpasswd.ts";
import { Storage } from "./storage.ts";
import { Uploads } from "./uploads.ts";

export type AuthMode = "none" | "basic" | "token";

export interface RegistryOptions {
  root: string;
  /** host:port; port 0 picks a free one. Default 127.0.0.1:5000. */
  addr?: string;
  auth?: AuthMode;
  htpasswd?: string;
  tlsCert?: string;
  tlsKey?: string;
  readOnly?: boolean;
  /** Upstream registry URL for pull-through caching. */
  proxyRemote?: string;
  proxyUsername?: string;
  proxyPassword?: string;
  tokenRealm?: string;
  tokenService?: string;
  /** Log lines (access errors, startup); default silent. */
  log?: (line: string) => void;
}

export interface RunningRegistry {
  hostname: string;
  port: number;
  /** Base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  /** host:port for image references. */
  host: string;
  close(): Promise<void>;
}

export function parseAddr(addr: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new InvalidArgument(`invalid --addr ${JSON.stringify(addr)} (want host:port)`);
  const port = Number(m[3]);
  if (port > 65535) throw new InvalidArgument(`invalid port in --addr ${addr}`);
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

async function buildAuth(opts: RegistryOptions): Promise<Authorizer> {
  const mode = opts.auth ?? (opts.htpasswd ? "basic" : "none");
  const htpasswd = opts.htpasswd ? await Htpasswd.load(opts.htpasswd) : undefined;
  switch (mode) {
    case "none":
      return new NoAuth();
    case "basic":
      if (!htpasswd) throw new InvalidArgument("--auth basic needs --htpasswd FILE");
      return new BasicAuth(htpasswd);
    case "token":
      return new TokenAuth({
        htpasswd,
        tls: !!opts.tlsCert,
        realm: opts.tokenRealm,
        service: opts.tokenService,
      });
    default:
      throw new InvalidArgument(`invalid --auth ${JSON.stringify(mode)} (none, basic or token)`);
  }
}

/** Build the context (storage, uploads, auth, upstream) without listening. */
export async function buildContext(opts: RegistryOptions): Promise<Ctx> {
  const storage = new Storage(opts.root);
  await storage.init();
  const auth = await buildAuth(opts);
  const ctx: Ctx = {
    storage,
    uploads: new Uploads(storage),
    auth,
    readOnly: !!opts.readOnly,
    anonymousMount: auth instanceof NoAuth,
  };
  if (opts.proxyRemote) {
    const { ProxyUpstream } = await import("./proxy.ts");
    ctx.upstream = new ProxyUpstream(storage, opts.proxyRemote, {
      username: opts.proxyUsername,
      password: opts.proxyPassword,
    });
  }
  return ctx;
}

export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  const { hostname, port } = parseAddr(opts.addr ?? "127.0.0.1:5000");
  if (!!opts.tlsCert !== !!opts.tlsKey) {
    throw new InvalidArgument("--tls-cert and --tls-key go together");
  }
  const ctx = await buildContext(opts);
  const log = opts.log;
  const handler = createHandler(ctx, (e, req) => {
    log?.(`error: ${req.method} ${req.url}: ${e instanceof Error ? e.stack ?? e.message : e}`);
  });
  const ac = new AbortController();
  const tls = opts.tlsCert
    ? { cert: await Deno.readTextFile(opts.tlsCert), key: await Deno.readTextFile(opts.tlsKey!) }
    : {};
  const server = Deno.serve({
    hostname,
    port,
    signal: ac.signal,
    onListen() {},
    onError(e) {
      log?.(`error: ${e instanceof Error ? e.message : e}`);
      return new Response(null, { status: 500 });
    },
    ...tls,
  }, handler);
  const addr = server.addr as Deno.NetAddr;
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const host = `${shown === "0.0.0.0" ? "127.0.0.1" : shown}:${addr.port}`;
  return {
    hostname: addr.hostname,
    port: addr.port,
    host,
    url: `${opts.tlsCert ? "https" : "http"}://${host}`,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}
