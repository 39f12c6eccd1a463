/**
 * argv that runs berth from this checkout (for tools/, which are not berth
 * itself and so cannot use core/sys/self.ts's view of the main module).
 * @module
 */
const MAIN = new URL("../main.ts", import.meta.url).pathname;

export function selfArgvFor(args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", "--no-check", MAIN, ...args];
}

/** argv that runs berth from a built single file (tools/bundle.ts), as users do. */
export function bundleArgvFor(file: string, args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", file, ...args];
}
