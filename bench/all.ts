/**
 * Run every side-by-side benchmark in turn (each prints medians and ratios;
 * record them in bench/RESULTS.md). Installs podman/wrk/hyperfine if missing.
 *
 *   deno task bench
 * @module
 */
import { BENCH_PACKAGES, ensurePackages, TEST_PACKAGES } from "../tools/deps.ts";

await ensurePackages([...TEST_PACKAGES, ...BENCH_PACKAGES]);
const scripts = [
  ["load_bench.ts", "7"],
  ["pull_bench.ts", "7"],
  ["registry_bench.ts"],
  ["run_bench.ts", "7"],
  ["bundle_bench.ts", "7"],
  ["net_bench.ts", "7", "2"],
  ["build_bench.ts", "5"],
  ["cp_bench.ts", "5"],
];
let code = 0;
for (const [script, ...args] of scripts) {
  console.log(`\n=== bench/${script} ${args.join(" ")}`);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(script, import.meta.url).pathname, ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!r.success) code = 1;
}
Deno.exit(code);
