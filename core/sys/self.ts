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

/** Full argv to re-exec self with the given arguments. */
export function selfArgv(args: string[]): string[] {
  return [...selfPrefix(), ...args];
}
