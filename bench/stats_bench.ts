/**
 * `stats --no-stream` with N running containers: berth (through the docker
 * CLI and its own client) vs Docker 20.10 (a throwaway dockerd, the same
 * docker CLI), same run, medians. Both answer `stream=false` after priming
 * precpu a second apart, so ≈ 1 s is the floor for all; what differs is the
 * wait on top (Docker: the next tick of its shared collector) and the cost
 * per container.
 *
 *   deno run -A bench/stats_bench.ts [containers=10] [runs=5]
 * @module
 */
import { compare, sh } from "./harness.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { berthCmd, startDaemon } from "../tests/fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "../tests/fixtures/dockerd.ts";

const n = Number(Deno.args[0] ?? 10);
const runs = Number(Deno.args[1] ?? 5);
const img = await busyboxArchive();
const d = await startDaemon();
const dk = (await dockerdAvailable()) ? await startDockerd() : undefined;
const berthEnv = { DOCKER_HOST: d.host };
try {
  await sh(berthCmd(["-H", d.host, "load", "-q", "-i", img.path]));
  if (dk) await sh(["docker", "load", "-q", "-i", img.path], { DOCKER_HOST: dk.host });
  for (let i = 0; i < n; i++) {
    const args = ["run", "-d", "--network", "none", "--name", `s${i}`, "busybox", "sleep", "1000"];
    await sh(["docker", ...args], berthEnv);
    if (dk) await sh(["docker", ...args], { DOCKER_HOST: dk.host });
  }
  const contenders = [
    {
      name: "berth client",
      run: async () => void await sh(berthCmd(["-H", d.host, "stats", "--no-stream"])),
    },
    {
      name: "docker CLI → berth",
      run: async () => void await sh(["docker", "stats", "--no-stream"], berthEnv),
    },
  ];
  if (dk) {
    contenders.push({
      name: "docker CLI → dockerd 20.10",
      run: async () => void await sh(["docker", "stats", "--no-stream"], { DOCKER_HOST: dk.host }),
    });
  }
  await compare(`stats --no-stream, ${n} running containers`, contenders, runs);
} finally {
  for (let i = 0; i < n; i++) {
    await sh(["docker", "rm", "-f", `s${i}`], berthEnv).catch(() => {});
    if (dk) await sh(["docker", "rm", "-f", `s${i}`], { DOCKER_HOST: dk.host }).catch(() => {});
  }
  await dk?.stop();
  await d.stop();
}
