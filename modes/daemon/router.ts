/**
 * A small method+path router for the Engine API. Patterns use `{name}` for
 * one path segment and `{name*}` for a greedy match (image names contain
 * slashes). Routes are tried in the order they were added.
 *
 * @example
 * ```ts
 * import { Router } from "./router.ts";
 * const r = new Router<string>();
 * r.add("GET", "/images/{name*}/json", "inspect");
 * console.assert(r.match("GET", "/images/a/b:1/json")?.params.name === "a/b:1");
 * ```
 * @module
 */

import { InvalidArgument } from "../../core/errdefs/mod.ts";

/** A path segment's %XX escapes decoded; a malformed one is the client's error (Go: 400). */
function unescapePath(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new InvalidArgument(`invalid URL escape in ${JSON.stringify(s)}`);
  }
}

interface Route<H> {
  method: string;
  re: RegExp;
  keys: string[];
  handler: H;
}

export class Router<H> {
  #routes: Route<H>[] = [];

  add(method: string, pattern: string, handler: H): void {
    const keys: string[] = [];
    const src = pattern.replace(/[.+?^$()[\]\\|]/g, "\\$&").replace(
      /\{(\w+)(\*?)\}/g,
      (_m, k: string, star: string) => {
        keys.push(k);
        return star ? "(.+)" : "([^/]+)";
      },
    );
    this.#routes.push({ method, re: new RegExp(`^${src}/?$`), keys, handler });
  }

  /** Find a handler; `methodMismatch` is true when the path exists for another method. */
  match(
    method: string,
    path: string,
  ): { handler: H; params: Record<string, string> } | undefined {
    const m = method === "HEAD" ? ["HEAD", "GET"] : [method];
    for (const want of m) {
      for (const r of this.#routes) {
        if (r.method !== want) continue;
        const x = r.re.exec(path);
        if (!x) continue;
        const params: Record<string, string> = {};
        r.keys.forEach((k, i) => params[k] = unescapePath(x[i + 1]));
        return { handler: r.handler, params };
      }
    }
    return undefined;
  }
}
