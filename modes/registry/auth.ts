/**
 * Access control for every route: `none`, `basic` (htpasswd) and `token`
 * (Docker token spec: a built-in realm issues HS256 bearer tokens carrying
 * repository scopes; API requests without a covering token get a
 * `WWW-Authenticate: Bearer realm,service,scope` challenge).
 *
 * @example
 * ```ts
 * import { formatScope, parseScope } from "./auth.ts";
 * const a = parseScope("repository:a/b:pull,push")!;
 * console.assert(formatScope(a) === "repository:a/b:pull,push");
 * ```
 * @module
 */
import { RegistryError } from "./errors.ts";
import { type Htpasswd, parseBasic } from "./htpasswd.ts";
import { type Claims, signJwt, verifyJwt } from "./jwt.ts";

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface Authorizer {
  /** Throw UNAUTHORIZED/DENIED unless the request may do all of `needed`. */
  authorize(req: Request, needed: Access[]): Promise<void>;
  /** Whether the request may do `access` (no challenge). */
  allowed(req: Request, access: Access): Promise<boolean>;
  /** The token realm endpoint, when this mode has one. */
  token?(req: Request): Promise<Response>;
}

export function parseScope(s: string): Access | null {
  const first = s.indexOf(":");
  const last = s.lastIndexOf(":");
  if (first <= 0 || last === first) return null;
  return {
    type: s.slice(0, first),
    name: s.slice(first + 1, last),
    actions: s.slice(last + 1).split(",").filter(Boolean),
  };
}

