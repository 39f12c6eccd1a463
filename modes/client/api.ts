/**
 * Engine API client over the daemon's unix socket or tcp (plain or TLS:
 * ./dial.ts): JSON requests, Docker's error bodies, JSON-lines progress
 * streams, and the hijacked raw stream used by attach/exec.
 * @module
 */
import { BerthError, type ErrorKind } from "../../core/errdefs/mod.ts";
import { http1, readBody, readHead } from "./http1.ts";
import {
  type ClientTls,
  type Conn,
  dial,
  insecureFetch,
  parseTarget,
  type Target,
} from "./dial.ts";

export const CLIENT_API_VERSION = "1.47";
export const DEFAULT_HOST = "unix:///run/berth/berth.sock";

export class ApiError extends BerthError {
  readonly status: number;
  constructor(status: number, message: string) {
    const kind: ErrorKind = status === 404
      ? "NotFound"
      : status === 409
      ? "Conflict"
      : status === 400
      ? "InvalidArgument"
      : status === 401
      ? "Unauthorized"
      : status === 403
      ? "Forbidden"
      : "Internal";
    super(kind, message);
    this.status = status;
  }
}

/** The daemon could not be reached at all. */
export class ConnectError extends Error {}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function resolveHost(flag?: string): string {
  return flag ?? Deno.env.get("BERTH_HOST") ?? Deno.env.get("DOCKER_HOST") ?? DEFAULT_HOST;
}

export class ApiClient {
  readonly host: string;
  readonly target: Target;
  #http: Deno.HttpClient | undefined;
  #base: string;

  constructor(host: string, tls?: ClientTls) {
    this.host = host;
    this.target = parseTarget(host, tls);
    const t = this.target;
    this.#base = t.proto === "unix"
      ? "http://localhost"
      : `${t.tls ? "https" : "http"}://${
        t.hostname.includes(":") ? `[${t.hostname}]` : t.hostname
      }:${t.port}`;
  }

  /** A fresh connection to the daemon. */
  dial(): Promise<Conn> {
    return dial(this.target);
  }

