/**
 * Load a module by its repo-relative path, lazily, WITHOUT a string-literal
 * `import("…")`: Deno reads every literally imported module of the graph at
 * start-up (dynamic ones included) — measured ~10 ms and ~2 MB for berth's
 * full graph in every client, shim and init process. From source the path is
 * resolved against the repo root; in the bundle (tools/bundle_entry.ts) a
 * registry of literal imports is installed first, so bundling still sees
 * every module.
 *
 * @example
 * ```ts ignore
 * import { lazy } from "./lazy.ts";
 * const { main } = await lazy<{ main(a: string[]): Promise<number> }>("modes/daemon/main.ts");
 * ```
 * @module
 */

// deno-lint-ignore no-explicit-any
type Loader = () => Promise<any>;

const ROOT = new URL("../../", import.meta.url);

/** Set by the bundle entry: repo-relative path → loader. */
export function registry(): Record<string, Loader> | undefined {
  return (globalThis as { __berthModules?: Record<string, Loader> }).__berthModules;
}

export function lazy<T>(path: string): Promise<T> {
  const reg = registry();
  if (reg) {
    const l = reg[path];
    if (!l) throw new Error(`internal: module ${path} is not in the bundle registry`);
    return l();
  }
  return import(new URL(path, ROOT).href);
}
