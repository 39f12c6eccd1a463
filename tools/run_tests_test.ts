/**
 * The test command itself: its whole-tree type check catches a type error in
 * a module nothing imports literally, and its closing line counts skips.
 * @module
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { skipUnless } from "../core/testing/host.ts";
import { counts } from "./run_tests.ts";
import { treeFiles } from "./typecheck.ts";
import { DAEMON_PACKAGES, DAEMON_TOOLS, TEST_PACKAGES } from "./deps.ts";

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("typecheck: the file set is the whole tree, lazily loaded personalities included", () => {
  const files = treeFiles(REPO);
  for (
    const f of [
      "main.ts",
      "modes/registry/gc.ts",
      "modes/daemon/serve.ts",
      "core/shim/main.ts",
      "tests/fixtures/daemon.ts",
      "bench/all.ts",
      "tools/up.ts",
    ]
  ) assert(files.includes(f), `${f} not in the type-checked set`);
  assert(!files.some((f) => f.startsWith("dist/") || f.includes("node_modules/")));
});

Deno.test("task test: a type error in modes/registry/gc.ts fails it before any test runs", async () => {
  const copy = await Deno.makeTempDir({ prefix: "berth-tc-" });
  try {
    for (const f of [...treeFiles(REPO), "deno.json", "deno.lock"]) {
      const dst = `${copy}/${f}`;
      await Deno.mkdir(dst.slice(0, dst.lastIndexOf("/")), { recursive: true });
      await Deno.copyFile(`${REPO}/${f}`, dst);
    }
    // gc.ts is reached only through modes/registry/main.ts, itself loaded by computed path.
    await Deno.writeTextFile(
      `${copy}/modes/registry/gc.ts`,
      '\nexport const injected: number = "not a number";\n',
      { append: true },
    );
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${copy}/tools/run_tests.ts`, "--check-only"],
      cwd: copy,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    const err = new TextDecoder().decode(r.stderr);
    assertEquals(r.code, 1, out + err);
    assert(err.includes("TS2322"), err);
    assert(err.includes(`${copy}/modes/registry/gc.ts:`), err);
    // Exactly the injected error: the rest of the copy is clean.
    assertEquals(err.match(/^TS\d+ \[ERROR\]/gm)?.length, 1, err);
    assertEquals(out.trim().split("\n").at(-1), "0 passed, 1 failed, 0 skipped");
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

Deno.test("task test: the closing line counts deno test's ignored tests as skipped", () => {
  const text = [
    "ok | 12 passed (3 steps) | 0 failed | 2 ignored (1 step) (4s)",
    "FAILED | 5 passed | 1 failed (2 steps) (2s)",
    "ok | 1 passed | 0 failed | 3 ignored | 4 filtered out (1ms)",
    "ok | 1 passed (1 step) | 0 failed | 0 ignored (1 step) (21ms)",
  ].join("\n");
  assertEquals(counts(text), { passed: 19, failed: 1, skipped: 7 });
});

Deno.test("deps: every program the product spawns comes from a DAEMON_PACKAGES package", async () => {
  // Literal spawns in the product (tests, test data and benches aside).
  const product = treeFiles(REPO).filter((f) =>
    /^(core|modes)\//.test(f) && !/(_test|testutil|_bench|\/bench)\.ts$/.test(f) &&
    !f.includes("/testdata/")
  );
  const spawned = new Set<string>();
  for (const f of product) {
    const text = await Deno.readTextFile(`${REPO}/${f}`);
    for (const m of text.matchAll(/(?:new Deno\.Command|runCmd)\(\s*"([^"]+)"/g)) spawned.add(m[1]);
  }
  assert(spawned.has("ip") && spawned.has("mount"), [...spawned].join(" "));
  for (const t of spawned) assert(t in DAEMON_TOOLS, `${t} is spawned but not in DAEMON_TOOLS`);
  for (const [tool, pkg] of Object.entries(DAEMON_TOOLS)) {
    assert(DAEMON_PACKAGES.includes(pkg), `${tool}: ${pkg} not in DAEMON_PACKAGES`);
  }
  assert(DAEMON_PACKAGES.every((p) => TEST_PACKAGES.includes(p)));
  // And dpkg agrees on who ships each tool (merged /usr: ask for both paths).
  const dpkg = await new Deno.Command("dpkg", { args: ["--version"], stdout: "null" }).output()
    .then((r) => r.success, () => false);
  if (skipUnless("deps: dpkg -S of each tool", dpkg ? undefined : "no dpkg here")) return;
  // Each tool's paths, and what they resolve to (iptables is an alternatives symlink).
  const pathsOf = (tool: string) =>
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].flatMap((d) => {
      const p = `${d}/${tool}`;
      try {
        const real = Deno.realPathSync(p);
        return [p, real, real.replace(/^\/usr\//, "/")];
      } catch {
        return [p];
      }
    });
  const all = Object.keys(DAEMON_TOOLS).flatMap(pathsOf);
  const r = await new Deno.Command("dpkg", {
    args: ["-S", ...all],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  const owner = new Map<string, string[]>(); // path → packages ("a, b: /path")
  for (const line of new TextDecoder().decode(r.stdout).split("\n")) {
    const i = line.indexOf(": ");
    if (i > 0) owner.set(line.slice(i + 2), line.slice(0, i).split(", "));
  }
  for (const [tool, pkg] of Object.entries(DAEMON_TOOLS)) {
    const owners = pathsOf(tool).flatMap((p) => owner.get(p) ?? []);
    assert(
      owners.includes(pkg),
      `${tool}: dpkg says ${owners.join(",") || "no package"}, not ${pkg}`,
    );
  }
});
