/**
 * `load`: read a docker-archive (what `docker save` writes, legacy or with
 * the OCI layout beside it as Docker 25+) or an OCI image layout tar, in one
 * streaming pass. Every file body goes straight into the content store (files
 * under blobs/<alg>/<hex> are verified against their name); small metadata
 * files are kept in memory. After the tar ends the manifests are resolved,
 * layers unpacked once per chain ID, and image records written last, so an
 * interrupted load leaves no half image (stray blobs are collected).
 * @module
 */
import { readTar } from "../../../core/archive/mod.ts";
import type { Descriptor, ImageConfig, Index, Manifest } from "../../../core/oci/types.ts";
import { isIndexType, isManifestType, MT } from "../../../core/oci/mediatypes.ts";
import { chainIds, type PreparedLayer } from "../../../core/store/layers.ts";
import { ingestUnpacking } from "./ingest.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { parseManifestOrIndex, validateConfig, validateIndex } from "../../../core/oci/validate.ts";
import { selectPlatform } from "../../../core/oci/platform.ts";
import {
  familiarString,
  parseNormalizedNamed,
  referenceString,
} from "../../../core/oci/reference.ts";
import type { ImageDeps } from "./service.ts";
import type { ImageRecord } from "../../../core/store/images.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";
import { logFailure } from "../log.ts";

/** Files at least this big are unpacked speculatively while being stored. */
const SPECULATE_MIN = 64 << 10;
const META_FILES = new Set(["manifest.json", "index.json", "oci-layout", "repositories"]);
const MAX_META = 16 << 20;

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export interface LoadResult {
  /** Lines docker prints: "Loaded image: x:y" / "Loaded image ID: sha256:…". */
  messages: string[];
}

function clean(name: string): string {
  let n = name.replace(/^\.\/+/, "");
  while (n.startsWith("/")) n = n.slice(1);
  return n.replace(/\/+$/, "");
}

