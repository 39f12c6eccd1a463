/**
 * berth registry vs CNCF Distribution (apt docker-registry), same machine,
 * same run, both on loopback with filesystem storage in /tmp:
 *
 * 1. skopeo push then pull of an image with one 64 MB layer (fresh random
 *    layer per round, so nothing is deduplicated): median seconds.
 * 2. Manifest GETs per second under wrk (2 threads, 32 connections).
 *
 * The machine may be shared: rounds alternate the order of the two
 * registries, and every sample is printed besides the medians.
 *
 *     deno run -A bench/registry_bench.ts [--rounds 7] [--wrk-seconds 5]
 */
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { freePort, startDistribution } from "../modes/registry/testutil.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "7" },
    "wrk-seconds": { type: "string", default: "5" },
    "layer-mb": { type: "string", default: "64" },
  },
});
const ROUNDS = Number(values.rounds);
const WRK_SECONDS = Number(values["wrk-seconds"]);
const LAYER = Number(values["layer-mb"]) << 20;

interface Target {
  name: string;
  host: string;
  close(): Promise<void>;
}

async function startBerth(): Promise<Target> {
  const root = await Deno.makeTempDir({ prefix: "berth-bench-reg-" });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "registry",
      "--addr",
      `127.0.0.1:${port}`,
      "--root",
      root,
      "--quiet",
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    name: "berth",
    host: `127.0.0.1:${port}`,
    async close() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(root, { recursive: true });
    },
  };
}

async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

function sha256(b: Uint8Array | string): string {
  return createHash("sha256").update(b).digest("hex");
}

/** An OCI layout with one random layer of LAYER bytes. */
async function makeLayout(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/blobs/sha256`, { recursive: true });
  const layer = new Uint8Array(LAYER);
  for (let o = 0; o < layer.length; o += 65536) {
    crypto.getRandomValues(layer.subarray(o, o + 65536));
  }
  const lh = sha256(layer);
  await Deno.writeFile(`${dir}/blobs/sha256/${lh}`, layer);
  const cfg = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [`sha256:${lh}`] },
  });
  const ch = sha256(cfg);
  await Deno.writeTextFile(`${dir}/blobs/sha256/${ch}`, cfg);
  const man = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${ch}`,
      size: cfg.length,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: `sha256:${lh}`,
      size: layer.length,
    }],
  });
  const mh = sha256(man);
  await Deno.writeTextFile(`${dir}/blobs/sha256/${mh}`, man);
  await Deno.writeTextFile(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
  await Deno.writeTextFile(
    `${dir}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: `sha256:${mh}`,
        size: man.length,
        annotations: { "org.opencontainers.image.ref.name": "1" },
      }],
    }),
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

async function skopeoRound(t: Target, round: number, work: string) {
  const src = `${work}/src-${t.name}-${round}`;
  const dst = `${work}/dst-${t.name}-${round}`;
  await makeLayout(src);
  const ref = `docker://${t.host}/bench/r${round}:1`;
  // A fresh random layer each round, so skopeo cannot skip or mount anything.
  const pushS = await timed(() =>
    sh("skopeo", ["copy", "--dest-tls-verify=false", `oci:${src}:1`, ref])
  );
  const pullS = await timed(() =>
    sh("skopeo", ["copy", "--src-tls-verify=false", ref, `oci:${dst}:1`])
  );
  await Deno.remove(src, { recursive: true });
  await Deno.remove(dst, { recursive: true });
  return { pushS, pullS };
}

async function wrk(t: Target): Promise<number> {
  const url = `http://${t.host}/v2/bench/r0/manifests/1`;
  const out = await sh("wrk", [
    "-t2",
    "-c32",
    `-d${WRK_SECONDS}s`,
    "-H",
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    url,
  ]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk output: ${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`${t.name}: ${non2xx[1]} non-2xx responses`);
  return Number(m[1]);
}

const work = await Deno.makeTempDir({ prefix: "berth-bench-" });
const targets = [await startBerth(), { name: "distribution", ...(await startDistribution()) }];
const results: Record<string, { push: number[]; pull: number[]; total: number[]; rps: number[] }> =
  {};
try {
  for (const t of targets) results[t.name] = { push: [], pull: [], total: [], rps: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order each round.
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      const { pushS, pullS } = await skopeoRound(t, r, work);
      results[t.name].push.push(pushS);
      results[t.name].pull.push(pullS);
      results[t.name].total.push(pushS + pullS);
    }
  }
  for (let r = 0; r < 3; r++) {
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      results[t.name].rps.push(await wrk(t));
    }
  }
} finally {
  for (const t of targets) await t.close();
  await Deno.remove(work, { recursive: true });
}

const b = results.berth, d = results.distribution;
const f = (x: number) => x.toFixed(3);
console.log(
  `registry bench: ${ROUNDS} rounds, ${LAYER >> 20} MB layer; wrk ${WRK_SECONDS}s x3, -t2 -c32`,
);
console.log(`                        berth    distribution   ratio (berth/dist)`);
for (const k of ["push", "pull", "total"] as const) {
  console.log(
    `skopeo ${k.padEnd(6)} (s)    ${f(median(b[k])).padStart(7)}  ${
      f(median(d[k])).padStart(12)
    }   ${(median(b[k]) / median(d[k])).toFixed(2)}x`,
  );
}
for (const [name, r] of Object.entries(results)) {
  console.log(
    `  ${name} samples: push ${r.push.map(f).join(" ")} | pull ${r.pull.map(f).join(" ")} | GET/s ${
      r.rps.map((x) => x.toFixed(0)).join(" ")
    }`,
  );
}
console.log(
  `manifest GET/s        ${median(b.rps).toFixed(0).padStart(7)}  ${
    median(d.rps).toFixed(0).padStart(12)
  }   ${(median(b.rps) / median(d.rps)).toFixed(2)}x`,
);
