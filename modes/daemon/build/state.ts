/**
 * Build states and their commits. A state is an image config (run config,
 * rootfs diff_ids, history) plus its layers; every step that changes it is
 * committed as an intermediate image (parent = the previous state), so a
 * cache entry is just an image ID and `docker images -a` shows the chain as
 * Docker's legacy builder does. Layers come from a step's overlay upper dir:
 * the tar is streamed once, in lockstep, into the content store (the blob)
 * and the layer store (the unpacked layer, its diffID).
 * @module
 */
import type { Descriptor, ImageConfig, ImageRunConfig } from "../../../core/oci/types.ts";
import { type Digest, sha256Digest } from "../../../core/oci/digest.ts";
import { llistxattr, lremovexattr } from "../../../core/sys/libc_fs.ts";
import { MT } from "../../../core/oci/mediatypes.ts";
import { hostPlatform } from "../../../core/oci/platform.ts";
import { diffFromUpper } from "../../../core/archive/mod.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { ContentStore } from "../../../core/store/content.ts";
import type { LayerStore } from "../../../core/store/layers.ts";
import type { ImageStore } from "../../../core/store/images.ts";
import type { ImageService } from "../images/service.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";

export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The image stores a build reads and commits to. */
export interface BuildStores {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  imageService: ImageService;
  /** Blobs being written: the collector keeps them. */
  pinnedBlobs: Set<string>;
}

export interface BuildState {
  /** Image ID of this state; undefined for a fresh scratch stage. */
  id?: Digest;
  config: ImageConfig;
  layers: Descriptor[];
  chainIds: Digest[];
}

export interface NewLayer {
  desc: Descriptor;
  diffId: Digest;
  chainId: Digest;
}

const clone = <T>(v: T): T => structuredClone(v);

/** The run config with Docker's default PATH when the base has none. */
function withDefaultPath(rc: ImageRunConfig | undefined): ImageRunConfig {
  const c = clone(rc ?? {});
  if (!(c.Env ?? []).some((e) => e.startsWith("PATH="))) {
    c.Env = [...(c.Env ?? []), DEFAULT_PATH_ENV];
  }
  return c;
}

export function scratchState(): BuildState {
  const p = hostPlatform();
  return {
    config: {
      architecture: p.architecture,
      os: p.os,
      ...(p.variant ? { variant: p.variant } : {}),
      config: withDefaultPath({}),
      rootfs: { type: "layers", diff_ids: [] },
      history: [],
    },
    layers: [],
    chainIds: [],
  };
}

/** The state of an existing image (base of a stage or a cache hit). */
export async function imageState(s: BuildStores, id: Digest): Promise<BuildState> {
  const rec = s.images.getById(id);
  if (!rec) throw new InvalidArgument(`image ${id} is gone`);
  const cfg = clone(await s.imageService.config(id));
  return { id, config: cfg, layers: clone(rec.layers), chainIds: [...rec.chainIds] };
}

/** A stage's starting state from a base image: default PATH, no OnBuild leftovers handled by caller. */
export function baseOf(st: BuildState): BuildState {
  const c = clone(st);
  c.config.config = withDefaultPath(c.config.config);
  return c;
}

/** Layer dirs of a state, bottom first. */
export function lowerDirs(s: BuildStores, st: BuildState): string[] {
  return st.chainIds.map((c) => s.layers.diffDir(c));
}

async function isEmptyDir(dir: string): Promise<boolean> {
  for await (const _ of Deno.readDir(dir)) return false;
  return true;
}

/** Two readers of one stream that advance together (bounded memory). */
export function teeLockstep(
  src: ReadableStream<Uint8Array>,
): [ReadableStream<Uint8Array>, ReadableStream<Uint8Array>] {
  const a = new TransformStream<Uint8Array, Uint8Array>();
  const b = new TransformStream<Uint8Array, Uint8Array>();
  (async () => {
    const wa = a.writable.getWriter(), wb = b.writable.getWriter();
    try {
      for await (const c of src) {
        await Promise.all([wa.ready, wb.ready]);
        wa.write(c).catch(peerGone);
        wb.write(c).catch(peerGone);
      }
      await Promise.all([wa.close(), wb.close()]);
    } catch (e) {
      wa.abort(e).catch(peerGone);
      wb.abort(e).catch(peerGone);
    }
  })();
  return [a.readable, b.readable];
}