export function formatScope(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(",")}`;
}

function covers(granted: Access[], want: Access): boolean {
  const g = granted.find((x) => x.type === want.type && x.name === want.name);
  if (!g) return false;
  return want.actions.every((a) => g.actions.includes(a) || g.actions.includes("*"));
}

export class NoAuth implements Authorizer {
  authorize(): Promise<void> {
    return Promise.resolve();
  }
  allowed(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

export class BasicAuth implements Authorizer {
  constructor(readonly htpasswd: Htpasswd, readonly realm = "berth-registry") {}

  async #ok(req: Request): Promise<boolean> {
    const c = parseBasic(req.headers.get("authorization"));
    return c !== null && await this.htpasswd.verify(c.user, c.password);
  }
  async authorize(req: Request): Promise<void> {
    if (await this.#ok(req)) return;
    throw new RegistryError("UNAUTHORIZED", "authentication required", {
      headers: { "WWW-Authenticate": `Basic realm="${this.realm}", charset="UTF-8"` },
    });
  }
  allowed(req: Request): Promise<boolean> {
    return this.#ok(req);
  }
}

export interface TokenAuthOptions {
  /** Users; without it every requester is granted what it asks. */
  htpasswd?: Htpasswd;
  service?: string;
  /** Absolute realm URL; default: <scheme>://<Host>/token of the request. */
  realm?: string;
  tls?: boolean;
  key?: Uint8Array;
  /** Token lifetime in seconds. */
  ttl?: number;
}

const GRANTABLE = ["pull", "push", "delete", "*"];

export class TokenAuth implements Authorizer {
  readonly service: string;
  readonly #key: Uint8Array;
  readonly #ttl: number;
  constructor(readonly opts: TokenAuthOptions = {}) {
    this.service = opts.service ?? "berth-registry";
    this.#key = opts.key ?? crypto.getRandomValues(new Uint8Array(32));
    this.#ttl = opts.ttl ?? 300;
  }

  #realm(req: Request): string {
    if (this.opts.realm) return this.opts.realm;
    const host = req.headers.get("host") ?? new URL(req.url).host;
    return `${this.opts.tls ? "https" : "http"}://${host}/token`;
  }

  #claims(req: Request): Claims | null {
    const h = req.headers.get("authorization");
    if (!h || !/^bearer\s/i.test(h)) return null;
    const c = verifyJwt(h.slice(7).trim(), this.#key);
    if (!c || c.aud !== this.service || c.typ === "refresh") return null;
    return c;
  }

  authorize(req: Request, needed: Access[]): Promise<void> {
    let c = this.#claims(req);
    // With a user database, an anonymous token authenticates nobody.
    if (c && this.opts.htpasswd && !c.sub) c = null;
    const granted = (c?.access ?? []) as Access[];
    if (c && needed.every((n) => covers(granted, n))) return Promise.resolve();
    let challenge = `Bearer realm="${this.#realm(req)}",service="${this.service}"`;
    if (needed.length) challenge += `,scope="${needed.map(formatScope).join(" ")}"`;
    if (c) challenge += `,error="insufficient_scope"`;
    throw new RegistryError("UNAUTHORIZED", c ? "insufficient scope" : "authentication required", {
      headers: { "WWW-Authenticate": challenge },
      detail: needed.length ? needed : undefined,
    });
  }

  allowed(req: Request, access: Access): Promise<boolean> {
    const c = this.#claims(req);
    return Promise.resolve(c !== null && covers((c.access ?? []) as Access[], access));
  }

  #grant(user: string | null, wanted: Access[]): Access[] {
    if (this.opts.htpasswd && user === null) return [];
    const out: Access[] = [];
    for (const w of wanted) {
      const actions = w.actions.filter((a) => GRANTABLE.includes(a));
      if (w.type === "registry" && w.name === "catalog") out.push({ ...w, actions: ["*"] });
      else if (w.type === "repository" && actions.length) out.push({ ...w, actions });
    }
    return out;
  }

  /** GET (Basic creds) or POST (OAuth2 password / refresh_token) on the realm. */
  async token(req: Request): Promise<Response> {
    const url = new URL(req.url);
    let params = url.searchParams;
    let user: string | null = null;
    let password: string | null = null;
    if (req.method === "POST") {
      params = new URLSearchParams(await req.text());
      if (params.get("grant_type") === "password") {
        user = params.get("username");
        password = params.get("password");
      } else if (params.get("grant_type") === "refresh_token") {
        const c = verifyJwt(params.get("refresh_token") ?? "", this.#key);
        if (!c || c.typ !== "refresh") {
          throw new RegistryError("UNAUTHORIZED", "invalid refresh token");
        }
        user = c.sub ?? null;
      } else {
        throw new RegistryError("UNSUPPORTED", "unsupported grant_type", { status: 400 });
      }
    } else if (req.method === "GET") {
      const b = parseBasic(req.headers.get("authorization"));
      if (b) [user, password] = [b.user, b.password];
    } else {
      throw new RegistryError("UNSUPPORTED", "method not allowed");
    }
    if (password !== null && user !== null && this.opts.htpasswd) {
      if (!(await this.opts.htpasswd.verify(user, password))) {
        throw new RegistryError("UNAUTHORIZED", "invalid username or password", {
          headers: { "WWW-Authenticate": `Basic realm="${this.service}"` },
        });
      }
    } else if (password !== null && !this.opts.htpasswd) {
      // No user database: any credentials are accepted.
    }
    const wanted = params.getAll("scope").flatMap((s) => s.split(" ")).map(parseScope)
      .filter((a): a is Access => a !== null);
    const now = Math.floor(Date.now() / 1000);
    const claims: Claims = {
      iss: "berth-registry",
      sub: user ?? "",
      aud: this.service,
      iat: now,
      nbf: now,
      exp: now + this.#ttl,
      jti: crypto.randomUUID(),
      access: this.#grant(user, wanted),
    };
    const token = signJwt(claims, this.#key);
    const body: Record<string, unknown> = {
      token,
      access_token: token,
      expires_in: this.#ttl,
      issued_at: new Date(now * 1000).toISOString(),
    };
    const wantsRefresh = params.get("offline_token") === "true" ||
      params.get("access_type") === "offline";
    if (user !== null && wantsRefresh) {
      body.refresh_token = signJwt(
        { typ: "refresh", sub: user, aud: this.service, iat: now, exp: now + 30 * 86400 },
        this.#key,
      );
    }
    return new Response(JSON.stringify(body), {
      headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
    });
  }
}
