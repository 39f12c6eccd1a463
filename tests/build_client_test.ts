/**
 * `berth build` client paths: context from a directory, a tar on stdin, a
 * Dockerfile on stdin, an http URL of a tar (loopback); `-f -` and -f
 * outside the context; -q, --iidfile, --label, --target, `image build`;
 * .dockerignore on the client side; history and intermediate images.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { berthCmd, run, startDaemon } from "./fixtures/daemon.ts";
import { inspect, runIn } from "./fixtures/dockerfiles/_harness.ts";

Deno.test({
  name: "build client: contexts, flags, output",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const img = await busyboxArchive();
    const d = await startDaemon();
    const ac = new AbortController();
    try {
      assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
      const ctx = await Deno.makeTempDir({ dir: d.base, prefix: "client-" });
      await Deno.writeTextFile(`${ctx}/f.txt`, "from-context\n");
      await Deno.writeTextFile(`${ctx}/Dockerfile`, "FROM busybox\nCOPY f.txt /\n");
      const tarPath = `${d.base}/ctx.tar`;
      assertEquals((await run(["tar", "-cf", tarPath, "-C", ctx, "."])).code, 0);
      const tarBytes = await Deno.readFile(tarPath);

      await t.step("tar on stdin", async () => {
        const r = await d.berth(["build", "-t", "stdin-tar", "-"], { stdin: tarBytes });
        assertEquals(r.code, 0, r.stderr);
        const res = await runIn(d, "stdin-tar", "cat /f.txt; echo OK");
        assertStringIncludes(res.stdout, "from-context");
      });

      await t.step("Dockerfile on stdin, no context", async () => {
        const r = await d.berth(["build", "-t", "stdin-df", "-"], {
          stdin: "FROM busybox\nRUN echo no-context > /n\n",
        });
        assertEquals(r.code, 0, r.stderr);
        assertStringIncludes((await runIn(d, "stdin-df", "cat /n")).stdout, "no-context");
      });

      await t.step("-f - with a context dir; -f outside the context", async () => {
        let r = await d.berth(["build", "-q", "-f", "-", ctx], {
          stdin: "FROM busybox\nCOPY f.txt /g.txt\n",
        });
        assertEquals(r.code, 0, r.stderr);
        assertMatch(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
        const outside = `${d.base}/elsewhere.Dockerfile`;
        await Deno.writeTextFile(outside, "FROM busybox\nCOPY f.txt /h.txt\n");
        r = await d.berth(["build", "-t", "outside", "-f", outside, ctx]);
        assertEquals(r.code, 0, r.stderr);
        assertStringIncludes((await runIn(d, "outside", "cat /h.txt")).stdout, "from-context");
      });

      await t.step("URL of a tar on loopback", async () => {
        const server = Deno.serve(
          { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
          () => new Response(tarBytes),
        );
        const r = await d.berth([
          "build",
          "-t",
          "url-ctx",
          `http://127.0.0.1:${server.addr.port}/ctx.tar`,
        ]);
        assertEquals(r.code, 0, r.stderr);
        assertStringIncludes((await runIn(d, "url-ctx", "cat /f.txt")).stdout, "from-context");
      });

      await t.step("-q, --iidfile, --label, --target, image build", async () => {
        const c2 = await Deno.makeTempDir({ dir: d.base, prefix: "multi-" });
        await Deno.writeTextFile(
          `${c2}/Dockerfile`,
          "FROM busybox AS one\nRUN echo one > /one\nFROM one AS two\nRUN echo two > /two\nFROM two\nRUN exit 5\n",
        );
        const iid = `${d.base}/iid.txt`;
        let r = await d.berth([
          "image",
          "build",
          "--target",
          "two",
          "--label",
          "x=1",
          "--label",
          "y=two words",
          "--iidfile",
          iid,
          "-t",
          "tgt:two",
          c2,
        ]);
        assertEquals(r.code, 0, r.stderr);
        assertStringIncludes(r.stdout, "Step 5/5 : LABEL");
        assert(!r.stdout.includes("exit 5"));
        const info = await inspect(d, "tgt:two");
        assertEquals(info.Id, (await Deno.readTextFile(iid)).trim());
        assertEquals(info.Config.Labels, { x: "1", y: "two words" });
        r = await d.berth(["build", "-q", c2]);
        assertEquals(r.code, 5);
        assertEquals(r.stdout, "");
        assertStringIncludes(r.stderr, "returned a non-zero code: 5");
      });

      await t.step("client .dockerignore: exceptions inside excluded dirs", async () => {
        const c3 = await Deno.makeTempDir({ dir: d.base, prefix: "ign-" });
        await Deno.mkdir(`${c3}/vendor/keep`, { recursive: true });
        await Deno.writeTextFile(`${c3}/vendor/drop.txt`, "x");
        await Deno.writeTextFile(`${c3}/vendor/keep/me.txt`, "x");
        await Deno.writeTextFile(`${c3}/.dockerignore`, "vendor\n!vendor/keep\n*.Dockerfile\n");
        await Deno.writeTextFile(`${c3}/build.Dockerfile`, "FROM busybox\nCOPY . /c/\n");
        const r = await d.berth(["build", "-t", "ign", "-f", `${c3}/build.Dockerfile`, c3]);
        assertEquals(r.code, 0, r.stderr);
        const res = await runIn(d, "ign", "cd /c && find . | sort");
        assertStringIncludes(res.stdout, "./vendor/keep/me.txt");
        assert(!res.stdout.includes("drop.txt"), res.stdout);
        assert(!res.stdout.includes("build.Dockerfile"), res.stdout);
        // Not excluded by itself, so Docker sends and keeps it.
        assertStringIncludes(res.stdout, "./.dockerignore");
      });

      await t.step(
        "a missing base is pulled; a built image pushes and pulls back (loopback registry)",
        async () => {
          const port = 20000 + Math.floor(Math.random() * 20000);
          const reg = new Deno.Command(berthCmd([])[0], {
            args: [
              ...berthCmd([]).slice(1),
              "registry",
              "--addr",
              `127.0.0.1:${port}`,
              "--root",
              `${d.base}/registry`,
              "--quiet",
            ],
            stdout: "null",
            stderr: "null",
          }).spawn();
          try {
            const name = `127.0.0.1:${port}/base/bb:1`;
            for (let i = 0; i < 100; i++) {
              if (
                await fetch(`http://127.0.0.1:${port}/v2/`).then(
                  (r) => r.body?.cancel(),
                  () => "x",
                ) !== "x"
              ) break;
              await new Promise((r) => setTimeout(r, 50));
            }
            assertEquals((await d.berth(["tag", "busybox", name])).code, 0);
            let r = await d.berth(["push", name]);
            assertEquals(r.code, 0, r.stderr);
            assertEquals((await d.berth(["rmi", name])).code, 0);
            const c4 = await Deno.makeTempDir({ dir: d.base, prefix: "pull-" });
            await Deno.writeTextFile(`${c4}/Dockerfile`, `FROM ${name}\nRUN echo pulled > /p\n`);
            r = await d.berth(["build", "-t", "pulled", c4]);
            assertEquals(r.code, 0, r.stderr);
            assertStringIncludes(r.stdout, "Pulling from base/bb");
            assertStringIncludes((await runIn(d, "pulled", "cat /p")).stdout, "pulled");
            // The built image pushes, and comes back from the registry intact.
            const built = `127.0.0.1:${port}/built/img:1`;
            assertEquals((await d.berth(["tag", "pulled", built])).code, 0);
            r = await d.berth(["push", built]);
            assertEquals(r.code, 0, r.stderr);
            const id = (await inspect(d, built)).Id;
            assertEquals((await d.berth(["rmi", "-f", id])).code, 0);
            r = await d.berth(["pull", built]);
            assertEquals(r.code, 0, r.stderr);
            assertEquals((await inspect(d, built)).Id, id);
            assertStringIncludes((await runIn(d, built, "cat /p")).stdout, "pulled");
          } finally {
            reg.kill("SIGTERM");
            await reg.status;
          }
        },
      );

      await t.step("history and intermediate images", async () => {
        let r = await d.berth(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "outside"]);
        assertEquals(r.code, 0, r.stderr);
        assertMatch(
          r.stdout.split("\n")[0],
          /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/h.txt $/,
        );
        r = await d.berth(["images", "-a", "-q"]);
        const all = r.stdout.trim().split("\n").length;
        r = await d.berth(["images", "-q"]);
        assert(
          all > r.stdout.trim().split("\n").length,
          "intermediate images are hidden by default",
        );
      });
    } finally {
      ac.abort();
      await d.stop();
    }
  },
});
