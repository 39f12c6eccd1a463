/**
 * Validation of OCI / Docker schema2 documents with clear errors: manifests,
 * indexes, descriptors and image configs. Used wherever a document enters
 * the store (load, pull, registry push).
 *
 * @example
 * ```ts
 * import { parseManifestOrIndex } from "./validate.ts";
 * const doc = parseManifestOrIndex(new TextEncoder().encode('{"schemaVersion":2,"manifests":[]}'));
 * console.assert(doc.kind === "index");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { isDigest } from "./digest.ts";
import { isIndexType, isManifestType, MT } from "./mediatypes.ts";
import type { Descriptor, ImageConfig, Index, Manifest } from "./types.ts";

/** Largest manifest accepted (as the distribution spec suggests, 4 MiB). */
export const MAX_MANIFEST_SIZE = 4 << 20;

function fail(what: string): never {
  throw new InvalidArgument(what);
}

export function validateDescriptor(d: unknown, where: string): Descriptor {
  if (!d || typeof d !== "object") fail(`${where}: descriptor is not an object`);
  const x = d as Descriptor;
  if (typeof x.mediaType !== "string" || !/^[\w.+-]+\/[\w.+-]+$/.test(x.mediaType)) {
    fail(`${where}: invalid mediaType ${JSON.stringify(x.mediaType)}`);
  }
  if (typeof x.digest !== "string" || !isDigest(x.digest)) {
    fail(`${where}: invalid digest ${JSON.stringify(x.digest)}`);
  }
  if (typeof x.size !== "number" || !Number.isSafeInteger(x.size) || x.size < 0) {
    fail(`${where}: invalid size ${JSON.stringify(x.size)}`);
  }
  return x;
}

export function validateManifest(m: unknown): Manifest {
  if (!m || typeof m !== "object") fail("manifest is not a JSON object");
  const x = m as Manifest;
  if (x.schemaVersion !== 2) fail(`unsupported manifest schemaVersion ${x.schemaVersion}`);
  if (x.mediaType !== undefined && !isManifestType(x.mediaType)) {
    fail(`manifest has mediaType ${x.mediaType}`);
  }
  validateDescriptor(x.config, "manifest config");
  if (!Array.isArray(x.layers)) fail("manifest layers is not an array");
  x.layers.forEach((l, i) => validateDescriptor(l, `manifest layer ${i}`));
  if (x.subject) validateDescriptor(x.subject, "manifest subject");
  return x;
}

export function validateIndex(m: unknown): Index {
  if (!m || typeof m !== "object") fail("index is not a JSON object");
  const x = m as Index;
  if (x.schemaVersion !== 2) fail(`unsupported index schemaVersion ${x.schemaVersion}`);
  if (x.mediaType !== undefined && !isIndexType(x.mediaType)) {
    fail(`index has mediaType ${x.mediaType}`);
  }
  if (!Array.isArray(x.manifests)) fail("index manifests is not an array");
  x.manifests.forEach((d, i) => validateDescriptor(d, `index manifest ${i}`));
  return x;
}

export type ParsedDocument =
  | { kind: "manifest"; mediaType: string; manifest: Manifest }
  | { kind: "index"; mediaType: string; index: Index };

/**
 * Parse manifest or index bytes. The media type comes from the document, or
 * from `contentType` (e.g. an HTTP header), or from its shape.
 */
export function parseManifestOrIndex(bytes: Uint8Array, contentType?: string): ParsedDocument {
  if (bytes.length > MAX_MANIFEST_SIZE) fail(`manifest is larger than ${MAX_MANIFEST_SIZE} bytes`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    fail("manifest is not valid JSON");
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) fail("manifest is not a JSON object");
  const mt = (doc.mediaType as string | undefined) ?? contentType?.split(";")[0].trim();
  if (mt === MT.dockerManifestV1Signed || doc.schemaVersion === 1) {
    fail("Docker Image manifest schema 1 is not supported");
  }
  if (isIndexType(mt) || (!mt && Array.isArray(doc.manifests))) {
    return { kind: "index", mediaType: mt ?? MT.ociIndex, index: validateIndex(doc) };
  }
  if (isManifestType(mt) || (!mt && doc.config)) {
    return { kind: "manifest", mediaType: mt ?? MT.ociManifest, manifest: validateManifest(doc) };
  }
  fail(`unsupported manifest media type ${JSON.stringify(mt)}`);
}

export function validateConfig(c: unknown): ImageConfig {
  if (!c || typeof c !== "object") fail("invalid image config: not a JSON object");
  const x = c as ImageConfig;
  if (!x.rootfs || x.rootfs.type !== "layers" || !Array.isArray(x.rootfs.diff_ids)) {
    fail("invalid image config: rootfs.diff_ids missing");
  }
  for (const d of x.rootfs.diff_ids) {
    if (typeof d !== "string" || !/^sha256:[a-f0-9]{64}$/.test(d)) {
      fail(`invalid image config: bad diff_id ${JSON.stringify(d)}`);
    }
  }
  if (x.config != null) validateRunConfig(x.config);
  if (typeof x.os !== "string" || !x.os) fail("invalid image config: os missing");
  if (typeof x.architecture !== "string" || !x.architecture) {
    fail("invalid image config: architecture missing");
  }
  return x;
}

const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === "object" && !Array.isArray(v);

/**
 * The `config` of an image config (what containers inherit) with the types
 * Go's decoder would insist on; null is absent, as in Go. An image comes from
 * outside: `"Env": 5` would otherwise be stored and break every `run` of it.
 */
export function validateRunConfig(c: unknown): void {
  const bad: (k: string, want: string) => never = (k, want) =>
    fail(`invalid image config: config.${k} is not ${want}`);
  if (!isObject(c)) fail("invalid image config: config is not a JSON object");
  for (const k of ["User", "WorkingDir", "StopSignal"]) {
    if (c[k] != null && typeof c[k] !== "string") bad(k, "a string");
  }
  for (const k of ["Env", "Entrypoint", "Cmd", "OnBuild", "Shell"]) {
    if (c[k] != null && !isStrings(c[k])) bad(k, "a list of strings");
  }
  for (const k of ["ExposedPorts", "Volumes"]) {
    if (c[k] != null && !isObject(c[k])) bad(k, "a JSON object");
  }
  if (c.Labels != null) {
    if (!isObject(c.Labels) || !Object.values(c.Labels).every((v) => typeof v === "string")) {
      bad("Labels", "a map of strings");
    }
  }
  const h = c.Healthcheck;
  if (h != null) {
    if (!isObject(h)) bad("Healthcheck", "a JSON object");
    if (h.Test != null && !isStrings(h.Test)) bad("Healthcheck.Test", "a list of strings");
    for (const k of ["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"]) {
      if (h[k] != null && !Number.isSafeInteger(h[k])) bad(`Healthcheck.${k}`, "an integer");
    }
  }
}
