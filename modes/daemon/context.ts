/**
 * The per-request context handed to Engine API handlers: parsed params and
 * query, body readers, and the response helpers that produce Docker's shapes
 * (JSON errors, JSON-lines progress streams, hijacked raw streams).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { BerthError, InvalidArgument, messageOf } from "../../core/errdefs/mod.ts";
import type { Daemon } from "./daemon.ts";
import { decodeBytes, MAX_JSON_BODY, readLimited } from "./api/decode.ts";
import { parseFilters } from "./api/query.ts";
import { any } from "../../core/api/schema.ts";

export const API_VERSION = "1.47";
/** Docker 20.10 accepts down to 1.12 (moby api/common_unix.go MinVersion). */
export const MIN_API_VERSION = "1.12";

/** HTTP status for an error kind, as moby's httpstatus does. */
export function statusOf(e: unknown): number {
  if (e instanceof BerthError) {
    switch (e.kind) {
      case "NotFound":
        return 404;
      case "InvalidArgument":
        return 400;
      case "Conflict":
      case "AlreadyExists":
        return 409;
      case "Unauthorized":
        return 401;
      case "Forbidden":
        return 403;
      case "NotModified":
        return 304;
      case "Unavailable":
        return 503;
      case "TooLarge":
        return 413;
    }
  }
  return 500;
}

export class Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse | undefined;
  /** Set for `Connection: Upgrade` requests (attach, exec start). */
  readonly upgradeSocket: Duplex | undefined;
  readonly upgradeHead: Uint8Array | undefined;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly apiVersion: string;
  params: Record<string, string> = {};
  /** The daemon's stores and services (./daemon.ts). */
  readonly daemon: Daemon;
  #sent = false;

  constructor(opts: {
    req: IncomingMessage;
    res?: ServerResponse;
    socket?: Duplex;
    head?: Uint8Array;
    path: string;
    query: URLSearchParams;
    apiVersion: string;
    daemon: Daemon;
  }) {
    this.req = opts.req;
    this.res = opts.res;
    this.upgradeSocket = opts.socket;
    this.upgradeHead = opts.head;
    this.path = opts.path;
    this.query = opts.query;
    this.apiVersion = opts.apiVersion;
    this.daemon = opts.daemon;
  }

  get sent(): boolean {
    return this.#sent || (this.res?.headersSent ?? false);
  }

  /** A query flag: 1/true/yes → true. */
  flag(name: string, dflt = false): boolean {
    const v = this.query.get(name);
    if (v === null || v === "") return dflt;
    return v === "1" || v.toLowerCase() === "true" || v.toLowerCase() === "yes";
  }

  /** An integer query parameter. */
  int(name: string, dflt?: number): number | undefined {
    const v = this.query.get(name);
    if (v === null || v === "") return dflt;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgument(`invalid value for ${name}: ${v}`);
    return Math.trunc(n);
  }

  /** `filters` query parameter (Docker's JSON map, both legacy and map forms; null = none). */
  filters(): Record<string, string[]> {
    return parseFilters(this.query.get("filters"));
  }

  /** The request body as a web stream. */
  body(): ReadableStream<Uint8Array> {
    return Readable.toWeb(this.req) as unknown as ReadableStream<Uint8Array>;
  }

  /** The whole body, at most `limit` bytes (413 past it). */
  bytes(limit = MAX_JSON_BODY): Promise<Uint8Array> {
    return readLimited(this.req, limit);
  }

  /**
   * An untyped JSON body (Go's syntax rules; empty or null gives `{}`). Prefer
   * a schema (api/body.ts jsonRoute/readBody): this one checks no types.
   */
  async json<T = Record<string, unknown>>(): Promise<T> {
    return decodeBytes(any(), await this.bytes(), "optional") as T;
  }

  #res(): ServerResponse {
    if (!this.res) throw new Error("no response object for an upgraded request");
    return this.res;
  }

  send(status: number, value: unknown, headers: Record<string, string> = {}): void {
    const res = this.#res();
    this.#sent = true;
    const body = new TextEncoder().encode(JSON.stringify(value) + "\n");
    res.writeHead(status, {
      "Content-Type": "application/json",
      "Content-Length": String(body.length),
      ...headers,
    });
    res.end(body);
  }

  noContent(status = 204): void {
    const res = this.#res();
    this.#sent = true;
    res.writeHead(status);
    res.end();
  }

  text(status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
    const res = this.#res();
    this.#sent = true;
    const b = new TextEncoder().encode(body);
    res.writeHead(status, { "Content-Type": contentType, "Content-Length": String(b.length) });
    res.end(b);
  }

  error(e: unknown): void {
    const status = statusOf(e);
    if (this.upgradeSocket && !this.res) {
      const body = JSON.stringify({ message: messageOf(e) }) + "\n";
      this.upgradeSocket.end(
        `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${
          new TextEncoder().encode(body).length
        }\r\n\r\n${body}`,
      );
      this.#sent = true;
      return;
    }
    if (this.sent) {
      try {
        this.res?.end();
      } catch { /* gone */ }
      return;
    }
    if (status === 304) return this.noContent(304);
    if (status === 413) {
      // the rest of the body is not read: close the connection once answered
      this.send(status, { message: messageOf(e) }, { Connection: "close" });
      this.res?.once("finish", () => this.req.destroy());
      return;
    }
    this.send(status, { message: messageOf(e) });
  }

  /** Start a streamed 200 response (JSON lines by default); flushes headers at once. */
  startStream(contentType = "application/json", status = 200): JsonStream {
    const res = this.#res();
    this.#sent = true;
    res.writeHead(status, { "Content-Type": contentType });
    res.flushHeaders();
    return new JsonStream(res);
  }

  /**
   * Take over the connection for a raw stream (attach, exec start). Sends
   * `101 UPGRADED` for upgrade requests, or a 200 raw-stream header otherwise.
   */
  hijack(multiplexed: boolean): Duplex {
    const ct = multiplexed
      ? "application/vnd.docker.multiplexed-stream"
      : "application/vnd.docker.raw-stream";
    this.#sent = true;
    if (this.upgradeSocket) {
      this.upgradeSocket.write(
        `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${ct}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
      );
      return this.upgradeSocket;
    }
    const res = this.#res();
    const sock = res.socket as unknown as Duplex;
    sock.write(`HTTP/1.1 200 OK\r\nContent-Type: ${ct}\r\n\r\n`);
    return sock;
  }
}

/** Docker's JSON-lines progress stream writer. */
export class JsonStream {
  #res: ServerResponse;
  constructor(res: ServerResponse) {
    this.#res = res;
  }
  get raw(): ServerResponse {
    return this.#res;
  }
  write(obj: unknown): Promise<void> {
    const line = JSON.stringify(obj) + "\r\n";
    return new Promise((resolve) => {
      if (this.#res.write(line)) resolve();
      else this.#res.once("drain", () => resolve());
    });
  }
  writeRaw(chunk: Uint8Array | string): Promise<void> {
    return new Promise((resolve) => {
      if (this.#res.write(chunk)) resolve();
      else this.#res.once("drain", () => resolve());
    });
  }
  /** The error line the docker CLI fails on (errorDetail + error). */
  error(message: string, code?: number): Promise<void> {
    return this.write({
      errorDetail: code === undefined ? { message } : { code, message },
      error: message,
    });
  }
  end(): void {
    this.#res.end();
  }
}
