/**
 * The bad-Dockerfile corpus (tests/fixtures/dockerfiles/bad/*.Dockerfile):
 * each fails with the error named in its `# expect:` line — file and line
 * number included — and the exit code of its `# code:` line (default 1),
 * never a stack trace; the daemon keeps serving. Also bad options.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { run, startDaemon } from "./fixtures/daemon.ts";
import { http1 } from "../modes/client/http1.ts";
import { CORPUS } from "./fixtures/dockerfiles/_harness.ts";

const BAD = `${CORPUS}/bad`;

Deno.test({
  name: "build errors: every bad Dockerfile gets a clear error with its line",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const img = await busyboxArchive();
    const d = await startDaemon();
    try {
      assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
      const files = [...Deno.readDirSync(BAD)].filter((e) => e.name.endsWith(".Dockerfile"))
        .map((e) => e.name).sort();
      assert(files.length >= 40, `only ${files.length} bad cases`);
      for (const f of files) {
        await t.step(f.replace(/\.Dockerfile$/, ""), async () => {
          const text = await Deno.readTextFile(`${BAD}/${f}`);
          const want = /^# expect: (.*)$/m.exec(text)?.[1];
          const code = Number(/^# code: (\d+)$/m.exec(text)?.[1] ?? "1");
          assert(want, `${f} has no # expect: line`);
          const ctx = await Deno.makeTempDir({ dir: d.base, prefix: "bad-" });
          for (const n of ["a", "b"]) await Deno.copyFile(`${BAD}/${n}`, `${ctx}/${n}`);
          await Deno.writeTextFile(`${ctx}/Dockerfile`, text);
          const r = await d.berth(["build", ctx], { timeoutMs: 60_000 });
          assertEquals(r.code, code, `${f}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
          assertStringIncludes(r.stderr, want);
          assert(!/\n\s+at /.test(r.stderr), `stack trace in ${r.stderr}`);
        });
      }
      // Bad options.
      const ctx = await Deno.makeTempDir({ dir: d.base, prefix: "opts-" });
      await Deno.writeTextFile(`${ctx}/Dockerfile`, "FROM busybox AS one\nRUN true\n");
      let r = await d.berth(["build", "--target", "nope", ctx]);
      assertEquals(r.code, 1);
      assertStringIncludes(r.stderr, "failed to reach build target nope in Dockerfile");
      r = await d.berth(["build", "-t", "Bad:Tag", ctx]);
      assertEquals(r.code, 1);
      assertStringIncludes(r.stderr, "invalid reference format");
      r = await d.berth(["build", "-f", "missing.Dockerfile", ctx]);
      assertEquals(r.code, 1);
      assertStringIncludes(r.stderr, "missing.Dockerfile");
      r = await d.berth(["build", `${ctx}/nowhere`]);
      assertEquals(r.code, 1);
      assertStringIncludes(r.stderr, "unable to prepare context");
      r = await d.berth(["build", "--network", "weird", ctx]);
      assertEquals(r.code, 1);
      assertStringIncludes(r.stderr, "network mode weird");
      r = await d.berth(["build"]);
      assertEquals(r.code, 1);
      assertStringIncludes(r.stderr, "requires exactly 1 argument");
      // Errors before the first output line are the HTTP status, with
      // dockerd's words (moby integration/build TestBuildWithEmptyDockerfile).
      for (
        const [text, want] of [
          ["", "the Dockerfile (Dockerfile) cannot be empty"],
          ["\n\n   \n", "failed to parse Dockerfile: file with no instructions"],
          ["# this is a comment", "failed to parse Dockerfile: file with no instructions"],
        ]
      ) {
        const dir = await Deno.makeTempDir({ dir: d.base, prefix: "empty-" });
        await Deno.writeTextFile(`${dir}/Dockerfile`, text);
        const tar = (await run(["tar", "-cf", "-", "-C", dir, "Dockerfile"])).out;
        const res = await http1(d.socket, "POST", "/v1.41/build", {
          "Content-Type": "application/x-tar",
        }, tar);
        assertEquals(
          [res.status, JSON.parse(new TextDecoder().decode(res.body)).message],
          [400, want],
        );
      }
      // A bad platform is refused up front (moby TestBuildPlatformInvalid).
      {
        const dir = await Deno.makeTempDir({ dir: d.base, prefix: "plat-" });
        await Deno.writeTextFile(`${dir}/Dockerfile`, "FROM busybox\n");
        const tar = (await run(["tar", "-cf", "-", "-C", dir, "Dockerfile"])).out;
        const res = await http1(d.socket, "POST", "/v1.41/build?platform=foobar", {
          "Content-Type": "application/x-tar",
        }, tar);
        assertEquals([res.status, JSON.parse(new TextDecoder().decode(res.body)).message], [
          400,
          '"foobar": unknown operating system or architecture: invalid argument',
        ]);
      }
      // Context entries "../foo" and "/bar" land at the top, as in dockerd's
      // chroot (moby TestBuildUncleanTarFilenames).
      {
        const dir = await Deno.makeTempDir({ dir: d.base, prefix: "unclean-" });
        await Deno.mkdir(`${dir}/in`);
        await Deno.writeTextFile(`${dir}/in/Dockerfile`, "FROM busybox\nCOPY foo bar /\n");
        await Deno.writeTextFile(`${dir}/foo`, "foo0");
        await Deno.writeTextFile(`${dir}/bar`, "bar0");
        const tar = (await run([
          "tar",
          "-cf",
          "-",
          "-P",
          "-C",
          `${dir}/in`,
          "Dockerfile",
          "../foo",
          `${dir}/bar`,
          "--transform",
          `s|^${dir}/bar|/bar|`,
        ])).out;
        const res = await http1(d.socket, "POST", "/v1.41/build?t=unclean", {
          "Content-Type": "application/x-tar",
        }, tar);
        const text = new TextDecoder().decode(res.body);
        assertEquals(res.status, 200);
        assertStringIncludes(text, "Successfully tagged unclean:latest");
        const cat = await d.berth(["run", "--rm", "unclean", "cat", "/foo", "/bar"]);
        assertEquals(cat.stdout, "foo0bar0");
      }
      // The daemon is still fine, and nothing is left mounted or in build-tmp.
      assertEquals((await d.berth(["version"])).code, 0);
      const mounts = await Deno.readTextFile("/proc/self/mountinfo");
      assert(!mounts.includes(`${d.root}/build-tmp`), "a step mount was left behind");
      const left = [...Deno.readDirSync(`${d.root}/build-tmp`)];
      assertEquals(left.map((e) => e.name), []);
    } finally {
      await d.stop();
    }
  },
});
