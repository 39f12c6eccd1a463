/**
 * Build arguments with Docker's scoping: `--build-arg` values override ARG
 * defaults; ARGs before the first FROM (meta args, plus the automatic
 * platform args) are visible only to FROM lines, and inside a stage only
 * after `ARG NAME` redeclares them; the proxy args are usable by RUN without
 * a declaration but stay out of history and cache keys; ENV beats ARG.
 *
 * @example
 * ```ts
 * import { BuildArgs } from "./args.ts";
 * const a = new BuildArgs({ V: "2" }, { os: "linux", architecture: "amd64" });
 * a.declareMeta("V", "1", new Map());
 * const st = a.stage();
 * st.declare("V", undefined, new Map());
 * console.assert(st.effective().get("V") === "2");
 * ```
 * @module
 */
import type { Platform } from "../oci/types.ts";
import { type Env, processWord } from "./shell_lex.ts";

export const PROXY_ARGS = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/** BuildKit's automatic platform args (build and target are the host here). */
export function platformArgs(p: Platform): Map<string, string> {
  const plat = [p.os, p.architecture, p.variant].filter(Boolean).join("/");
  const m = new Map<string, string>();
  for (const pre of ["BUILD", "TARGET"]) {
    m.set(`${pre}PLATFORM`, plat);
    m.set(`${pre}OS`, p.os);
    m.set(`${pre}ARCH`, p.architecture);
    m.set(`${pre}VARIANT`, p.variant ?? "");
  }
  return m;
}

export class BuildArgs {
  /** From the request; null = declared on the command line without a value. */
  readonly given: Map<string, string | null>;
  readonly meta = new Map<string, string | undefined>();
  readonly used = new Set<string>();
  readonly escape: string;

  constructor(given: Record<string, string | null>, platform: Platform, escape = "\\") {
    this.given = new Map(Object.entries(given));
    for (const [k, v] of platformArgs(platform)) this.meta.set(k, v);
    this.escape = escape;
  }

  #given(key: string): string | undefined {
    const v = this.given.get(key);
    if (v === undefined || v === null) return undefined;
    this.used.add(key);
    return v;
  }

  /** An ARG before the first FROM. */
  declareMeta(key: string, dflt: string | undefined, _env?: Env): void {
    if (this.given.has(key)) this.used.add(key);
    const d = dflt === undefined ? undefined : processWord(dflt, this.metaEnv(), {
      escape: this.escape,
    });
    this.meta.set(key, this.#given(key) ?? d);
  }

  /** Variables FROM lines can use. */
  metaEnv(): Env {
    const m: Env = new Map();
    for (const [k, v] of this.meta) if (v !== undefined) m.set(k, v);
    return m;
  }

  stage(): StageArgs {
    return new StageArgs(this);
  }

  /** Meta value of a key (redeclared in a stage without a default). */
  metaValue(key: string): string | undefined {
    return this.meta.get(key);
  }

  given1(key: string): string | undefined {
    return this.#given(key);
  }

  /** Build args nobody declared (Docker's warning). */
  unused(): string[] {
    return [...this.given.keys()].filter((k) => !this.used.has(k) && !PROXY_ARGS.includes(k))
      .sort();
  }
}

export class StageArgs {
  readonly #b: BuildArgs;
  /** Declared in this stage, in order; undefined = no value. */
  readonly declared = new Map<string, string | undefined>();
  constructor(b: BuildArgs) {
    this.#b = b;
  }

  /** `ARG key[=dflt]`; `env` expands the default. Returns the value in effect. */
  declare(key: string, dflt: string | undefined, env: Env): string | undefined {
    if (this.#b.given.has(key)) this.#b.used.add(key);
    let v = this.#b.given1(key);
    if (v === undefined) {
      v = dflt !== undefined
        ? processWord(dflt, env, { escape: this.#b.escape })
        : this.#b.metaValue(key);
    }
    this.declared.set(key, v);
    return v;
  }

  /** Declared args with values. */
  effective(): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of this.declared) if (v !== undefined) m.set(k, v);
    return m;
  }

  /** Proxy args given on the command line (RUN gets them even undeclared). */
  proxies(): Map<string, string> {
    const m = new Map<string, string>();
    for (const k of PROXY_ARGS) {
      if (this.declared.has(k)) continue;
      const v = this.#b.given.get(k);
      if (v !== undefined && v !== null) m.set(k, v);
    }
    return m;
  }
}
