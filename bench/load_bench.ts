/**
 * `load` of an image with a 64 MiB random layer: berth vs Docker 20.10
 * (`docker load` against a throwaway dockerd), same run, medians.
 * Goal (issue 2): berth ≤ 1.0× Docker.
 *
 *   deno run -A bench/load_bench.ts [runs]
 * @module
 */
import { compare, sh } from "./harness.ts";
import { randomArchive } from "../tests/fixtures/busybox.ts";
import { berthCmd, startDaemon } from "../tests/fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "../tests/fixtures/dockerd.ts";

const runs = Number(Deno.args[0] ?? 5);
const img = await randomArchive(64);
const d = await startDaemon();
const dk = (await dockerdAvailable()) ? await startDockerd() : undefined;
try {
  const contenders = [{
    name: "berth load",
    setup: async () => {
      await sh(berthCmd(["-H", d.host, "rmi", "-f", img.ref])).catch(() => {});
    },
    run: async () => {
      await sh(berthCmd(["-H", d.host, "load", "-q", "-i", img.path]));
    },
  }];
  if (dk) {
    contenders.push({
      name: "docker 20.10 load",
      setup: async () => {
        await sh(["docker", "rmi", "-f", img.ref], { DOCKER_HOST: dk.host }).catch(() => {});
      },
      run: async () => {
        await sh(["docker", "load", "-q", "-i", img.path], { DOCKER_HOST: dk.host });
      },
    });
  }
  await compare("load 64 MiB random layer", contenders, runs);
} finally {
  await dk?.stop();
  await d.stop();
}