export async function loadArchive(
  s: ImageDeps,
  tar: ReadableStream<Uint8Array>,
  onProgress?: (msg: string) => void,
): Promise<LoadResult> {
  const pathDigest = new Map<string, { digest: string; size: number }>();
  const links = new Map<string, string>();
  const meta = new Map<string, Uint8Array>();
  const ingested = new Set<string>();
  const prepared = new Map<string, PreparedLayer>();
  const pinned = s.pinnedBlobs;
  try {
    for await (const { header, body } of readTar(tar)) {
      const name = clean(header.name);
      if (header.type === "symlink" || header.type === "link") {
        links.set(
          name,
          header.type === "symlink"
            ? resolveRel(name, header.linkname ?? "")
            : clean(header.linkname ?? ""),
        );
        await body.cancel().catch(peerGone);
        continue;
      }
      if (header.type !== "file") {
        await body.cancel().catch(peerGone);
        continue;
      }
      const base = name.slice(name.lastIndexOf("/") + 1);
      if (
        META_FILES.has(name) ||
        (base.endsWith(".json") && header.size < 1 << 20 && !name.startsWith("blobs/"))
      ) {
        if (header.size > MAX_META) throw new InvalidArgument(`${name} is too large`);
        meta.set(name, new Uint8Array(await new Response(body).arrayBuffer()));
        continue;
      }
      const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(name);
      const expected = m ? `${m[1]}:${m[2]}` : undefined;
      let info;
      if (header.size >= SPECULATE_MIN && !(expected && await s.content.has(expected))) {
        // Probably a layer: unpack while ingesting instead of reading it twice.
        const r = await ingestUnpacking(s, body, { digest: expected, size: header.size });
        info = r.info;
        if (r.prepared) prepared.set(info.digest, r.prepared);
      } else {
        info = await s.content.ingest(body, { digest: expected, size: header.size });
      }
      pinned.add(info.digest);
      ingested.add(info.digest);
      pathDigest.set(name, info);
    }
    // Small JSON files (legacy configs like <id>.json) go to the store too.
    const blobOf = async (path: string): Promise<{ digest: string; size: number }> => {
      let p = clean(path);
      for (let i = 0; i < 10 && links.has(p); i++) p = links.get(p)!;
      const hit = pathDigest.get(p);
      if (hit) return hit;
      const data = meta.get(p);
      if (data) {
        const info = await s.content.ingestBytes(data);
        pinned.add(info.digest);
        ingested.add(info.digest);
        pathDigest.set(p, info);
        return info;
      }
      throw new InvalidArgument(`invalid archive: ${path} is referenced but missing`);
    };

    const messages: string[] = [];
    const manifestJson = meta.get("manifest.json");
    const indexJson = meta.get("index.json");
    if (manifestJson) {
      const entries = checkEntries(parseJson<unknown>(manifestJson, "manifest.json"));
      const ociIndex = indexJson ? parseIndex(indexJson) : undefined;
      for (const e of entries) {
        const cfgInfo = await blobOf(e.Config);
        const layers: Descriptor[] = [];
        for (const l of e.Layers ?? []) {
          const info = await blobOf(l);
          layers.push({ mediaType: MT.dockerLayer, digest: info.digest, size: info.size });
        }
        // Prefer the OCI manifest Docker 25+ writes beside, for equal digests.
        const manifest = ociIndex ? await findManifestFor(s, ociIndex, cfgInfo.digest) : undefined;
        const rec = await importImage(s, {
          configDigest: cfgInfo.digest,
          layers: manifest?.manifest.layers ?? layers,
          manifestDigest: manifest?.digest,
          manifestMediaType: manifest?.manifest.mediaType ?? manifest?.mediaType,
          onProgress,
          prepared,
        });
        const tags = e.RepoTags ?? [];
        for (const t of tags) {
          const ref = parseNormalizedNamed(t);
          await s.images.tag(rec.id, referenceString(ref));
          messages.push(`Loaded image: ${familiarString(ref)}`);
        }
        if (tags.length === 0) messages.push(`Loaded image ID: ${rec.id}`);
        await s.imageService.event("load", rec.id, rec.id);
      }
    } else if (indexJson) {
      const index = parseIndex(indexJson);
      for (const d of index.manifests) {
        const rec = await loadDescriptor(s, d, onProgress, prepared);
        const name = d.annotations?.["io.containerd.image.name"] ??
          d.annotations?.["org.opencontainers.image.ref.name"];
        let tagged = false;
        if (name) {
          try {
            const ref = parseNormalizedNamed(name);
            await s.images.tag(rec.id, referenceString(ref));
            messages.push(`Loaded image: ${familiarString(ref)}`);
            tagged = true;
          } catch {
            // A bare tag ("latest") as ref.name cannot name a repository.
          }
        }
        if (!tagged) messages.push(`Loaded image ID: ${rec.id}`);
        await s.imageService.event("load", rec.id, rec.id);
      }
    } else {
      throw new InvalidArgument(
        "invalid archive: neither manifest.json nor index.json found (not a docker-archive or OCI layout)",
      );
    }
    return { messages };
  } finally {
    for (const p of prepared.values()) await s.layers.discard(p);
    for (const d of ingested) pinned.delete(d);
    await s.imageService.collect().catch(logFailure("collecting unused content"));
  }
}

async function loadDescriptor(
  s: ImageDeps,
  d: Descriptor,
  onProgress?: (msg: string) => void,
  prepared?: Map<string, PreparedLayer>,
): Promise<ImageRecord> {
  if (isIndexType(d.mediaType)) {
    const idx = await s.content.readJson<Index>(d.digest);
    const pick = selectPlatform(idx.manifests);
    if (!pick) throw new InvalidArgument(`no image for the host platform in ${d.digest}`);
    const rec = await loadDescriptor(s, pick, onProgress, prepared);
    return rec;
  }
  if (!isManifestType(d.mediaType)) {
    throw new InvalidArgument(`unsupported media type ${d.mediaType} in index.json`);
  }
  const doc = parseManifestOrIndex(await s.content.readBytes(d.digest), d.mediaType);
  if (doc.kind !== "manifest") throw new InvalidArgument(`${d.digest} is not an image manifest`);
  const m = doc.manifest;
  return importImage(s, {
    configDigest: m.config.digest,
    layers: m.layers,
    manifestDigest: d.digest,
    manifestMediaType: m.mediaType ?? d.mediaType,
    onProgress,
    prepared,
  });
}

