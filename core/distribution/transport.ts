/**
 * HTTP to one registry host: endpoint and scheme choice (HTTPS, or HTTP for
 * loopback and configured insecure registries), custom CAs and client certs
 * from certs.d directories, and authentication (anonymous, Basic, or the
 * Docker token flow driven by `WWW-Authenticate` challenges, with tokens
 * cached per scope until they expire).
 *
 * @example
 * ```ts
 * import { Transport } from "./transport.ts";
 * const t = new Transport("127.0.0.1:5000");
 * // const res = await t.request("GET", "/v2/", { scopes: [] });
 * t.close();
 * ```
 * @module
 */
import { InvalidArgument, Unauthorized, Unavailable } from "../errdefs/mod.ts";
import { type Challenge, parseChallenge } from "./challenge.ts";
import { type Credentials, encodeAuth } from "./credentials.ts";

export interface TransportOptions {
  credentials?: Credentials;
  /** Hosts (host or host:port) allowed over plain HTTP, besides loopback. */
  insecureRegistries?: string[];
  /** Directories of per-host CA/client certs; default docker's and berth's. */
  certsDirs?: string[];
  userAgent?: string;
  /** Force a scheme instead of choosing (e.g. from an explicit http:// URL). */
  scheme?: "http" | "https";
  /**
   * Registry host → mirror URL (`http://127.0.0.1:5000`): requests for that
   * host go to the mirror, over the URL's scheme, with the same repository
   * paths (containerd's CRI `registry.mirrors`; no fallback to the host).
   */
  mirrors?: Record<string, string>;
}

export interface RequestOptions {
  /** Token scopes this request needs, e.g. "repository:a/b:pull". */
  scopes: string[];
  headers?: HeadersInit;
  body?: BodyInit | null;
  signal?: AbortSignal;
}

export const DEFAULT_CERTS_DIRS = ["/etc/docker/certs.d", "/etc/berth/certs.d"];
export const USER_AGENT = "berth/0.1";

/** The API endpoint of a registry name (Docker Hub's is registry-1.docker.io). */
export function endpointHost(host: string): string {
  return host === "docker.io" || host === "index.docker.io" ? "registry-1.docker.io" : host;
}

function hostOnly(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const i = host.lastIndexOf(":");
  return i > 0 && host.indexOf(":") === i ? host.slice(0, i) : host;
}

export function isLoopback(host: string): boolean {
  const h = hostOnly(host).toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || /^127\./.test(h) || h === "::1";
}

export function isInsecure(host: string, insecure: string[] = []): boolean {
  return isLoopback(host) || insecure.includes(host) || insecure.includes(hostOnly(host));
}

