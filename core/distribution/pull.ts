/**
 * Pull an image from a registry into a `BlobSink`: resolve the reference,
 * choose the platform's manifest from an index, then fetch config and layers
 * (`concurrency` at a time, skipping blobs the sink has), each verified,
 * and finally the manifest(s). Progress events follow Docker's messages.
 *
 * @example
 * ```ts
 * import { pull } from "./pull.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * const sink = new MemoryStore();
 * // const r = await pull("127.0.0.1:5000/busybox:latest", { sink });
 * ```
 * @module
 */
import { InvalidArgument, NotFound } from "../errdefs/mod.ts";
import { isIndexType, isManifestType } from "../oci/mediatypes.ts";
import { familiarString, parseNormalizedNamed, type Reference } from "../oci/reference.ts";
import type { Descriptor, ImageConfig, Index, Manifest } from "../oci/types.ts";
import { type ClientOptions, type FetchedManifest, RegistryClient } from "./client.ts";
import type { Credentials } from "./credentials.ts";
import {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformScore,
  type PlatformSpec,
  selectManifest,
} from "./platform.ts";
import { countingStream, type ProgressFn, progressId } from "./progress.ts";
import type { BlobSink } from "./store.ts";
import { handledElsewhere } from "../errdefs/ignore.ts";

export interface PullOptions {
  sink: BlobSink;
  auth?: Credentials;
  /** Wanted platform ("linux/arm64/v8" or a spec); default the host's. */
  platform?: PlatformSpec | string;
  /** Layers downloaded at once (default 3). */
  concurrency?: number;
  onProgress?: ProgressFn;
  insecureRegistries?: string[];
  /** Registry host → mirror URL (TransportOptions.mirrors). */
  mirrors?: Record<string, string>;
  certsDirs?: string[];
  signal?: AbortSignal;
  /**
   * Called in layer order once a layer is in the sink (downloaded now or
   * already there), e.g. to unpack it. "Pull complete" follows for layers
   * downloaded by this pull.
   */
  unpack?: (layer: Descriptor, index: number, config: ImageConfig) => Promise<void>;
  /** Use this client instead of making one (its credentials apply). */
  client?: RegistryClient;
}

export interface PullResult {
  reference: Reference;
  /** Digest of the image manifest pulled. */
  manifestDigest: string;
  manifestMediaType: string;
  manifest: Manifest;
  configDigest: string;
  config: ImageConfig;
  /** Digest of the index the manifest was chosen from, if any. */
  indexDigest?: string;
  index?: Index;
  /** indexDigest ?? manifestDigest: what `docker pull` prints as Digest. */
  digest: string;
}

function toRef(ref: Reference | string): Reference {
  return typeof ref === "string" ? parseNormalizedNamed(ref) : ref;
}

function json<T>(m: FetchedManifest): T {
  return JSON.parse(new TextDecoder().decode(m.bytes)) as T;
}

function bytesStream(b: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  return new Blob([b]).stream();
}

export function clientFor(ref: Reference, opts: ClientOptions): RegistryClient {
  return new RegistryClient(ref.domain, opts);
}

