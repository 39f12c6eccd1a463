/**
 * The CRI's streaming server, as kubelet's pkg/kubelet/cri/streaming and
 * containerd's: Exec, Attach and PortForward answer a URL
 * `http://<addr>/{exec,attach,portforward}/<token>`; the token (random, used
 * once, gone after a minute) holds the validated request. The client (crictl,
 * kubelet's proxy) then upgrades that URL to SPDY/3.1 (./spdy.ts) with an
 * `X-Stream-Protocol-Version` it and we both speak; the work is
 * ./remotecommand.ts (exec, attach) and ./portforward.ts. A used, expired or
 * unknown token is 404.
 * @module
 */
import http from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { messageOf } from "../../../../core/errdefs/mod.ts";
import { log } from "../../log.ts";
import { SpdyConnection } from "./spdy.ts";
import { WsConnection, wsHandshake } from "./websocket.ts";

export type StreamKind = "exec" | "attach" | "portforward";

/** kubelet's: a token lives a minute; at most 1000 wait at once. */
export const TOKEN_TTL_MS = 60_000;
export const MAX_IN_FLIGHT = 1000;

interface Pending {
  kind: StreamKind;
  // deno-lint-ignore no-explicit-any
  req: any;
  expires: number;
}

/** One-time tokens holding a request until its URL is used. */
export class TokenCache {
  readonly #m = new Map<string, Pending>();
  readonly ttlMs: number;
  constructor(ttlMs = TOKEN_TTL_MS) {
    this.ttlMs = ttlMs;
  }

  // deno-lint-ignore no-explicit-any
  insert(kind: StreamKind, req: any): string {
    this.#sweep();
    if (this.#m.size >= MAX_IN_FLIGHT) {
      throw Object.assign(new Error("maximum number of in-flight requests exceeded"), {
        kind: "ResourceExhausted",
      });
    }
    // 8 random bytes, URL-safe base64 without padding (kubelet's form)
    const b = crypto.getRandomValues(new Uint8Array(8));
    const token = btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    this.#m.set(token, { kind, req, expires: Date.now() + this.ttlMs });
    return token;
  }

  /** The request of a live token of this kind (removing it), or undefined. */
  consume(kind: StreamKind, token: string): Pending | undefined {
    const p = this.#m.get(token);
    if (!p) return undefined;
    this.#m.delete(token);
    if (p.kind !== kind || p.expires < Date.now()) return undefined;
    return p;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [k, p] of this.#m) if (p.expires < now) this.#m.delete(k);
  }
}

/** What serves an upgraded connection of one kind. */
export interface StreamHandler {
  /** protocols in our order of preference (X-Stream-Protocol-Version) */
  protocols: string[];
  /** the SPDY session is up; resolve when done (the server closes the connection then) */
  // deno-lint-ignore no-explicit-any
  serve(conn: SpdyConnection, protocol: string, req: any): Promise<void>;
  /** the same over a websocket (exec, attach), with its subprotocols */
  ws?: {
    protocols: string[];
    // deno-lint-ignore no-explicit-any
    serve(ws: WsConnection, req: any): Promise<void>;
  };
}

/**
 * Pick the first of the client's protocols we speak (kubelet's
 * httpstream.Handshake: the client's order). No header at all is the
 * legacy v1 (""), as kubelet takes it.
 */
export function negotiate(client: string[], server: string[]): string | undefined {
  if (!client.length) return "";
  return client.find((p) => server.includes(p));
}

function headerList(v: string | string[] | undefined): string[] {
  const all = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return all.flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
}

export interface StreamServerOptions {
  host: string;
  port: number;
  handlers: Record<StreamKind, StreamHandler>;
}

export class StreamServer {
  readonly tokens = new TokenCache();
  readonly #opts: StreamServerOptions;
  #server: http.Server | undefined;
  #listening: Promise<void> | undefined;
  #base = "";
  readonly #conns = new Set<SpdyConnection | WsConnection>();
  readonly #sockets = new Set<Duplex>();

  constructor(opts: StreamServerOptions) {
    this.#opts = opts;
  }

