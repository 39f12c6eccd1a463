/**
 * `docker cp` of a 100 MB directory of many files (issue 13), into and out
 * of a running container, side by side, medians:
 *   - the stock docker CLI against berth,
 *   - berth's own client against berth,
 *   - the docker CLI against Docker 20.10 (a throwaway dockerd).
 * The tree: 1000 files of 100 kB in 20 directories (random bytes).
 *
 *   deno run -A bench/cp_bench.ts [runs] [--no-docker]
 * @module
 */
import { compare, type Contender, sh } from "./harness.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { berthCmd, startDaemon } from "../tests/fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "../tests/fixtures/dockerd.ts";

const args = Deno.args.filter((a) => !a.startsWith("--"));
const runs = Number(args[0] ?? 5);
const noDocker = Deno.args.includes("--no-docker");
const DIRS = 20, FILES = 50, SIZE = 100_000;

const work = await Deno.makeTempDir({ prefix: "berth-cp-bench-" });
const src = `${work}/tree`;
const buf = new Uint8Array(SIZE);
for (let d = 0; d < DIRS; d++) {
  await Deno.mkdir(`${src}/d${d}`, { recursive: true });
  for (let f = 0; f < FILES; f++) {
    for (let o = 0; o < SIZE; o += 65536) crypto.getRandomValues(buf.subarray(o, o + 65536));
    await Deno.writeFile(`${src}/d${d}/f${f}`, buf);
  }
}
const total = DIRS * FILES * SIZE;

const img = await busyboxArchive();
const d = await startDaemon();
const dk = !noDocker && (await dockerdAvailable()) ? await startDockerd() : undefined;
try {
  const berth = (a: string[]) => sh(berthCmd(["-H", d.host, ...a]));
  const dockerB = (a: string[]) => sh(["docker", ...a], { DOCKER_HOST: d.host });
  const dockerD = (a: string[]) => sh(["docker", ...a], { DOCKER_HOST: dk!.host });
  await berth(["load", "-q", "-i", img.path]);
  await berth(["run", "-d", "--name", "cpb", "busybox", "sleep", "100000"]);
  if (dk) {
    await dockerD(["load", "-q", "-i", img.path]);
    await dockerD(["run", "-d", "--name", "cpb", "busybox", "sleep", "100000"]);
  }
  // the copy out reads a tree that is already in the container
  await berth(["cp", src, "cpb:/seed"]);
  if (dk) await dockerD(["cp", src, "cpb:/seed"]);
  const out = `${work}/out`;
  const clean = async () => await Deno.remove(out, { recursive: true }).catch(() => {});

  const into: Contender[] = [
    {
      name: "docker CLI → berth",
      setup: () => dockerB(["exec", "cpb", "rm", "-rf", "/in"]).then(() => {}),
      run: () => dockerB(["cp", src, "cpb:/in"]).then(() => {}),
    },
    {
      name: "berth client → berth",
      setup: () => berth(["exec", "cpb", "rm", "-rf", "/in"]).then(() => {}),
      run: () => berth(["cp", src, "cpb:/in"]).then(() => {}),
    },
  ];
  const outof: Contender[] = [
    {
      name: "docker CLI → berth",
      setup: clean,
      run: () => dockerB(["cp", "cpb:/seed", out]).then(() => {}),
    },
    {
      name: "berth client → berth",
      setup: clean,
      run: () => berth(["cp", "cpb:/seed", out]).then(() => {}),
    },
  ];
  if (dk) {
    into.push({
      name: "docker CLI → Docker 20.10",
      setup: () => dockerD(["exec", "cpb", "rm", "-rf", "/in"]).then(() => {}),
      run: () => dockerD(["cp", src, "cpb:/in"]).then(() => {}),
    });
    outof.push({
      name: "docker CLI → Docker 20.10",
      setup: clean,
      run: () => dockerD(["cp", "cpb:/seed", out]).then(() => {}),
    });
  }
  const mb = (total / 1e6).toFixed(0);
  await compare(`docker cp INTO a container: ${mb} MB, ${DIRS * FILES} files`, into, runs);
  await compare(`docker cp OUT of a container: ${mb} MB, ${DIRS * FILES} files`, outof, runs);
  // sanity: the copies are whole
  const n = (await sh(["find", out, "-type", "f"])).trim().split("\n").length;
  if (n !== DIRS * FILES) throw new Error(`copy out has ${n} files, want ${DIRS * FILES}`);
} finally {
  if (dk) await sh(["docker", "rm", "-f", "cpb"], { DOCKER_HOST: dk.host }).catch(() => "");
  await d.berth(["rm", "-f", "cpb"]);
  await dk?.stop();
  await d.stop();
  await Deno.remove(work, { recursive: true });
}
