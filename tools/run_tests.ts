/**
 * The whole test suite: installs missing Debian packages, caches npm deps,
 * type-checks every .ts file of the tree (./typecheck.ts; a type error stops
 * here), runs unit tests (core/, modes/) then end-to-end tests (tests/), and
 * ends with one line "N passed, M failed, K skipped" (K: tests skipped because
 * the host lacks something, each with its reason printed). Exit code 1 when
 * anything failed.
 *
 *   deno task test                 # everything
 *   deno task test tests/images_test.ts   # type check, then only these files
 *   deno task test --check-only    # type check only (no packages, no tests)
 * @module
 */
import { ensurePackages, TEST_PACKAGES } from "./deps.ts";
import { typecheck } from "./typecheck.ts";

const root = new URL("../", import.meta.url).pathname;

async function deno(args: string[], capture: boolean): Promise<{ code: number; text: string }> {
  const p = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: capture ? "piped" : "inherit",
    stderr: capture ? "piped" : "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (!capture) return { code: (await p.status).code, text: "" };
  let text = "";
  const dec = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>, w: typeof Deno.stdout) => {
    for await (const c of s) {
      text += dec.decode(c, { stream: true });
      await w.write(c);
    }
  };
  await Promise.all([pump(p.stdout, Deno.stdout), pump(p.stderr, Deno.stderr)]);
  return { code: (await p.status).code, text };
}

/**
 * Totals of deno test's summary lines ("ok | 3 passed (2 steps) | 0 failed |
 * 1 ignored (1 step) (…)"); skipped counts ignored tests and ignored steps.
 */
export function counts(text: string): { passed: number; failed: number; skipped: number } {
  let passed = 0, failed = 0, skipped = 0;
  const steps = String.raw`(?: \(\d+ steps?\))?`;
  const re = new RegExp(
    String
      .raw`^(?:ok|FAILED) \| (\d+) passed${steps} \| (\d+) failed${steps}(?: \| (\d+) ignored(?: \((\d+) steps?\))?)?`,
    "gm",
  );
  for (const m of text.matchAll(re)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
    skipped += Number(m[3] ?? 0) + Number(m[4] ?? 0); // ignored tests and ignored steps
  }
  return { passed, failed, skipped };
}

async function checkTree(): Promise<void> {
  const t0 = Date.now();
  const r = await typecheck(root);
  if (r.output) console.error(r.output);
  console.log(`type check: ${r.files} files, ${r.ok ? "clean" : "FAILED"} (${Date.now() - t0} ms)`);
  if (!r.ok) {
    console.log("type errors: no tests run\n0 passed, 1 failed, 0 skipped");
    Deno.exit(1);
  }
}

async function runSuite(): Promise<void> {
  const started = Date.now();
  if (Deno.args.includes("--check-only")) {
    await checkTree();
    Deno.exit(0);
  }
  try {
    await ensurePackages(TEST_PACKAGES);
  } catch (e) {
    console.error(`task test: ${(e as Error).message}`);
    Deno.exit(1);
  }
  const install = await deno(["install", "--quiet"], false);
  if (install.code !== 0) Deno.exit(install.code);
  await checkTree();

  const only = Deno.args.filter((a) => !a.startsWith("-"));
  const suites = only.length ? [only] : [["core/", "modes/", "tools/"], ["tests/"]];
  let passed = 0, failed = 0, skipped = 0, code = 0;
  for (const paths of suites) {
    const r = await deno(["test", "-A", "--no-check", ...paths], true);
    const c = counts(r.text);
    passed += c.passed;
    failed += c.failed;
    skipped += c.skipped;
    if (r.code !== 0) {
      code = 1;
      if (c.failed === 0) failed++; // a suite that died without counting
    }
  }
  console.log(`\nberth test suite: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  Deno.exit(code);
}

if (import.meta.main) await runSuite();