  /** Listen (once; the first Exec/Attach/PortForward starts it). */
  start(): Promise<void> {
    this.#listening ??= this.#listen().catch((e) => {
      this.#listening = undefined; // a later call tries again
      throw new Error(`CRI streaming server: cannot listen on ${this.#addr()}: ${messageOf(e)}`);
    });
    return this.#listening;
  }

  #addr(): string {
    const { host, port } = this.#opts;
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }

  async #listen(): Promise<void> {
    const server = http.createServer((req, res) => this.#plain(req, res));
    server.on("upgrade", (req: http.IncomingMessage, sock: Duplex, head: Uint8Array) => {
      this.#upgrade(req, sock, head).catch((e) => {
        log.debug(`CRI stream ${req.url}: ${messageOf(e)}`);
        sock.destroy();
      });
    });
    server.on("connection", (s: Duplex) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#opts.port, this.#opts.host || "0.0.0.0", () => {
        server.off("error", reject);
        resolve();
      });
    });
    // later failures (an accept that fails) are logged: unheard, they would end the daemon
    server.on("error", (e) => log.warn(`CRI streaming server: ${messageOf(e)}`));
    this.#server = server;
    const a = server.address() as AddressInfo;
    this.#base = `http://${urlHost(this.#opts.host || "0.0.0.0")}:${a.port}`;
    log.info(`CRI streaming server listens on ${this.#base}`);
  }

  /** The URL for a request of `kind`: a new token. */
  // deno-lint-ignore no-explicit-any
  async url(kind: StreamKind, req: any): Promise<string> {
    await this.start();
    return `${this.#base}/${kind}/${this.tokens.insert(kind, req)}`;
  }

  #route(url: string | undefined): { kind: StreamKind; token: string } | undefined {
    const m = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)\/?(?:\?.*)?$/.exec(url ?? "");
    return m ? { kind: m[1] as StreamKind, token: m[2] } : undefined;
  }

  /** Not an upgrade: 404 for a bad token (it is used up either way), else 400. */
  #plain(req: http.IncomingMessage, res: http.ServerResponse): void {
    const r = this.#route(req.url);
    const p = r && this.tokens.consume(r.kind, r.token);
    if (!p) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("404 page not found\n");
      return;
    }
    res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("unable to upgrade: missing upgrade headers in request\n");
  }

  async #upgrade(req: http.IncomingMessage, sock: Duplex, head: Uint8Array): Promise<void> {
    const fail = (code: number, text: string, extra: Record<string, string[]> = {}) => {
      const lines = [`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}`];
      lines.push("Content-Type: text/plain; charset=utf-8", `Content-Length: ${text.length + 1}`);
      for (const [k, vs] of Object.entries(extra)) for (const v of vs) lines.push(`${k}: ${v}`);
      sock.end(`${lines.join("\r\n")}\r\n\r\n${text}\n`);
    };
    const r = this.#route(req.url);
    const p = r && this.tokens.consume(r.kind, r.token);
    if (!r || !p) return fail(404, "404 page not found");
    const h = this.#opts.handlers[r.kind];
    const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
    if (upgrade === "websocket" && h.ws) {
      const hs = wsHandshake(req.headers, h.ws.protocols);
      if ("error" in hs) return fail(400, hs.error);
      sock.write(hs.response);
      const ws = new WsConnection(sock, hs.protocol, head);
      this.#conns.add(ws);
      try {
        await h.ws.serve(ws, p.req);
      } finally {
        this.#conns.delete(ws);
        await ws.close().catch(() => ws.destroy()); // the peer is gone already
      }
      return;
    }
    if (upgrade !== "spdy/3.1") {
      return fail(400, `unable to upgrade: unsupported protocol ${req.headers.upgrade}`);
    }
    const offered = headerList(req.headers["x-stream-protocol-version"]);
    const protocol = negotiate(offered, h.protocols);
    if (protocol === undefined) {
      return fail(
        403,
        `unable to upgrade: unable to negotiate protocol: client supports [${
          offered.join(" ")
        }], server accepts [${h.protocols.join(" ")}]`,
        { "X-Accepted-Stream-Protocol-Versions": h.protocols },
      );
    }
    sock.write(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n" +
        (protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : "") + "\r\n",
    );
    const conn = new SpdyConnection(sock, { server: true, head });
    this.#conns.add(conn);
    try {
      await h.serve(conn, protocol, p.req);
    } finally {
      this.#conns.delete(conn);
      await conn.close().catch(() => conn.destroy()); // the peer is gone already
    }
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    for (const s of this.#sockets) s.destroy();
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/**
 * The host in the URLs: the listen address, or for a wildcard one the
 * host's first non-loopback IPv4 (what a client elsewhere can reach, as
 * containerd picks the node's address), else 127.0.0.1.
 */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") {
    const ip = Deno.networkInterfaces().find((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    )?.address;
    return ip ?? "127.0.0.1";
  }
  return host.includes(":") ? `[${host}]` : host;
}