async function readCertsDir(
  dir: string,
): Promise<{ caCerts: string[]; cert?: string; key?: string }> {
  const out: { caCerts: string[]; cert?: string; key?: string } = { caCerts: [] };
  try {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.name.endsWith(".crt")) out.caCerts.push(await Deno.readTextFile(p));
      else if (e.name.endsWith(".cert")) {
        out.cert = await Deno.readTextFile(p);
        out.key = await Deno.readTextFile(p.replace(/\.cert$/, ".key"));
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class Transport {
  readonly endpoint: string;
  #base?: Promise<string>;
  #client?: Deno.HttpClient;
  #challenge?: Challenge;
  #tokens = new Map<string, CachedToken>();

  /** The mirror's scheme, when the host is mirrored. */
  readonly #scheme?: "http" | "https";

  constructor(readonly host: string, readonly opts: TransportOptions = {}) {
    const mirror = opts.mirrors?.[host];
    if (mirror) {
      const u = new URL(mirror);
      if (u.protocol !== "http:" && u.protocol !== "https:") {
        throw new InvalidArgument(
          `invalid mirror ${mirror} of ${host}: want http(s)://HOST[:PORT]`,
        );
      }
      this.endpoint = u.host;
      this.#scheme = u.protocol === "http:" ? "http" : "https";
    } else {
      this.endpoint = endpointHost(host);
      this.#scheme = opts.scheme;
    }
  }

  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  async #httpClient(): Promise<Deno.HttpClient | undefined> {
    if (this.#client) return this.#client;
    const caCerts: string[] = [];
    let cert: string | undefined, key: string | undefined;
    for (const d of this.opts.certsDirs ?? DEFAULT_CERTS_DIRS) {
      const c = await readCertsDir(`${d}/${this.host}`);
      caCerts.push(...c.caCerts);
      cert ??= c.cert;
      key ??= c.key;
    }
    if (!caCerts.length && !cert) return undefined;
    this.#client = Deno.createHttpClient({ caCerts, ...(cert && key ? { cert, key } : {}) });
    return this.#client;
  }

  /** `scheme://endpoint`, found by pinging /v2/ (once). */
  base(): Promise<string> {
    this.#base ??= this.#resolve().catch((e) => {
      this.#base = undefined;
      throw e;
    });
    return this.#base;
  }

  async #resolve(): Promise<string> {
    const insecure = isInsecure(this.host, this.opts.insecureRegistries);
    const schemes = this.#scheme
      ? [this.#scheme]
      : !insecure
      ? ["https"]
      : isLoopback(this.host)
      ? ["http", "https"]
      : ["https", "http"];
    const client = await this.#httpClient();
    let lastErr: unknown;
    for (const s of schemes) {
      const base = `${s}://${this.endpoint}`;
      try {
        const res = await fetch(`${base}/v2/`, {
          headers: { "User-Agent": this.opts.userAgent ?? USER_AGENT },
          client,
          signal: AbortSignal.timeout(15000),
        });
        await res.body?.cancel();
        if (res.status === 401) {
          this.#challenge = parseChallenge(res.headers.get("www-authenticate"));
        }
        if (res.status === 200 || res.status === 401) return base;
        lastErr = new Unavailable(`${base}/v2/: unexpected status ${res.status}`);
      } catch (e) {
        lastErr = e;
      }
    }
    throw new Unavailable(
      `cannot reach registry ${this.host}: ${lastErr instanceof Error ? lastErr.message : lastErr}`,
      { cause: lastErr },
    );
  }

  /** The challenge learned from the registry, if any (after a request). */
  get challenge(): Challenge | undefined {
    return this.#challenge;
  }

  async #token(scopes: string[], force: boolean): Promise<string> {
    const c = this.#challenge!;
    const key = [...new Set(scopes)].sort().join(" ");
    const hit = this.#tokens.get(key);
    if (!force && hit && hit.expiresAt > Date.now() + 5000) return hit.token;
    const realm = c.params.realm;
    if (!realm) throw new Unauthorized("registry sent a Bearer challenge without a realm");
    const creds = this.opts.credentials;
    const url = new URL(realm);
    const headers: Record<string, string> = { "User-Agent": this.opts.userAgent ?? USER_AGENT };
    let init: RequestInit;
    if (creds?.identityToken) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: creds.identityToken,
        client_id: "berth",
      });
      if (c.params.service) form.set("service", c.params.service);
      if (key) form.set("scope", key);
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      init = { method: "POST", body: form.toString(), headers };
    } else {
      if (c.params.service) url.searchParams.set("service", c.params.service);
      for (const s of new Set(scopes)) url.searchParams.append("scope", s);
      if (creds?.username) {
        url.searchParams.set("account", creds.username);
        headers["Authorization"] = `Basic ${encodeAuth(creds.username, creds.password ?? "")}`;
      }
      init = { method: "GET", headers };
    }
    const res = await fetch(url, { ...init, client: await this.#httpClient() });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new Unauthorized("unauthorized: incorrect username or password");
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Unavailable(`token server ${url.origin}${url.pathname}: status ${res.status}`);
    }
    const j = await res.json() as { token?: string; access_token?: string; expires_in?: number };
    const token = j.token ?? j.access_token;
    if (!token) throw new Unauthorized("token server returned no token");
    const ttl = (j.expires_in && j.expires_in > 0 ? j.expires_in : 60) * 1000;
    this.#tokens.set(key, { token, expiresAt: Date.now() + ttl });
    return token;
  }

  async #authHeader(scopes: string[], force: boolean): Promise<string | undefined> {
    const creds = this.opts.credentials;
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const c = this.#challenge;
    if (!c) return undefined;
    if (c.scheme === "basic") {
      return creds?.username !== undefined
        ? `Basic ${encodeAuth(creds.username, creds.password ?? "")}`
        : undefined;
    }
    if (c.scheme === "bearer") return `Bearer ${await this.#token(scopes, force)}`;
    return undefined;
  }

  /** Check that the credentials are accepted (for `login`). */
  async login(): Promise<void> {
    await this.base();
    const res = await this.request("GET", "/v2/", { scopes: [] });
    await res.body?.cancel();
    if (res.status === 401) throw new Unauthorized("unauthorized: incorrect username or password");
    if (!res.ok) throw new Unavailable(`login: registry returned ${res.status}`);
  }

  /**
   * Send a request to the registry. A 401 is answered once (new challenge or
   * scope) when the body can be re-sent. Redirects are followed without
   * forwarding credentials to another origin.
   */
  async request(method: string, pathOrUrl: string, opts: RequestOptions): Promise<Response> {
    const base = await this.base();
    const client = await this.#httpClient();
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : base + pathOrUrl;
    const origin = new URL(base).origin;
    const retryable = !(opts.body instanceof ReadableStream);
    let scopes = opts.scopes;
    for (let attempt = 0;; attempt++) {
      const headers = new Headers(opts.headers);
      headers.set("User-Agent", this.opts.userAgent ?? USER_AGENT);
      const auth = await this.#authHeader(scopes, attempt > 0);
      let target = url;
      if (auth && new URL(target).origin === origin) headers.set("Authorization", auth);
      let res = await fetch(target, {
        method,
        headers,
        body: opts.body,
        client,
        redirect: "manual",
        signal: opts.signal,
      });
      for (
        let hops = 0;
        res.status >= 301 && res.status <= 308 && res.headers.has("location");
        hops++
      ) {
        if (hops > 5) throw new Unavailable(`too many redirects from ${url}`);
        await res.body?.cancel();
        target = new URL(res.headers.get("location")!, target).toString();
        if (new URL(target).origin !== origin) headers.delete("Authorization");
        const m = res.status === 303 ? "GET" : method;
        if (m !== "GET" && m !== "HEAD" && !retryable) {
          throw new InvalidArgument(`cannot follow redirect of a streamed ${method} to ${target}`);
        }
        res = await fetch(target, {
          method: m,
          headers,
          body: m === "GET" || m === "HEAD" ? undefined : opts.body,
          client,
          redirect: "manual",
          signal: opts.signal,
        });
      }
      if (res.status === 401 && attempt === 0 && !this.opts.credentials?.registryToken) {
        const c = parseChallenge(res.headers.get("www-authenticate"));
        if (c) {
          this.#challenge = c.scheme === "bearer" && !c.params.realm && this.#challenge
            ? this.#challenge
            : c;
          if (c.params.scope) scopes = [...new Set([...scopes, ...c.params.scope.split(" ")])];
        }
        const canRetry = retryable && (this.#challenge?.scheme === "bearer" ||
          (this.#challenge?.scheme === "basic" && this.opts.credentials?.username !== undefined));
        if (canRetry) {
          await res.body?.cancel();
          continue;
        }
      }
      return res;
    }
  }
}