export async function pull(refIn: Reference | string, opts: PullOptions): Promise<PullResult> {
  const ref = toRef(refIn);
  const repo = ref.path;
  const progress = opts.onProgress ?? (() => {});
  const want = opts.platform
    ? (typeof opts.platform === "string"
      ? parsePlatform(opts.platform)
      : normalizePlatform(opts.platform))
    : hostPlatform();
  const client = opts.client ?? new RegistryClient(ref.domain, {
    credentials: opts.auth,
    insecureRegistries: opts.insecureRegistries,
    mirrors: opts.mirrors,
    certsDirs: opts.certsDirs,
  });
  try {
    const refStr = ref.digest ?? ref.tag ?? "latest";
    progress({ status: `Pulling from ${repo}`, id: ref.digest ? ref.digest : refStr });
    let top = await client.getManifest(repo, refStr);
    let index: Index | undefined;
    let indexFetched: FetchedManifest | undefined;
    if (isIndexType(top.mediaType)) {
      indexFetched = top;
      index = json<Index>(top);
      const chosen = selectManifest(index.manifests ?? [], want);
      if (!chosen) {
        throw new NotFound(
          `no matching manifest for ${formatPlatform(want)} in the manifest list entries`,
        );
      }
      top = await client.getManifest(repo, chosen.digest);
      if (!isManifestType(top.mediaType)) {
        throw new InvalidArgument(`unsupported manifest type ${top.mediaType} in index`);
      }
    } else if (!isManifestType(top.mediaType)) {
      throw new InvalidArgument(`unsupported manifest media type: ${top.mediaType}`);
    }
    const manifest = json<Manifest>(top);
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) {
      throw new InvalidArgument(`invalid image manifest ${top.digest}`);
    }

    // Config (small): fetched into memory to be returned, ingested if new.
    const cfgRes = await client.getBlob(repo, manifest.config.digest, {
      size: manifest.config.size,
    });
    const cfgBytes = new Uint8Array(await new Response(cfgRes.body).arrayBuffer());
    const config = JSON.parse(new TextDecoder().decode(cfgBytes)) as ImageConfig;
    if (opts.platform && !indexFetched && config.os && config.architecture) {
      const have = { os: config.os, architecture: config.architecture, variant: config.variant };
      if (platformScore(want, have) < 0) {
        throw new NotFound(
          `image with reference ${
            familiarString(ref)
          } was found but does not match the specified platform: wanted ${
            formatPlatform(want)
          }, actual: ${formatPlatform(normalizePlatform(have))}`,
        );
      }
    }

    const unpack = opts.unpack;
    await pullLayers(client, repo, manifest.layers, {
      ...opts,
      unpack: unpack && ((l: Descriptor, i: number) => unpack(l, i, config)),
    }, progress);

    if (!(await opts.sink.hasBlob(manifest.config.digest))) {
      await opts.sink.ingest(
        {
          digest: manifest.config.digest,
          size: cfgBytes.length,
          mediaType: manifest.config.mediaType,
        },
        bytesStream(cfgBytes),
      );
    }
    await opts.sink.ingest(
      { digest: top.digest, size: top.bytes.length, mediaType: top.mediaType },
      bytesStream(top.bytes),
    );
    if (indexFetched) {
      await opts.sink.ingest(
        {
          digest: indexFetched.digest,
          size: indexFetched.bytes.length,
          mediaType: indexFetched.mediaType,
        },
        bytesStream(indexFetched.bytes),
      );
    }
    const digest = indexFetched?.digest ?? top.digest;
    progress({ status: `Digest: ${digest}` });
    return {
      reference: ref,
      manifestDigest: top.digest,
      manifestMediaType: top.mediaType,
      manifest,
      configDigest: manifest.config.digest,
      config,
      indexDigest: indexFetched?.digest,
      index,
      digest,
    };
  } finally {
    if (!opts.client) client.close();
  }
}

async function pullLayers(
  client: RegistryClient,
  repo: string,
  layers: Descriptor[],
  opts: Omit<PullOptions, "unpack"> & { unpack?: (l: Descriptor, i: number) => Promise<void> },
  progress: ProgressFn,
): Promise<void> {
  const n = Math.max(1, opts.concurrency ?? 3);
  const ac = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
  const present = await Promise.all(layers.map((l) => opts.sink.hasBlob(l.digest)));
  const done: {
    promise: Promise<boolean>;
    resolve: (fresh: boolean) => void;
    reject: (e: unknown) => void;
  }[] = layers.map(() => Promise.withResolvers<boolean>());
  const seen = new Map<string, number>();
  const queue: number[] = [];
  layers.forEach((l, i) => {
    const id = progressId(l.digest);
    if (present[i]) {
      progress({ status: "Already exists", id });
      done[i].resolve(false);
    } else if (seen.has(l.digest)) {
      // Same blob twice in one image: wait for the first copy.
      const first = seen.get(l.digest)!;
      done[first].promise.then(() => done[i].resolve(false), (e) => done[i].reject(e));
    } else {
      seen.set(l.digest, i);
      queue.push(i);
      progress({ status: "Pulling fs layer", id });
    }
  });
  queue.slice(n).forEach((i) => progress({ status: "Waiting", id: progressId(layers[i].digest) }));

  const fetchOne = async (i: number) => {
    const l = layers[i];
    const id = progressId(l.digest);
    const { body } = await client.getBlob(repo, l.digest, { size: l.size, signal });
    const counted = body.pipeThrough(countingStream((current) => {
      progress({ status: "Downloading", id, progressDetail: { current, total: l.size } });
    }));
    await opts.sink.ingest({ digest: l.digest, size: l.size, mediaType: l.mediaType }, counted);
    progress({ status: "Verifying Checksum", id });
    progress({ status: "Download complete", id });
  };
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const i = queue[next++];
      try {
        await fetchOne(i);
        done[i].resolve(true);
      } catch (e) {
        done[i].reject(e);
        ac.abort();
        // Nothing else will run: settle what is still queued.
        for (const j of queue.slice(next)) done[j].reject(e);
        next = queue.length;
        throw e;
      }
    }
  };
  const workers = Array.from({ length: Math.min(n, queue.length) }, worker);
  // In layer order: wait for each, then unpack.
  const ordered = (async () => {
    for (let i = 0; i < layers.length; i++) {
      const fresh = await done[i].promise;
      if (opts.unpack) {
        if (fresh) progress({ status: "Extracting", id: progressId(layers[i].digest) });
        await opts.unpack(layers[i], i);
      }
      if (fresh) progress({ status: "Pull complete", id: progressId(layers[i].digest) });
    }
  })();
  done.forEach((d) => d.promise.catch(handledElsewhere)); // settled below
  const results = await Promise.allSettled([...workers, ordered]);
  const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
}
