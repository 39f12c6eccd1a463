/**
 * Push an image from a `BlobSource` to a registry: config and layers first
 * (HEAD, cross-repository mount, upload), then the manifest under the
 * reference's tag (or digest). An index is pushed with its children when
 * the source has them all; otherwise the host platform's image alone.
 *
 * @example
 * ```ts
 * import { push } from "./push.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * const source = new MemoryStore();
 * // await push("127.0.0.1:5000/x:1", { source, manifestDigest: "sha256:…" });
 * ```
 * @module
 */
import { InvalidArgument, isKind } from "../errdefs/mod.ts";
import { isIndexType } from "../oci/mediatypes.ts";
import { parseNormalizedNamed, type Reference } from "../oci/reference.ts";
import type { Descriptor, Index, Manifest } from "../oci/types.ts";
import { manifestMediaType, MAX_MANIFEST_BYTES, RegistryClient } from "./client.ts";
import type { Credentials } from "./credentials.ts";
import { hostPlatform, selectManifest } from "./platform.ts";
import { type ProgressFn, progressId } from "./progress.ts";
import type { BlobSource } from "./store.ts";
import { uploadBlob } from "./upload.ts";

export interface PushOptions {
  source: BlobSource;
  /** The manifest (or index) to push, as stored in `source`. */
  manifestDigest: string;
  auth?: Credentials;
  onProgress?: ProgressFn;
  /** Blobs uploaded at once (default 3). */
  concurrency?: number;
  /** Repositories on the same registry that may hold a blob, for cross-repo mounts. */
  mountFrom?: (digest: string) => string[] | Promise<string[]>;
  insecureRegistries?: string[];
  certsDirs?: string[];
  /** Blobs above this size are sent in chunks (default 32 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
  client?: RegistryClient;
}

export interface PushResult {
  /** Digest of the manifest now at the tag. */
  digest: string;
  size: number;
  mediaType: string;
  /** Tag pushed, if the reference had one. */
  tag?: string;
}

async function readBlob(source: BlobSource, digest: string): Promise<Uint8Array<ArrayBuffer>> {
  const { size, body } = await source.openBlob(digest);
  if (size > MAX_MANIFEST_BYTES) {
    await body.cancel();
    throw new InvalidArgument(`manifest ${digest} is too large (${size} bytes)`);
  }
  return new Uint8Array(await new Response(body).arrayBuffer());
}

async function has(source: BlobSource, digest: string): Promise<boolean> {
  try {
    const { body } = await source.openBlob(digest);
    await body.cancel();
    return true;
  } catch (e) {
    if (isKind(e, "NotFound")) return false;
    throw e;
  }
}

export async function push(refIn: Reference | string, opts: PushOptions): Promise<PushResult> {
  const ref = typeof refIn === "string" ? parseNormalizedNamed(refIn) : refIn;
  const repo = ref.path;
  const progress = opts.onProgress ?? (() => {});
  const client = opts.client ?? new RegistryClient(ref.domain, {
    credentials: opts.auth,
    insecureRegistries: opts.insecureRegistries,
    certsDirs: opts.certsDirs,
  });
  try {
    let bytes = await readBlob(opts.source, opts.manifestDigest);
    let digest = opts.manifestDigest;
    let mediaType = manifestMediaType(bytes);
    if (isIndexType(mediaType)) {
      const index = JSON.parse(new TextDecoder().decode(bytes)) as Index;
      const children = index.manifests ?? [];
      const present = await Promise.all(children.map((c) => has(opts.source, c.digest)));
      if (present.every(Boolean)) {
        for (const c of children) await pushOne(client, repo, c.digest, opts, progress);
      } else {
        const chosen = selectManifest(children.filter((_, i) => present[i]), hostPlatform()) ??
          children.find((_, i) => present[i]);
        if (!chosen) {
          throw new InvalidArgument(`no manifest of index ${digest} is available locally`);
        }
        digest = chosen.digest;
        bytes = await readBlob(opts.source, digest);
        mediaType = manifestMediaType(bytes);
        await pushImageBlobs(client, repo, bytes, opts, progress);
      }
    } else {
      await pushImageBlobs(client, repo, bytes, opts, progress);
    }
    const target = ref.tag ?? ref.digest ?? digest;
    if (ref.digest && ref.digest !== digest) {
      throw new InvalidArgument(`reference digest ${ref.digest} does not match manifest ${digest}`);
    }
    await client.putManifest(repo, target, bytes, mediaType);
    return { digest, size: bytes.length, mediaType, tag: ref.tag };
  } finally {
    if (!opts.client) client.close();
  }
}

/** Push a child manifest of an index (blobs, then the manifest by digest). */
async function pushOne(
  client: RegistryClient,
  repo: string,
  digest: string,
  opts: PushOptions,
  progress: ProgressFn,
): Promise<void> {
  const bytes = await readBlob(opts.source, digest);
  const mediaType = manifestMediaType(bytes);
  if (isIndexType(mediaType)) {
    const index = JSON.parse(new TextDecoder().decode(bytes)) as Index;
    for (const c of index.manifests ?? []) await pushOne(client, repo, c.digest, opts, progress);
  } else {
    await pushImageBlobs(client, repo, bytes, opts, progress);
  }
  if ((await client.headManifest(repo, digest))?.digest !== digest) {
    await client.putManifest(repo, digest, bytes, mediaType);
  }
}

async function pushImageBlobs(
  client: RegistryClient,
  repo: string,
  manifestBytes: Uint8Array,
  opts: PushOptions,
  progress: ProgressFn,
): Promise<void> {
  const m = JSON.parse(new TextDecoder().decode(manifestBytes)) as Manifest;
  if (!m.config?.digest || !Array.isArray(m.layers)) {
    throw new InvalidArgument("cannot push: not an image manifest");
  }
  const layers = m.layers.filter((l, i, all) =>
    all.findIndex((x) => x.digest === l.digest) === i && !(l.urls?.length)
  );
  const n = Math.max(1, opts.concurrency ?? 3);
  for (const l of layers) progress({ status: "Preparing", id: progressId(l.digest) });
  layers.slice(n).forEach((l) => progress({ status: "Waiting", id: progressId(l.digest) }));
  const one = async (d: Descriptor, quiet: boolean) => {
    const id = progressId(d.digest);
    const mountFrom = opts.mountFrom ? await opts.mountFrom(d.digest) : [];
    const r = await uploadBlob(
      client,
      repo,
      { digest: d.digest, size: d.size },
      async () => (await opts.source.openBlob(d.digest)).body,
      {
        mountFrom,
        chunkSize: opts.chunkSize,
        monolithicMax: opts.chunkSize,
        signal: opts.signal,
        onProgress: quiet
          ? undefined
          : (current) =>
            progress({ status: "Pushing", id, progressDetail: { current, total: d.size } }),
      },
    );
    if (quiet) return;
    if (r.kind === "exists") progress({ status: "Layer already exists", id });
    else if (r.kind === "mounted") progress({ status: `Mounted from ${r.from}`, id });
    else progress({ status: "Pushed", id });
  };
  let next = 0;
  const worker = async () => {
    while (next < layers.length) await one(layers[next++], false);
  };
  await Promise.all(Array.from({ length: Math.min(n, layers.length) }, worker));
  await one(m.config, true);
}
