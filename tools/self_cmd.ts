/**
 * argv that runs berth from this checkout (for tools/, which are not berth
 * itself and so cannot use core/sys/self.ts's view of the main module).
 *
 * `BERTH_SELF=<file>` makes tests, benchmarks and `task up` run a built form
 * instead of main.ts: a single file (`*.js`, tools/bundle.ts) under
 * `deno run`, or a compiled binary (`deno task compile`) run directly — e.g.
 * `BERTH_SELF=dist/berth.js deno test -A tests/containers_lifecycle_test.ts`
 * (docs/shipping.md).
 * @module
 */
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** argv that runs berth from source (`deno run main.ts`), whatever BERTH_SELF says. */
export function sourceArgvFor(args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", "--no-check", MAIN, ...args];
}

/** argv that runs berth: the built form BERTH_SELF names, else main.ts. */
export function selfArgvFor(args: string[]): string[] {
  let file = Deno.env.get("BERTH_SELF");
  if (!file) return sourceArgvFor(args);
  if (!file.startsWith("/")) file = `${Deno.cwd()}/${file}`;
  return file.endsWith(".js") ? bundleArgvFor(file, args) : [file, ...args];
}

/** argv that runs berth from a built single file (tools/bundle.ts), as users do. */
export function bundleArgvFor(file: string, args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", file, ...args];
}
