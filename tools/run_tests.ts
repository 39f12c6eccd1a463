/**
 * The whole test suite: installs missing Debian packages, caches npm deps,
 * runs unit tests (core/, modes/) then end-to-end tests (tests/), and ends
 * with one line "N passed, N failed". Exit code 1 when anything failed.
 *
 *   deno task test                 # everything
 *   deno task test tests/images_test.ts   # only these files
 * @module
 */
import { ensurePackages, TEST_PACKAGES } from "./deps.ts";

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

function counts(text: string): { passed: number; failed: number } {
  let passed = 0, failed = 0;
  for (
    const m of text.matchAll(/^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/gm)
  ) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return { passed, failed };
}

const started = Date.now();
await ensurePackages(TEST_PACKAGES);
const install = await deno(["install", "--quiet"], false);
if (install.code !== 0) Deno.exit(install.code);

const only = Deno.args.filter((a) => !a.startsWith("-"));
const suites = only.length ? [only] : [["core/", "modes/"], ["tests/"]];
let passed = 0, failed = 0, code = 0;
for (const paths of suites) {
  const r = await deno(["test", "-A", "--no-check", ...paths], true);
  const c = counts(r.text);
  passed += c.passed;
  failed += c.failed;
  if (r.code !== 0) {
    code = 1;
    if (c.failed === 0) failed++; // a suite that died without counting
  }
}
console.log(`\nberth test suite: ${((Date.now() - started) / 1000).toFixed(1)}s`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(code);
