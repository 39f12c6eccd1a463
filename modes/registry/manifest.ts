/**
 * Manifest validation for pushes: JSON shape, media type agreement, and the
 * descriptors a manifest references (what must exist, and what it points at
 * as a `subject`). Pure: existence is checked by the caller.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * const body = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, manifests: [] }));
 * const m = parseManifest(body, "application/vnd.oci.image.index.v1+json");
 * console.assert(m.kind === "index");
 * ```
 * @module
 */
import { MT } from "../../core/oci/mediatypes.ts";
import type { Descriptor } from "../../core/oci/types.ts";
import { RegistryError } from "./errors.ts";
import { DIGEST_RE } from "./routes.ts";

export const MAX_MANIFEST_BYTES = 4 << 20;

export const MANIFEST_TYPES: readonly string[] = [
  MT.ociManifest,
  MT.ociIndex,
  MT.dockerManifest,
  MT.dockerManifestList,
];

export interface ParsedManifest {
  kind: "image" | "index";
  mediaType: string;
  /** Blobs that must exist in the repository (config, distributable layers). */
  blobs: string[];
  /** Manifests that must exist in the repository (index entries). */
  manifests: string[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  configMediaType?: string;
}

function invalid(msg: string): RegistryError {
  return new RegistryError("MANIFEST_INVALID", msg);
}

function baseType(ct: string | null): string {
  return (ct ?? "").split(";")[0].trim().toLowerCase();
}

function checkDescriptor(d: unknown, where: string): Descriptor {
  if (typeof d !== "object" || d === null) throw invalid(`${where}: descriptor is not an object`);
  const desc = d as Descriptor;
  if (typeof desc.mediaType !== "string" || !desc.mediaType) {
    throw invalid(`${where}: descriptor has no mediaType`);
  }
  if (typeof desc.digest !== "string" || !DIGEST_RE.test(desc.digest)) {
    throw invalid(`${where}: invalid digest ${JSON.stringify(desc.digest)}`);
  }
  if (typeof desc.size !== "number" || desc.size < 0 || !Number.isInteger(desc.size)) {
    throw invalid(`${where}: invalid size`);
  }
  return desc;
}

/** A layer that need not be pushed (foreign / non-distributable, with URLs). */
function isExternalLayer(d: Descriptor): boolean {
  return d.mediaType.includes("nondistributable") || d.mediaType.includes(".foreign.") ||
    (Array.isArray(d.urls) && d.urls.length > 0);
}

/** Parse and validate a pushed manifest against its Content-Type. */
export function parseManifest(bytes: Uint8Array, contentType: string | null): ParsedManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw invalid("manifest is not valid JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw invalid("manifest is not a JSON object");
  }
  if (doc.schemaVersion !== 2) {
    throw invalid(
      doc.schemaVersion === 1 ? "schema1 manifests are not supported" : "schemaVersion must be 2",
    );
  }
  const ct = baseType(contentType);
  const field = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  if (field && ct && ct !== "application/octet-stream" && field !== ct) {
    throw invalid(`mediaType ${field} does not match Content-Type ${ct}`);
  }
  let mediaType = field ?? (ct && ct !== "application/octet-stream" ? ct : "");
  if (!mediaType) mediaType = "manifests" in doc ? MT.ociIndex : MT.ociManifest;
  const isIndex = "manifests" in doc;
  if (isIndex !== (mediaType === MT.ociIndex || mediaType === MT.dockerManifestList)) {
    if (MANIFEST_TYPES.includes(mediaType)) {
      throw invalid(`manifest body does not match media type ${mediaType}`);
    }
  }
  const out: ParsedManifest = {
    kind: isIndex ? "index" : "image",
    mediaType,
    blobs: [],
    manifests: [],
  };
  if (typeof doc.artifactType === "string") out.artifactType = doc.artifactType;
  if (doc.annotations && typeof doc.annotations === "object") {
    out.annotations = doc.annotations as Record<string, string>;
  }
  if (doc.subject !== undefined) out.subject = checkDescriptor(doc.subject, "subject");
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw invalid("manifests must be an array");
    doc.manifests.forEach((d, i) =>
      out.manifests.push(checkDescriptor(d, `manifests[${i}]`).digest)
    );
  } else {
    const config = checkDescriptor(doc.config, "config");
    out.configMediaType = config.mediaType;
    out.blobs.push(config.digest);
    const layers = doc.layers ?? [];
    if (!Array.isArray(layers)) throw invalid("layers must be an array");
    layers.forEach((d, i) => {
      const desc = checkDescriptor(d, `layers[${i}]`);
      if (!isExternalLayer(desc)) out.blobs.push(desc.digest);
    });
  }
  return out;
}

/** The descriptor a manifest gets in its subject's referrers list. */
export function referrerDescriptor(
  m: ParsedManifest,
  digest: string,
  size: number,
): Descriptor {
  const d: Descriptor = { mediaType: m.mediaType, digest, size };
  const at = m.artifactType || (m.kind === "image" ? m.configMediaType : undefined);
  if (at) d.artifactType = at;
  if (m.annotations && Object.keys(m.annotations).length) d.annotations = m.annotations;
  return d;
}
