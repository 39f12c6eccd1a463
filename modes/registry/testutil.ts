/**
 * Test helpers for the registry suites (tests/registry_*_test.ts): a registry
 * on a random loopback port in a temp dir, CNCF Distribution (`docker-registry`)
 * likewise, and raw push helpers. Not used by the registry itself.
 * @module
 */
import { createHash } from "node:crypto";
import { type RegistryOptions, type RunningRegistry, startRegistry } from "./server.ts";

export function digestOf(bytes: Uint8Array | string, alg = "sha256"): string {
  return `${alg}:${createHash(alg).update(bytes).digest("hex")}`;
}

export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(b.subarray(off, Math.min(n, off + 65536)));
  }
  return b;
}

export const enc = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);

export interface TestRegistry extends RunningRegistry {
  root: string;
}

/** Start `berth registry` in-process on 127.0.0.1:<random> with a temp root. */
export async function startTestRegistry(
  opts: Partial<RegistryOptions> = {},
): Promise<TestRegistry> {
  const root = opts.root ?? await Deno.makeTempDir({ prefix: "berth-reg-test-" });
  const reg = await startRegistry({ addr: "127.0.0.1:0", ...opts, root });
  return {
    ...reg,
    root,
    async close() {
      await reg.close();
      if (!opts.root) await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

/** A free TCP port on 127.0.0.1 (for programs that need one named). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface ExternalRegistry {
  url: string;
  host: string;
  close(): Promise<void>;
}

export const DISTRIBUTION_BIN = "/usr/bin/docker-registry";

export async function haveDistribution(): Promise<boolean> {
  try {
    await Deno.stat(DISTRIBUTION_BIN);
    return true;
  } catch {
    return false;
  }
}

/** Run CNCF Distribution on loopback with filesystem storage in a temp dir. */
export async function startDistribution(): Promise<ExternalRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "berth-distribution-" });
  const port = freePort();
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${dir}/data`,
    "  delete:",
    "    enabled: true",
    "  cache:",
    "    blobdescriptor: inmemory",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "",
  ].join("\n");
  await Deno.writeTextFile(`${dir}/config.yml`, config);
  const child = new Deno.Command(DISTRIBUTION_BIN, {
    args: ["serve", `${dir}/config.yml`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/v2/`);
      await r.body?.cancel();
      if (r.status === 200) return { url, host: `127.0.0.1:${port}`, close };
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  await close();
  throw new Error("docker-registry did not start");
}

/** Monolithic blob push (POST ?digest=). */
export async function putBlob(
  url: string,
  repo: string,
  bytes: Uint8Array<ArrayBuffer>,
  alg = "sha256",
) {
  const d = digestOf(bytes, alg);
  const r = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${d}`, {
    method: "POST",
    body: bytes,
    headers: { "Content-Type": "application/octet-stream" },
  });
  await r.body?.cancel();
  if (r.status !== 201) throw new Error(`blob push ${d}: ${r.status}`);
  return d;
}

/** Push a manifest (object or bytes) by tag or digest; returns the response. */
export async function putManifestRaw(
  url: string,
  repo: string,
  ref: string,
  body: Uint8Array<ArrayBuffer>,
  mediaType: string,
): Promise<Response> {
  return await fetch(`${url}/v2/${repo}/manifests/${ref}`, {
    method: "PUT",
    body,
    headers: { "Content-Type": mediaType },
  });
}

/** A minimal valid image in `repo`: one random layer, a config, a manifest. */
export async function pushRandomImage(
  url: string,
  repo: string,
  tag: string,
  opts: { layerSize?: number; extra?: Record<string, unknown> } = {},
): Promise<{ digest: string; manifest: Uint8Array<ArrayBuffer>; layer: string; config: string }> {
  const layer = await putBlob(url, repo, randomBytes(opts.layerSize ?? 1024));
  const cfgBytes = enc(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [layer] },
    created: new Date().toISOString(),
  }));
  const config = await putBlob(url, repo, cfgBytes);
  const manifest = enc(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config,
      size: cfgBytes.length,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: layer,
      size: opts.layerSize ?? 1024,
    }],
    ...opts.extra,
  }));
  const r = await putManifestRaw(
    url,
    repo,
    tag,
    manifest,
    "application/vnd.oci.image.manifest.v1+json",
  );
  await r.body?.cancel();
  if (r.status !== 201) throw new Error(`manifest push: ${r.status}`);
  return { digest: digestOf(manifest), manifest, layer, config };
}

/** Anything that can take blobs by bytes (core/distribution MemoryStore does). */
export interface BytesStore {
  put(bytes: Uint8Array<ArrayBuffer>, mediaType?: string): string;
}

/** Build an image in a store: random layers of the given sizes, config, manifest. */
export function makeImage(
  store: BytesStore,
  opts: {
    layers?: number[];
    os?: string;
    architecture?: string;
    variant?: string;
    docker?: boolean;
  } = {},
): {
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
  bytes: Uint8Array<ArrayBuffer>;
} {
  const docker = opts.docker ?? false;
  const layerType = docker
    ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
    : "application/vnd.oci.image.layer.v1.tar+gzip";
  const layers = (opts.layers ?? [1000, 2000]).map((n) => {
    const b = randomBytes(n);
    return { mediaType: layerType, digest: store.put(b), size: n };
  });
  const cfg = enc(JSON.stringify({
    architecture: opts.architecture ?? "amd64",
    os: opts.os ?? "linux",
    ...(opts.variant ? { variant: opts.variant } : {}),
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    config: { Cmd: ["sh"] },
  }));
  const cfgType = docker
    ? "application/vnd.docker.container.image.v1+json"
    : "application/vnd.oci.image.config.v1+json";
  const configDigest = store.put(cfg, cfgType);
  const mt = docker
    ? "application/vnd.docker.distribution.manifest.v2+json"
    : "application/vnd.oci.image.manifest.v1+json";
  const bytes = enc(JSON.stringify({
    schemaVersion: 2,
    mediaType: mt,
    config: { mediaType: cfgType, digest: configDigest, size: cfg.length },
    layers,
  }));
  return {
    manifestDigest: store.put(bytes, mt),
    configDigest,
    layerDigests: layers.map((l) => l.digest),
    bytes,
  };
}

/** An index over images already in the store. */
export function makeIndex(
  store: BytesStore,
  entries: {
    digest: string;
    size: number;
    platform: { os: string; architecture: string; variant?: string };
  }[],
): string {
  const mt = "application/vnd.oci.image.index.v1+json";
  return store.put(
    enc(JSON.stringify({
      schemaVersion: 2,
      mediaType: mt,
      manifests: entries.map((e) => ({
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...e,
      })),
    })),
    mt,
  );
}
