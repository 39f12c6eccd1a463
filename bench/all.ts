/**
 * Run every side-by-side benchmark in turn (each prints medians and ratios;
 * record them in bench/RESULTS.md). Installs podman/wrk/hyperfine if missing.
 *
 * Each script runs once per form of berth (tools/self_cmd.ts BERTH_SELF):
 * `source` (`deno run main.ts`), `bundle` (the single file users install,
 * built here by tools/bundle.ts) and `compiled` (`deno task compile`; skipped,
 * with a line saying so, where `deno compile` cannot fetch its runtime).
 * bundle_bench.ts compares the forms itself and runs once.
 *
 *   deno task bench [--forms=source,bundle,compiled] [script.ts …]
 * @module
 */
import { BENCH_PACKAGES, ensurePackages, TEST_PACKAGES } from "../tools/deps.ts";
import { bundle } from "../tools/bundle.ts";

await ensurePackages([...TEST_PACKAGES, ...BENCH_PACKAGES]);
const formsArg = Deno.args.find((a) => a.startsWith("--forms="));
const forms = (formsArg?.slice(8) ?? "source,bundle,compiled").split(",");
const only = Deno.args.filter((a) => a.endsWith(".ts"));
const scripts = [
  ["load_bench.ts", "7"],
  ["pull_bench.ts", "7"],
  ["registry_bench.ts"],
  ["run_bench.ts", "7"],
  ["bundle_bench.ts", "7"],
  ["net_bench.ts", "7", "2"],
  ["build_bench.ts", "5"],
  ["cp_bench.ts", "5"],
].filter(([s]) => !only.length || only.includes(s));

const tmp = await Deno.makeTempDir({ prefix: "berth-bench-forms-" });
/** form → BERTH_SELF (undefined: from source). */
const selves: [string, string | undefined][] = [];
if (forms.includes("source")) selves.push(["source", undefined]);
if (forms.includes("bundle")) {
  await bundle(`${tmp}/berth.js`);
  selves.push(["bundle", `${tmp}/berth.js`]);
}
if (forms.includes("compiled")) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile"],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const bin = new URL("../dist/berth", import.meta.url).pathname;
  if (r.success) selves.push(["compiled", bin]);
  else console.log("\n=== compiled form skipped: `deno task compile` failed (offline?)");
}

let code = 0;
try {
  for (const [script, ...args] of scripts) {
    const runs: [string, string | undefined][] = script === "bundle_bench.ts"
      ? [["all forms", undefined]]
      : selves;
    for (const [form, self] of runs) {
      console.log(`\n=== bench/${script} ${args.join(" ")}   [berth: ${form}]`);
      const env: Record<string, string> = {};
      if (self) env.BERTH_SELF = self;
      if (form === "bundle") env.XDG_CACHE_HOME = `${tmp}/cache`; // its extracted chunks
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL(script, import.meta.url).pathname, ...args],
        env,
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (!r.success) code = 1;
    }
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}
Deno.exit(code);
