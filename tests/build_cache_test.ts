/**
 * The build cache: a rebuild with nothing changed runs no step (fast, same
 * ID), changing one file re-runs only from its COPY on, mtime-only changes
 * stay cached, mode changes do not, build args in effect are part of RUN's
 * key, --no-cache bypasses, and the cache survives a daemon restart.
 */
import { assert, assertEquals, assertNotEquals } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon } from "./fixtures/daemon.ts";

const count = (s: string, sub: string) => s.split(sub).length - 1;
const idOf = (s: string) => /Successfully built ([0-9a-f]{12})/.exec(s)?.[1];

Deno.test({
  name: "build cache: hits, partial rebuilds, --no-cache, restart",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const img = await busyboxArchive();
    const d = await startDaemon();
    try {
      assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
      const ctx = await Deno.makeTempDir({ dir: d.base, prefix: "cache-" });
      await Deno.writeTextFile(`${ctx}/a.txt`, "a\n");
      await Deno.writeTextFile(`${ctx}/b.txt`, "b\n");
      await Deno.writeTextFile(
        `${ctx}/Dockerfile`,
        'FROM busybox\nARG V=1\nCOPY a.txt /\nRUN cat /a.txt > /a2\nCOPY b.txt /\nRUN echo $V > /v\nCMD ["sh"]\n',
      );
      const b = (...args: string[]) => d.berth(["build", ...args, ctx]);

      let r = await b("-t", "cached");
      assertEquals(r.code, 0, r.stderr);
      assertEquals(count(r.stdout, "Using cache"), 0);
      assertEquals(count(r.stdout, "Running in"), 2);
      const first = idOf(r.stdout);

      // Nothing changed: every step from the cache, same image. (How quick is a figure of
      // bench/build_bench.ts, not an assertion here: a loaded machine makes any bound flaky.)
      const t0 = performance.now();
      r = await b("-t", "cached");
      const wall = (performance.now() - t0) / 1000;
      assertEquals(r.code, 0, r.stderr);
      assertEquals(count(r.stdout, "Using cache"), 6);
      assertEquals(count(r.stdout, "Running in"), 0);
      assertEquals(idOf(r.stdout), first);
      console.log(`fully cached rebuild (client process wall): ${wall.toFixed(3)} s`);

      // Only the mtime changes: still cached.
      await Deno.utime(`${ctx}/a.txt`, 1, 1);
      r = await b();
      assertEquals(count(r.stdout, "Using cache"), 6, r.stdout);

      // b.txt changes: steps up to its COPY are cached, the rest re-run.
      await Deno.writeTextFile(`${ctx}/b.txt`, "b2\n");
      r = await b();
      assertEquals(r.code, 0, r.stderr);
      assertEquals(count(r.stdout, "Using cache"), 3, r.stdout);
      assertEquals(count(r.stdout, "Running in"), 1);
      const second = idOf(r.stdout);
      assertNotEquals(second, first);

      // a.txt's mode changes: re-run from the first COPY.
      await Deno.chmod(`${ctx}/a.txt`, 0o600);
      r = await b();
      assertEquals(count(r.stdout, "Using cache"), 1, r.stdout); // ARG only
      assertEquals(count(r.stdout, "Running in"), 2);

      // A build arg in effect changes RUN's key (and only from where it is used).
      r = await b("--build-arg", "V=2");
      assertEquals(r.code, 0, r.stderr);
      assertEquals(count(r.stdout, "Running in"), 2, r.stdout); // ARG's value changes the chain
      r = await b("--build-arg", "V=2");
      assertEquals(count(r.stdout, "Running in"), 0);

      // --no-cache runs everything and gives a new image.
      r = await b("--no-cache", "-t", "nocache");
      assertEquals(r.code, 0, r.stderr);
      assertEquals(count(r.stdout, "Using cache"), 0);
      assertEquals(count(r.stdout, "Running in"), 2);

      // Persisted: after a restart the cache still hits.
      await d.stopDaemon();
      await d.restart();
      r = await b();
      assertEquals(r.code, 0, r.stderr);
      assertEquals(count(r.stdout, "Running in"), 0, r.stdout);
      assert([...Deno.readDirSync(`${d.root}/build-cache`)].length > 0);

      // A cache entry whose image was removed is a miss, not an error.
      r = await d.berth(["rmi", "-f", "cached"]);
      assertEquals(r.code, 0, r.stderr);
      r = await b("--build-arg", "V=3");
      assertEquals(r.code, 0, r.stderr);
    } finally {
      await d.stop();
    }
  },
});
