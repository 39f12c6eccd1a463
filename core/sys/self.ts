/**
 * How to re-exec this very program for an internal personality (`shim`, `init`),
 * whichever way berth was started:
 *
 * - `deno run -A main.ts …`   → [deno, "run", "-A", <flags>, <main.ts URL>, …]
 * - `deno run -A berth.js …`  → same, with the bundle file
 * - a `deno compile` binary   → [<binary>, …]
 *
 * @example
 * ```ts
 * import { selfArgv } from "./self.ts";
 * const [cmd, ...args] = selfArgv(["shim", "--id", "x"]);
 * ```
 * @module
 */

let cached: string[] | undefined;

/** True when running as a `deno compile` binary. */
export function isCompiled(): boolean {
  // A compiled binary runs its main module from a virtual file system.
  return Deno.mainModule.includes("/deno-compile-");
}

/** The argv prefix that starts this program again. */
export function selfPrefix(): string[] {
  if (cached) return cached;
  if (isCompiled()) {
    cached = [Deno.execPath()];
  } else {
    const main = Deno.mainModule;
    const path = main.startsWith("file://") ? decodeURIComponent(new URL(main).pathname) : main;
    cached = [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      "--no-prompt",
      "--no-check",
      path,
    ];
  }
  return cached;
}

/** Entry files of the single-file form, relative to its extracted directory. */
const UNIT_ENTRIES = [
  "/tools/bundle_entry.js",
  "/core/shim/entry.js",
  "/core/runtime/init_entry.js",
];

/**
 * The extracted directory of the single-file form: set by its loader, or
 * found from the main module when a shim or init runs its entry file directly.
 */
function unitsDir(): string | undefined {
  const set = (globalThis as { __berthUnits?: string }).__berthUnits;
  if (set) return set;
  const m = Deno.mainModule;
  if (!m.startsWith("file://")) return undefined;
  const e = UNIT_ENTRIES.find((e) => m.endsWith(e));
  return e ? decodeURIComponent(new URL(m).pathname).slice(0, -e.length) : undefined;
}

/**
 * In the single-file form (tools/bundle.ts), the path of one of its extracted
 * module files (e.g. "core/shim/entry.js"), if it is there; else undefined.
 */
export function bundleUnit(rel: string): string | undefined {
  const dir = unitsDir();
  if (!dir) return undefined;
  const path = `${dir}/${rel}`;
  try {
    Deno.statSync(path);
    return path;
  } catch {
    return undefined; // cache cleaned under us: `berth shim` re-extracts
  }
}

/** Full argv to re-exec self with the given arguments. */
export function selfArgv(args: string[]): string[] {
  return [...selfPrefix(), ...args];
}
