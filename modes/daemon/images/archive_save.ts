/**
 * `save`: write what Docker 25+ writes — an OCI image layout (oci-layout,
 * index.json, blobs/sha256/…) with docker-archive's manifest.json and
 * repositories beside it — so both `docker load` and OCI tools (skopeo
 * oci-archive:/docker-archive:) read it with the same digests.
 * @module
 */
import { tarWriter } from "../../../core/archive/mod.ts";
import type { Descriptor, Manifest } from "../../../core/oci/types.ts";
import { sha256Digest } from "../../../core/oci/digest.ts";
import { MT } from "../../../core/oci/mediatypes.ts";
import {
  familiarName,
  familiarString,
  parseNormalizedNamed,
  parseReference,
  type Reference,
  referenceString,
  repoName,
} from "../../../core/oci/reference.ts";
import type { ImageDeps } from "./service.ts";
import type { ImageRecord } from "../../../core/store/images.ts";

const enc = new TextEncoder();

/** Docker schema2 layer media type → its OCI twin (same blob bytes). */
const OCI_LAYER: Record<string, string> = {
  [MT.dockerLayer]: MT.ociLayer,
  [MT.dockerLayerGzip]: MT.ociLayerGzip,
  [MT.dockerForeignLayerGzip]: MT.ociLayerNondistGzip,
};

/**
 * The manifest to list in the archive's index.json. An OCI manifest is kept
 * as stored (same digest). A Docker schema2 one is rewritten with OCI media
 * types, as Docker 25+ writes it: the config blob keeps its bytes (so the
 * image ID survives) and only its descriptor's media type changes; OCI tools
 * would otherwise convert schema2 and re-serialize the config (new ID).
 */
async function archiveManifest(
  s: ImageDeps,
  rec: ImageRecord,
): Promise<{ digest: string; size: number; mediaType: string; bytes?: Uint8Array }> {
  const mt = rec.manifestMediaType || MT.dockerManifest;
  if (mt !== MT.dockerManifest) {
    return {
      digest: rec.manifestDigest,
      size: (await s.content.info(rec.manifestDigest)).size,
      mediaType: mt,
    };
  }
  const m = await s.content.readJson<Manifest>(rec.manifestDigest);
  const oci: Manifest = {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { ...m.config, mediaType: MT.ociConfig },
    layers: m.layers.map((l) => ({ ...l, mediaType: OCI_LAYER[l.mediaType] ?? l.mediaType })),
  };
  if (m.annotations) oci.annotations = m.annotations;
  const bytes = enc.encode(JSON.stringify(oci));
  return { digest: sha256Digest(bytes), size: bytes.length, mediaType: MT.ociManifest, bytes };
}

/**
 * Resolve names to images + the tags to record for each, as moby's
 * image/tarexport/save.go parseNames (v20.10.24): an image ID (full, or a
 * short one no repository matches) records no tag, a repository name without
 * tag records all of its tags, name:tag that tag, name@digest none.
 */
function plan(s: ImageDeps, names: string[]): Map<string, { rec: ImageRecord; refs: string[] }> {
  const out = new Map<string, { rec: ImageRecord; refs: string[] }>();
  const add = (rec: ImageRecord, ref?: string) => {
    const e = out.get(rec.id) ?? { rec, refs: [] };
    out.set(rec.id, e);
    if (ref && !e.refs.includes(ref)) e.refs.push(ref);
  };
  for (const n of names) {
    if (/^(sha256:)?[a-f0-9]{64}$/.test(n)) {
      add(s.images.resolve(n));
      continue;
    }
    let ref: Reference | undefined;
    try {
      ref = parseReference(n);
    } catch { /* not a reference: an ID prefix, or NotFound from resolve */ }
    if (ref && !ref.tag && !ref.digest) {
      const repo = repoName(ref);
      let any = false;
      for (const rec of s.images.list()) {
        for (const k of s.images.refsOf(rec.id)) {
          if (k.startsWith(`${repo}:`) && !k.includes("@")) {
            add(rec, k);
            any = true;
          }
        }
      }
      if (!any) add(s.images.resolve(n));
      continue;
    }
    const rec = s.images.resolve(n);
    add(rec, ref?.tag && !ref.digest ? referenceString(ref) : undefined);
  }
  return out;
}

export function saveArchive(s: ImageDeps, names: string[]): ReadableStream<Uint8Array> {
  const images = plan(s, names); // throws NotFound before any byte is sent
  const w = tarWriter();
  (async () => {
    try {
      await w.addDir("blobs/");
      await w.addDir("blobs/sha256/");
      const written = new Set<string>();
      const addBlob = async (digest: string) => {
        if (written.has(digest)) return;
        written.add(digest);
        const { size, body } = await s.content.open(digest);
        await w.addStream(`blobs/sha256/${digest.slice(7)}`, size, body);
      };
      const index: Descriptor[] = [];
      const manifestJson: unknown[] = [];
      const repositories: Record<string, Record<string, string>> = {};
      for (const { rec, refs } of images.values()) {
        await addBlob(rec.id);
        for (const l of rec.layers) await addBlob(l.digest);
        const man = await archiveManifest(s, rec);
        if (!man.bytes) await addBlob(man.digest);
        else if (!written.has(man.digest)) {
          written.add(man.digest);
          await w.addFile(`blobs/sha256/${man.digest.slice(7)}`, man.bytes);
        }
        const { mediaType: mt, digest: mdigest, size: msize } = man;
        if (refs.length === 0) index.push({ mediaType: mt, digest: mdigest, size: msize });
        for (const r of refs) {
          const ref = parseReference(r);
          index.push({
            mediaType: mt,
            digest: mdigest,
            size: msize,
            annotations: {
              "io.containerd.image.name": referenceString(ref),
              "org.opencontainers.image.ref.name": ref.tag ?? "latest",
            },
          });
          const repo = familiarName(ref);
          repositories[repo] ??= {};
          repositories[repo][ref.tag ?? "latest"] = rec.layers.at(-1)?.digest.slice(7) ?? "";
        }
        manifestJson.push({
          Config: `blobs/sha256/${rec.id.slice(7)}`,
          RepoTags: refs.length ? refs.map((r) => familiarString(parseNormalizedNamed(r))) : null,
          Layers: rec.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
        });
      }
      await w.addFile(
        "index.json",
        enc.encode(JSON.stringify({
          schemaVersion: 2,
          mediaType: MT.ociIndex,
          manifests: index,
        })),
      );
      await w.addFile("manifest.json", enc.encode(JSON.stringify(manifestJson)));
      await w.addFile("oci-layout", enc.encode(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
      if (Object.keys(repositories).length) {
        await w.addFile("repositories", enc.encode(JSON.stringify(repositories)));
      }
      await w.finish();
      for (const { rec } of images.values()) await s.imageService.event("save", rec.id, rec.id);
    } catch (e) {
      w.abort(e);
    }
  })();
  return w.stream;
}
