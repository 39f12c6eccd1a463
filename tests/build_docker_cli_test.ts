/**
 * The stock docker CLI (`DOCKER_BUILDKIT=0 docker build`, legacy builder
 * protocol) builds the whole corpus through `berth daemon`, plus the CLI's
 * own paths: -f outside the context, stdin Dockerfile, -q, --iidfile,
 * --target, --label, and a failing RUN's exit code.
 */
import { binaryMissing, skipUnless } from "../core/testing/host.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon } from "./fixtures/daemon.ts";
import { build, CASES, inspect, runCase } from "./fixtures/dockerfiles/_harness.ts";

Deno.test({
  name: "docker CLI (legacy builder) builds the corpus through berth",
  ignore: skipUnless("docker CLI (legacy builder) builds the corpus", binaryMissing("docker")),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const img = await busyboxArchive();
    const d = await startDaemon();
    try {
      assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
      for (const name of CASES) await t.step(name, () => runCase(d, name, { docker: true }));

      await t.step(
        "CLI paths: -f, stdin, -q, --iidfile, --target, --label, exit code",
        async () => {
          const ctx = await Deno.makeTempDir({ dir: d.base, prefix: "cli-" });
          await Deno.writeTextFile(`${ctx}/f.txt`, "f\n");
          const outside = `${d.base}/Outside.Dockerfile`;
          await Deno.writeTextFile(
            outside,
            "FROM busybox AS first\nCOPY f.txt /\nFROM first AS second\nRUN cat /f.txt\nFROM second\nRUN exit 9\n",
          );
          // -f outside the context, --target stops before the failing stage.
          let r = await build(d, ctx, [
            "-f",
            outside,
            "--target",
            "second",
            "-t",
            "cli:second",
            "--label",
            "a=b",
            "--iidfile",
            `${d.base}/iid`,
          ], { docker: true });
          assertEquals(r.code, 0, r.stderr);
          const iid = (await Deno.readTextFile(`${d.base}/iid`)).trim();
          assertMatch(iid, /^sha256:[0-9a-f]{64}$/);
          const info = await inspect(d, "cli:second");
          assertEquals(info.Id, iid);
          assertEquals(info.Config.Labels, { a: "b" });
          // The failing RUN: its exit code is the CLI's exit code.
          r = await build(d, ctx, ["-f", outside], { docker: true });
          assertEquals(r.code, 9, r.stderr);
          assertStringIncludes(
            r.stderr,
            "The command '/bin/sh -c exit 9' returned a non-zero code: 9",
          );
          // Dockerfile on stdin, -q prints only the ID.
          r = await build(d, ctx, ["-q", "-f", "-"], {
            docker: true,
            stdin: "FROM busybox\nCOPY f.txt /g.txt\n",
          });
          assertEquals(r.code, 0, r.stderr);
          assertMatch(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
          // A parse error is reported with its line.
          r = await build(d, ctx, ["-f", "-"], { docker: true, stdin: "FROM busybox\nNOPE x\n" });
          assertEquals(r.code, 1);
          assertStringIncludes(r.stderr, ":2: unknown instruction: NOPE");
          assert(!r.stderr.includes("    at "));
        },
      );
    } finally {
      await d.stop();
    }
  },
});
