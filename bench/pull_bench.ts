/**
 * `pull` of an image with a 64 MiB random layer from a loopback
 * `berth registry`: berth vs Docker 20.10 (`docker pull` against a throwaway
 * dockerd), same run, medians. Goal (issue 4): berth ≤ 0.8× Docker.
 *
 *   deno run -A bench/pull_bench.ts [runs]
 * @module
 */
import { compare, sh } from "./harness.ts";
import { randomArchive } from "../tests/fixtures/busybox.ts";
import { berthCmd, startDaemon } from "../tests/fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "../tests/fixtures/dockerd.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";

const runs = Number(Deno.args[0] ?? 5);
const img = await randomArchive(64);
const reg = await startTestRegistry();
const ref = `${reg.host}/bench/random:64m`;
await sh([
  "skopeo",
  "copy",
  "--dest-tls-verify=false",
  `docker-archive:${img.path}`,
  `docker://${ref}`,
]);
const d = await startDaemon();
const dk = (await dockerdAvailable()) ? await startDockerd() : undefined;
try {
  const contenders = [{
    name: "berth pull",
    setup: async () => {
      await sh(berthCmd(["-H", d.host, "rmi", "-f", ref])).catch(() => {});
    },
    run: async () => {
      await sh(berthCmd(["-H", d.host, "pull", "-q", ref]));
    },
  }];
  if (dk) {
    contenders.push({
      name: "docker 20.10 pull",
      setup: async () => {
        await sh(["docker", "rmi", "-f", ref], { DOCKER_HOST: dk.host }).catch(() => {});
      },
      run: async () => {
        await sh(["docker", "pull", "-q", ref], { DOCKER_HOST: dk.host });
      },
    });
  }
  await compare("pull 64 MiB layer from loopback berth registry", contenders, runs);
} finally {
  await dk?.stop();
  await d.stop();
  await reg.close();
}