  #client(): Deno.HttpClient {
    const t = this.target;
    this.#http ??= t.proto === "unix"
      ? Deno.createHttpClient({ proxy: { transport: "unix", path: t.path } })
      : t.tls?.cert && t.tls.key
      ? Deno.createHttpClient({
        caCerts: t.tls.ca ? [t.tls.ca] : undefined,
        cert: t.tls.cert,
        key: t.tls.key,
      })
      : Deno.createHttpClient({ caCerts: t.tls?.ca ? [t.tls.ca] : undefined });
    return this.#http;
  }

  #connectError(cause: unknown): ConnectError {
    return new ConnectError(
      `Cannot connect to the berth daemon at ${this.host}. Is the berth daemon running?`,
      { cause },
    );
  }

  close(): void {
    this.#http?.close();
    this.#http = undefined;
  }

  url(path: string, query?: RequestOptions["query"]): string {
    const u = new URL(`${this.#base}/v${CLIENT_API_VERSION}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === false) continue;
      if (Array.isArray(v)) { for (const x of v) u.searchParams.append(k, x); }
      else u.searchParams.set(k, v === true ? "1" : String(v));
    }
    return u.toString();
  }

  /** Raw request; throws ApiError on a non-2xx/3xx status. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const { headers, body } = encodeBody(opts);
    let res: Response;
    try {
      const t = this.target;
      res = t.proto === "tcp" && t.tls && !t.tls.verify
        ? await insecureFetch(this.url(path, opts.query), {
          method,
          body,
          headers,
          signal: opts.signal,
        }, t.tls)
        : await fetch(this.url(path, opts.query), {
          method,
          body,
          headers,
          client: this.#client(),
          signal: opts.signal,
        });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw this.#connectError(e);
    }
    if (res.status >= 400) {
      throw new ApiError(res.status, errorMessage(await res.text()) || res.statusText);
    }
    return res;
  }

  /**
   * A buffered call (http1.ts, no fetch): the response body as text; throws
   * ApiError on a 4xx/5xx, ConnectError when the daemon is not there. For
   * calls whose answer is small; stream with request().
   */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<string> {
    if (opts.signal || opts.body instanceof ReadableStream) {
      return await (await this.request(method, path, opts)).text();
    }
    const { headers, body } = encodeBody(opts);
    const u = new URL(this.url(path, opts.query));
    let res;
    try {
      res = await http1(
        () => this.dial(),
        method,
        u.pathname + u.search,
        headers,
        typeof body === "string" ? new TextEncoder().encode(body) : body as Uint8Array | undefined,
      );
    } catch (e) {
      if (
        e instanceof Deno.errors.NotFound || e instanceof Deno.errors.ConnectionRefused ||
        e instanceof Deno.errors.ConnectionReset
      ) {
        throw this.#connectError(e);
      }
      throw e;
    }
    const text = new TextDecoder().decode(res.body);
    if (res.status >= 400) {
      throw new ApiError(res.status, errorMessage(text) || `HTTP ${res.status}`);
    }
    return text;
  }

  async json<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const text = await this.call(method, path, opts);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Iterate the JSON objects of a JSON-lines response. */
  async *jsonLines<T = Record<string, unknown>>(res: Response): AsyncIterable<T> {
    if (!res.body) return;
    const dec = new TextDecoder();
    // Pieces of the current line: joined once its newline comes, so a long
    // line costs O(length), not O(length²).
    let pending: string[] = [];
    for await (const chunk of res.body) {
      let text = dec.decode(chunk, { stream: true });
      let i;
      while ((i = text.indexOf("\n")) >= 0) {
        pending.push(text.slice(0, i));
        const line = pending.join("").trim();
        pending = [];
        text = text.slice(i + 1);
        if (line) yield JSON.parse(line) as T;
      }
      if (text) pending.push(text);
    }
    const last = pending.join("").trim();
    if (last) yield JSON.parse(last) as T;
  }

  /**
   * Open a hijacked connection: sends the request with `Upgrade: tcp`,
   * reads the status line and headers, and hands back the raw connection
   * plus any bytes that arrived after the headers.
   */
  async hijack(
    method: string,
    path: string,
    opts: { query?: RequestOptions["query"]; body?: unknown } = {},
  ): Promise<{ conn: Conn; head: Uint8Array; contentType: string }> {
    let conn: Conn;
    try {
      conn = await this.dial();
    } catch (e) {
      throw this.#connectError(e);
    }
    const u = new URL(this.url(path, opts.query));
    const body = opts.body === undefined ? "" : JSON.stringify(opts.body);
    const req = `${method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: berth\r\n` +
      `Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${new TextEncoder().encode(body).length}\r\n\r\n${body}`;
    await writeAll(conn, new TextEncoder().encode(req));
    let head;
    try {
      head = await readHead(conn);
    } catch (e) {
      conn.close();
      throw e;
    }
    const { status, headers, rd } = head;
    if (status !== 101 && status !== 200) {
      const text = new TextDecoder().decode(
        await readBody(rd, status, headers).catch(() => rd.buffered()),
      );
      conn.close();
      throw new ApiError(status, errorMessage(text) || `HTTP ${status}`);
    }
    return { conn, head: rd.buffered(), contentType: headers.get("content-type") ?? "" };
  }
}

/**
 * Headers and body of a request: a stream, bytes or a string go as they are
 * (an archive unless the caller says otherwise), anything else as JSON.
 */
function encodeBody(opts: RequestOptions): { headers: Record<string, string>; body?: BodyInit } {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const b = opts.body;
  if (b instanceof ReadableStream || b instanceof Uint8Array || typeof b === "string") {
    headers["Content-Type"] ??= "application/x-tar";
    return { headers, body: b as BodyInit };
  }
  if (b === undefined) return { headers };
  headers["Content-Type"] = "application/json";
  return { headers, body: JSON.stringify(b) };
}

/** Docker's error body `{"message": …}`, or the raw text. */
function errorMessage(text: string): string {
  let msg = text.trim();
  try {
    const j = JSON.parse(text);
    if (j && typeof j.message === "string") msg = j.message;
  } catch { /* not JSON */ }
  return msg;
}

export async function writeAll(w: { write(p: Uint8Array): Promise<number> }, data: Uint8Array) {
  let off = 0;
  while (off < data.length) off += await w.write(data.subarray(off));
}