/** Drop overlayfs bookkeeping xattrs (origin, impure, …) but the opaque marker. */
function stripOverlayXattrs(dir: string): void {
  const visit = (p: string, isDir: boolean) => {
    for (const x of llistxattr(p)) {
      if (x.startsWith("trusted.overlay.") && x !== "trusted.overlay.opaque") {
        try {
          lremovexattr(p, x);
        } catch { /* gone */ }
      }
    }
    if (!isDir) return;
    for (const e of Deno.readDirSync(p)) visit(`${p}/${e.name}`, e.isDirectory);
  };
  visit(dir, true);
}

/**
 * The layer of an upper dir, or undefined when the step changed nothing.
 * The tar (diffFromUpper) is streamed once into the content store (the blob,
 * its digest is the diffID); the upper dir itself — already in the layer
 * dir format (0/0 whiteout devices, opaque xattrs) — then becomes the layer
 * (`<x>/diff` adopted as `<x>`), so nothing is unpacked a second time.
 */
export async function layerFromUpper(
  s: BuildStores,
  parentChain: Digest | undefined,
  upper: string,
): Promise<NewLayer | undefined> {
  if (await isEmptyDir(upper)) return undefined;
  const pinned = s.pinnedBlobs;
  const adoptable = upper.endsWith("/diff");
  let blob: { digest: Digest; size: number };
  let meta: { diffId: Digest; chainId: Digest };
  if (adoptable) {
    blob = await s.content.ingest(diffFromUpper(upper));
    pinned.add(blob.digest);
    stripOverlayXattrs(upper);
    const chainId = parentChain ? sha256Digest(`${parentChain} ${blob.digest}`) : blob.digest;
    meta = await s.layers.adopt(chainId, blob.digest, parentChain, {
      dir: upper.slice(0, -"/diff".length),
      diffID: blob.digest,
      size: blob.size,
    });
  } else {
    const [x, y] = teeLockstep(diffFromUpper(upper));
    const both = await Promise.all([s.content.ingest(x), s.layers.create(parentChain, y)]);
    blob = both[0];
    meta = both[1];
    pinned.add(blob.digest);
  }
  if (blob.digest !== meta.diffId) {
    throw new Error(`layer digest mismatch: ${blob.digest} vs ${meta.diffId}`);
  }
  return {
    desc: { mediaType: MT.dockerLayer, digest: blob.digest, size: blob.size },
    diffId: meta.diffId,
    chainId: meta.chainId,
  };
}

export interface CommitOptions {
  runConfig: ImageRunConfig;
  createdBy: string;
  layer?: NewLayer;
  author?: string;
  comment?: string;
}

/** Commit a step on top of `parent` as an intermediate image. */
export async function commitState(
  s: BuildStores,
  parent: BuildState,
  o: CommitOptions,
): Promise<BuildState> {
  const now = new Date().toISOString();
  const cfg = clone(parent.config);
  delete cfg.container;
  delete cfg.container_config;
  cfg.created = now;
  // As Docker's builder writes container.Config: OnBuild is there, null when none.
  cfg.config = { ...o.runConfig, OnBuild: o.runConfig.OnBuild ?? null };
  if (o.author !== undefined) cfg.author = o.author;
  cfg.rootfs = {
    type: "layers",
    diff_ids: [...cfg.rootfs.diff_ids, ...(o.layer ? [o.layer.diffId] : [])],
  };
  cfg.history = [...(cfg.history ?? []), {
    created: now,
    created_by: o.createdBy,
    ...(o.comment ? { comment: o.comment } : {}),
    ...(o.layer ? {} : { empty_layer: true }),
  }];
  // Keep the manifest homogeneous: OCI layer types on an OCI base.
  const oci = parent.layers.length > 0 &&
    parent.layers.every((l) => l.mediaType.startsWith("application/vnd.oci."));
  const desc = o.layer
    ? { ...o.layer.desc, mediaType: oci ? MT.ociLayer : MT.dockerLayer }
    : undefined;
  const layers = [...parent.layers, ...(desc ? [desc] : [])];
  const rec = await s.imageService.commit({ config: cfg, layers, parent: parent.id, tags: [] });
  if (o.layer) s.pinnedBlobs.delete(o.layer.desc.digest);
  return { id: rec.id, config: cfg, layers, chainIds: rec.chainIds };
}
