/**
 * Type-check every TypeScript file of the tree (product, tests, bench,
 * tools), not only what `main.ts` reaches: the personalities are imported by
 * computed path (core/sys/lazy.ts), so `deno check main.ts` alone sees two
 * files. dist/, node_modules/, dot-directories and deno.json's top-level
 * "exclude" are left out.
 *
 *   deno task check                 # this tree; exit 1 on a type error
 *
 * tools/run_tests.ts runs it before any test.
 * @module
 */

const SKIP_DIRS = new Set(["dist", "node_modules"]);
const EXT = /\.(?:ts|tsx|mts|cts)$/;

/** deno.json's top-level "exclude" (paths relative to the root; "dir/" for a directory). */
function configExcludes(root: string): string[] {
  try {
    const cfg = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
    return (cfg.exclude ?? []).map((p: string) => p.replace(/^\.\//, "").replace(/\/+$/, ""));
  } catch {
    return []; // no deno.json (or not JSON): nothing excluded beyond SKIP_DIRS
  }
}

/** The files to check under `root`, relative to it, sorted. */
export function treeFiles(root: string): string[] {
  const out: string[] = [];
  const excluded = configExcludes(root);
  const skip = (path: string) => excluded.some((x) => path === x || path.startsWith(`${x}/`));
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(rel ? `${root}/${rel}` : root)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (skip(path)) continue;
      if (e.isDirectory) {
        if (!e.name.startsWith(".") && !SKIP_DIRS.has(e.name)) walk(path);
      } else if (e.isFile && EXT.test(e.name)) {
        out.push(path);
      }
    }
  };
  walk("");
  return out.sort();
}

export interface CheckResult {
  ok: boolean;
  files: number;
  /** deno check's output (diagnostics), empty when clean */
  output: string;
}

/** `deno check` all of treeFiles(root) in one program (one pass, shared cache). */
export async function typecheck(root: string): Promise<CheckResult> {
  const files = treeFiles(root);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", ...files],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return {
    ok: r.success,
    files: files.length,
    output: (dec.decode(r.stdout) + dec.decode(r.stderr)).trim(),
  };
}

if (import.meta.main) {
  const root = Deno.args[0] ?? new URL("../", import.meta.url).pathname;
  const r = await typecheck(root);
  if (r.output) console.error(r.output);
  console.error(`type check: ${r.files} files, ${r.ok ? "clean" : "FAILED"}`);
  Deno.exit(r.ok ? 0 : 1);
}