async function findManifestFor(
  s: ImageDeps,
  index: Index,
  configDigest: string,
): Promise<{ digest: string; manifest: Manifest; mediaType: string } | undefined> {
  for (const d of index.manifests ?? []) {
    try {
      if (isManifestType(d.mediaType)) {
        const m = await s.content.readJson<Manifest>(d.digest);
        if (m.config?.digest === configDigest) {
          return { digest: d.digest, manifest: m, mediaType: d.mediaType };
        }
      } else if (isIndexType(d.mediaType)) {
        const idx = await s.content.readJson<Index>(d.digest);
        const hit = await findManifestFor(s, idx, configDigest);
        if (hit) return hit;
      }
    } catch {
      // not in this archive
    }
  }
  return undefined;
}

/** Unpack the layers of an image whose blobs are in the store, and record it. */
export async function importImage(
  s: ImageDeps,
  o: {
    configDigest: string;
    layers: Descriptor[];
    manifestDigest?: string;
    manifestMediaType?: string;
    indexDigest?: string;
    onProgress?: (msg: string) => void;
    /** Layers already unpacked while their blobs were ingested, by blob digest. */
    prepared?: Map<string, PreparedLayer>;
  },
): Promise<ImageRecord> {
  const config = validateConfig(await s.content.readJson<ImageConfig>(o.configDigest));
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== o.layers.length) {
    throw new InvalidArgument(
      `invalid image: config has ${diffIds.length} layers, manifest has ${o.layers.length}`,
    );
  }
  const chains = chainIds(diffIds);
  for (let i = 0; i < chains.length; i++) {
    const blob = o.layers[i];
    const ready = o.prepared?.get(blob.digest);
    if (ready && ready.diffID === diffIds[i] && !(await s.layers.has(chains[i]))) {
      o.prepared!.delete(blob.digest);
      await s.layers.adopt(chains[i], diffIds[i], i ? chains[i - 1] : undefined, ready);
      continue;
    }
    await s.layers.ensure(chains[i], diffIds[i], i ? chains[i - 1] : undefined, async () => {
      o.onProgress?.(`Loading layer ${blob.digest.slice(7, 19)}`);
      return (await s.content.open(blob.digest)).body;
    });
  }
  // Docker-archive layers: the media type says whether the blob is compressed.
  const layers = await Promise.all(o.layers.map(async (l, i) => {
    if (l.mediaType !== MT.dockerLayer) return l;
    const info = await s.content.info(l.digest);
    return info.digest === diffIds[i]
      ? { ...l, size: info.size }
      : { ...l, mediaType: MT.dockerLayerGzip, size: info.size };
  }));
  return s.imageService.commit({
    config,
    configDigest: o.configDigest,
    layers,
    manifestDigest: o.manifestDigest,
    manifestMediaType: o.manifestMediaType,
    indexDigest: o.indexDigest,
  });
}

const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");

/** manifest.json's shape, checked before use: an archive is outside input. */
function checkEntries(v: unknown): DockerManifestEntry[] {
  if (!Array.isArray(v)) throw new InvalidArgument("invalid manifest.json");
  for (const e of v) {
    if (
      !e || typeof e !== "object" || typeof e.Config !== "string" ||
      (e.Layers != null && !isStrings(e.Layers)) || (e.RepoTags != null && !isStrings(e.RepoTags))
    ) {
      throw new InvalidArgument(
        `invalid archive: manifest.json entry ${JSON.stringify(e)?.slice(0, 200)} is not ` +
          `{"Config": string, "RepoTags": [string], "Layers": [string]}`,
      );
    }
  }
  return v;
}

function parseIndex(b: Uint8Array): Index {
  const v = parseJson<unknown>(b, "index.json");
  try {
    return validateIndex(v);
  } catch (e) {
    throw new InvalidArgument(`invalid archive: index.json: ${(e as Error).message}`);
  }
}

function parseJson<T>(b: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(b)) as T;
  } catch {
    throw new InvalidArgument(`invalid archive: ${what} is not valid JSON`);
  }
}

function resolveRel(from: string, target: string): string {
  if (target.startsWith("/")) return clean(target);
  const parts = from.split("/").slice(0, -1);
  for (const p of target.split("/")) {
    if (p === "..") parts.pop();
    else if (p && p !== ".") parts.push(p);
  }
  return parts.join("/");
}
