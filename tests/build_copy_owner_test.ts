/**
 * Owners and modes after COPY in the legacy builder, as Docker 20.10's:
 * `COPY --from` keeps the source's uid/gid (no --chown), `--chown` owns what
 * is copied, and the directories COPY creates on the way to the destination.
 * The same Dockerfile is built by berth and (when /usr/sbin/dockerd exists)
 * by Docker 20.10; EXPECTED was recorded from that Docker run.
 */
import { assertEquals } from "../core/testing/assert.ts";
import { expectCode } from "./containers_helpers.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon } from "./fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "./fixtures/dockerd.ts";

const PATHS = [
  "/f",
  "/t1",
  "/t1/b",
  "/t1/sub",
  "/t1/sub/c",
  "/t1/sub2",
  "/a",
  "/a/b",
  "/a/b/t2",
  "/a/b/t2/sub",
  "/a/b/t2/sub/c",
  "/n",
  "/n/m",
  "/n/m/f",
  "/c",
  "/c/d",
  "/c/d/t3",
  "/c/d/t3/b",
  "/c/d/t3/sub",
  "/c/d/t3/sub/c",
  "/c2",
  "/c2/d",
  "/c2/d/f",
  "/x",
  "/x/y",
  "/x/y/ctx",
  "/x/y/ctx/k",
  "/p",
  "/p/q",
  "/p/q/k",
  "/u",
  "/u/v",
  "/u/v/k",
];

const DOCKERFILE = `FROM busybox AS src
RUN mkdir -p /tree/sub /tree/sub2 && echo a > /f && chown 1000:1000 /f && chmod 640 /f \\
 && echo b > /tree/b && chown 1001:1002 /tree/b && echo c > /tree/sub/c && chown 5:6 /tree/sub/c \\
 && chown 1003:1004 /tree/sub && chmod 700 /tree/sub && chmod 711 /tree/sub2 \\
 && chown 1000:1000 /tree && chmod 750 /tree
FROM busybox
COPY --from=src /f /f
COPY --from=src /tree /t1
COPY --from=src /tree /a/b/t2
COPY --from=src /f /n/m/f
COPY --from=src --chown=2000:2000 /tree /c/d/t3
COPY --from=src --chown=2000:2000 /f /c2/d/f
COPY ctx /x/y/ctx
COPY ctx/k /p/q/
COPY --chown=3000:3000 ctx/k /u/v/
RUN stat -c 'STAT %u:%g %a %n' ${PATHS.join(" ")}
`;

/** Recorded from Docker 20.10.24 (Debian docker.io) (DOCKER_BUILDKIT=0, `docker build`). */
const EXPECTED = `1000:1000 640 /f
0:0 755 /t1
1001:1002 644 /t1/b
1003:1004 700 /t1/sub
5:6 644 /t1/sub/c
0:0 711 /t1/sub2
0:0 755 /a
0:0 755 /a/b
0:0 755 /a/b/t2
1003:1004 700 /a/b/t2/sub
5:6 644 /a/b/t2/sub/c
0:0 755 /n
0:0 755 /n/m
1000:1000 640 /n/m/f
0:0 755 /c
0:0 755 /c/d
2000:2000 755 /c/d/t3
2000:2000 644 /c/d/t3/b
2000:2000 700 /c/d/t3/sub
2000:2000 644 /c/d/t3/sub/c
2000:2000 755 /c2
2000:2000 755 /c2/d
2000:2000 640 /c2/d/f
0:0 755 /x
0:0 755 /x/y
0:0 755 /x/y/ctx
0:0 600 /x/y/ctx/k
0:0 755 /p
0:0 755 /p/q
0:0 600 /p/q/k
3000:3000 755 /u
3000:3000 755 /u/v
3000:3000 600 /u/v/k`;

async function context(dir: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/Dockerfile`, DOCKERFILE);
  await Deno.mkdir(`${dir}/ctx`);
  await Deno.chmod(`${dir}/ctx`, 0o750);
  await Deno.writeTextFile(`${dir}/ctx/k`, "k\n");
  await Deno.chmod(`${dir}/ctx/k`, 0o600);
}

function stats(out: string): string {
  return out.split("\n").filter((l) => l.startsWith("STAT ")).map((l) => l.slice(5)).join("\n");
}

Deno.test({
  name: "build: COPY owners and modes as Docker 20.10's legacy builder (berth)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await startDaemon();
    try {
      expectCode(await d.berth(["load", "-i", (await busyboxArchive()).path]), 0);
      const ctx = await Deno.makeTempDir({ dir: d.base, prefix: "ctx-" });
      await context(ctx);
      const r = await d.berth(["build", "--no-cache", ctx], { timeoutMs: 120000 });
      assertEquals(r.code, 0, r.stderr + r.stdout);
      assertEquals(stats(r.stdout), EXPECTED);
    } finally {
      await d.stop();
    }
  },
});

const noDockerd = !(await dockerdAvailable());
if (noDockerd) console.log("build_copy_owner_test: no /usr/sbin/dockerd, Docker half skipped");

Deno.test({
  name: "build: COPY owners and modes, the recorded values are Docker 20.10's",
  ignore: noDockerd,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dd = await startDockerd();
    const ctx = await Deno.makeTempDir({ prefix: "berth-copyowner-" });
    try {
      expectCode(await dd.docker(["load", "-i", (await busyboxArchive()).path]), 0);
      await context(ctx);
      const r = await dd.docker(["build", "--no-cache", ctx], {
        timeoutMs: 120000,
        env: { DOCKER_BUILDKIT: "0" },
      });
      assertEquals(r.code, 0, r.stderr + r.stdout);
      assertEquals(stats(r.stdout), EXPECTED);
    } finally {
      await dd.stop();
      await Deno.remove(ctx, { recursive: true });
    }
  },
});
