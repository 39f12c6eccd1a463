/**
 * `build` figures (issue 5), berth vs Docker 20.10's legacy builder
 * (`DOCKER_BUILDKIT=0 docker build` against a throwaway dockerd), same run,
 * medians:
 *  - FROM busybox + 2 RUN, cold (--no-cache)            goal ≤ 0.5× Docker
 *  - fully cached rebuild, wall of the client process   goal ≤ 0.2 s
 *  - COPY of a 10,000-file context, cold (--no-cache)   goal ≤ 1.0× Docker
 *
 *   deno run -A bench/build_bench.ts [runs]
 * @module
 */
import { compare, type Contender, sh } from "./harness.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { berthCmd, startDaemon } from "../tests/fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "../tests/fixtures/dockerd.ts";

const runs = Number(Deno.args[0] ?? 7);
const img = await busyboxArchive();
const d = await startDaemon();
const dk = (await dockerdAvailable()) ? await startDockerd() : undefined;
const base = await Deno.makeTempDir({ prefix: "berth-build-bench-" });

async function runCtx(): Promise<string> {
  const dir = `${base}/run`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/Dockerfile`, "FROM busybox\nRUN echo a > /a\nRUN echo b > /b\n");
  return dir;
}

async function copyCtx(): Promise<string> {
  const dir = `${base}/copy`;
  for (let i = 0; i < 100; i++) {
    await Deno.mkdir(`${dir}/d${i}`, { recursive: true });
    for (let j = 0; j < 100; j++) {
      await Deno.writeTextFile(`${dir}/d${i}/f${j}.txt`, `file ${i}/${j}\n`.repeat(4));
    }
  }
  await Deno.writeTextFile(`${dir}/Dockerfile`, "FROM busybox\nCOPY . /app/\n");
  return dir;
}

const berth = (args: string[]) => sh(berthCmd(["-H", d.host, ...args]));
const docker = (args: string[]) =>
  sh(["docker", ...args], {
    DOCKER_HOST: dk!.host,
    DOCKER_BUILDKIT: "0",
    DOCKER_CONFIG: `${base}/cfg`,
  });

try {
  await berth(["load", "-q", "-i", img.path]);
  if (dk) await docker(["load", "-q", "-i", img.path]);
  const rc = await runCtx();
  const cc = await copyCtx();

  const pair = (title: string, ctx: string, extra: string[]): Contender[] => {
    const cs: Contender[] = [{
      name: `berth ${title}`,
      run: async () => void await berth(["build", "-q", ...extra, ctx]),
    }];
    if (dk) {
      cs.push({
        name: `docker 20.10 ${title}`,
        run: async () => void await docker(["build", "-q", ...extra, ctx]),
      });
    }
    return cs;
  };

  await compare("FROM busybox + 2 RUN, cold (--no-cache)", pair("build", rc, ["--no-cache"]), runs);

  await berth(["build", "-q", rc]);
  if (dk) await docker(["build", "-q", rc]);
  await compare("fully cached rebuild (wall of the client)", pair("rebuild", rc, []), runs);

  await compare(
    "COPY of a 10,000-file context, cold (--no-cache)",
    pair("copy", cc, ["--no-cache"]),
    runs,
  );
} finally {
  await dk?.stop();
  await d.stop();
  await Deno.remove(base, { recursive: true }).catch(() => {});
}
