/**
 * Request-target parsing for the distribution API: the raw path (before any
 * URL normalisation) is checked for encoded or dot-segment tricks, then
 * matched against the API's routes. Repository names, tags and digests are
 * validated here so handlers only ever see clean values.
 *
 * @example
 * ```ts
 * import { parseRoute } from "./routes.ts";
 * const r = parseRoute("/v2/a/b/manifests/latest");
 * console.assert(r.kind === "manifest" && r.name === "a/b" && r.ref === "latest");
 * ```
 * @module
 */
import { RegistryError } from "./errors.ts";

export const NAME_RE =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const DIGEST_SHAPE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
export const MAX_NAME = 255;

export type Route =
  | { kind: "base" }
  | { kind: "catalog" }
  | { kind: "token" }
  | { kind: "manifest"; name: string; ref: string }
  | { kind: "blob"; name: string; digest: string }
  | { kind: "uploads"; name: string }
  | { kind: "upload"; name: string; uuid: string }
  | { kind: "tags"; name: string }
  | { kind: "referrers"; name: string; digest: string }
  | { kind: "notfound" };

/** The path part of a raw request URL, exactly as sent. */
export function rawPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/** Refuse anything a URL parser or filesystem could reinterpret. */
function checkRawPath(path: string): void {
  if (
    path.includes("%") || path.includes("\\") || path.includes("//") ||
    /(^|\/)\.\.?(\/|$)/.test(path) || path.includes("\0")
  ) {
    throw new RegistryError("NAME_INVALID", "invalid characters or path segments in request path");
  }
}

export function validName(name: string): boolean {
  return name.length <= MAX_NAME && NAME_RE.test(name);
}

function checkName(name: string): string {
  if (!validName(name)) throw new RegistryError("NAME_INVALID", `invalid repository name: ${name}`);
  return name;
}

/** Validate a digest: well-formed and of a supported algorithm. */
export function checkDigest(d: string): string {
  if (DIGEST_RE.test(d)) return d;
  if (DIGEST_SHAPE.test(d)) {
    throw new RegistryError("DIGEST_INVALID", `unsupported or malformed digest: ${d}`, {
      status: 400,
    });
  }
  throw new RegistryError("DIGEST_INVALID", `invalid digest: ${d}`);
}

export function isDigestRef(ref: string): boolean {
  return ref.includes(":");
}

/**
 * Parse a raw request path into a route. A manifest reference that is not a
 * valid tag is TAG_INVALID when written, and simply unknown (404
 * MANIFEST_UNKNOWN, as the OCI conformance suite expects) when read.
 */
export function parseRoute(path: string, method = "GET"): Route {
  if (path === "/v2/" || path === "/v2") return { kind: "base" };
  if (path === "/token" || path === "/v2/token") return { kind: "token" };
  if (path === "/v2/_catalog") return { kind: "catalog" };
  if (!path.startsWith("/v2/")) return { kind: "notfound" };
  checkRawPath(path);
  let m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
  if (m) {
    const ref = m[2];
    if (isDigestRef(ref)) checkDigest(ref);
    else if (!TAG_RE.test(ref)) {
      if (method === "GET" || method === "HEAD") {
        throw new RegistryError("MANIFEST_UNKNOWN", `manifest unknown: ${ref}`);
      }
      throw new RegistryError("TAG_INVALID", `invalid tag: ${ref}`);
    }
    return { kind: "manifest", name: checkName(m[1]), ref };
  }
  m = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(path);
  if (m) return { kind: "uploads", name: checkName(m[1]) };
  m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(path);
  if (m) {
    if (!/^[a-f0-9-]{36}$/.test(m[2])) {
      throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "invalid upload id");
    }
    return { kind: "upload", name: checkName(m[1]), uuid: m[2] };
  }
  m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path);
  if (m) return { kind: "blob", name: checkName(m[1]), digest: checkDigest(m[2]) };
  m = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (m) return { kind: "tags", name: checkName(m[1]) };
  m = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(path);
  if (m) return { kind: "referrers", name: checkName(m[1]), digest: checkDigest(m[2]) };
  return { kind: "notfound" };
}
