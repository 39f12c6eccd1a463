/**
 * `save`: write what Docker 25+ writes — an OCI image layout (oci-layout,
 * index.json, blobs/sha256/…) with docker-archive's manifest.json and
 * repositories beside it — so both `docker load` and OCI tools (skopeo
 * oci-archive:/docker-archive:) read it with the same digests.
 * @module
 */
import { tarWriter } from "../../../core/archive/mod.ts";
import type { Descriptor } from "../../../core/oci/types.ts";
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
import type { Services } from "../services.ts";
import type { ImageRecord } from "../../../core/store/images.ts";

const enc = new TextEncoder();

/**
 * Resolve names to images + the tags to record for each, as moby's
 * image/tarexport/save.go parseNames (v20.10.24): an image ID (full, or a
 * short one no repository matches) records no tag, a repository name without
 * tag records all of its tags, name:tag that tag, name@digest none.
 */
function plan(s: Services, names: string[]): Map<string, { rec: ImageRecord; refs: string[] }> {
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

export function saveArchive(s: Services, names: string[]): ReadableStream<Uint8Array> {
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
        await addBlob(rec.manifestDigest);
        const msize = (await s.content.info(rec.manifestDigest)).size;
        const mt = rec.manifestMediaType || MT.dockerManifest;
        if (refs.length === 0) {
          index.push({ mediaType: mt, digest: rec.manifestDigest, size: msize });
        }
        for (const r of refs) {
          const ref = parseReference(r);
          index.push({
            mediaType: mt,
            digest: rec.manifestDigest,
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
