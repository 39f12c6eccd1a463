/**
 * Image references, parsed and normalised exactly as Docker does
 * (distribution/reference): `busybox` → `docker.io/library/busybox:latest`.
 *
 * @example
 * ```ts
 * import { parseReference } from "./reference.ts";
 * const r = parseReference("localhost:5000/a/b:1");
 * console.assert(r.domain === "localhost:5000" && r.path === "a/b" && r.tag === "1");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";

export const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DOMAIN = "index.docker.io";
const OFFICIAL_PREFIX = "library/";

const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const ipv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const domainRe = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})(?::[0-9]+)?`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const tagRe = "[\\w][\\w.-]{0,127}";
const digestRe = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const FULL = new RegExp(
  `^((?:${domainRe}/)?${pathComponent}(?:/${pathComponent})*)(?::(${tagRe}))?(?:@(${digestRe}))?$`,
);
const ANCHORED_DOMAIN = new RegExp(`^${domainRe}$`);
const ANCHORED_TAG = new RegExp(`^${tagRe}$`);
const ANCHORED_ID = /^[a-f0-9]{64}$/;

export interface Reference {
  /** Registry host[:port], e.g. docker.io, localhost:5000. */
  domain: string;
  /** Repository path, e.g. library/busybox. */
  path: string;
  tag?: string;
  digest?: string;
}

/** domain/path */
export function repoName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** Docker's familiar form of the repository (no docker.io/, no library/). */
export function familiarName(r: Reference): string {
  if (r.domain === DEFAULT_DOMAIN) {
    // library/ goes only when one component is left: docker.io/library/a/b stays library/a/b.
    const rest = r.path.slice(OFFICIAL_PREFIX.length);
    return r.path.startsWith(OFFICIAL_PREFIX) && !rest.includes("/") ? rest : r.path;
  }
  return `${r.domain}/${r.path}`;
}

/** Full normalised string: docker.io/library/busybox:latest[@sha256:…] */
export function referenceString(r: Reference): string {
  let s = repoName(r);
  if (r.tag) s += `:${r.tag}`;
  if (r.digest) s += `@${r.digest}`;
  return s;
}

/** Familiar string: busybox:latest, localhost:5000/x:1, busybox@sha256:… */
export function familiarString(r: Reference): string {
  let s = familiarName(r);
  if (r.tag) s += `:${r.tag}`;
  if (r.digest) s += `@${r.digest}`;
  return s;
}

function splitDomain(name: string): [string, string] {
  const i = name.indexOf("/");
  let domain: string, rest: string;
  if (
    i === -1 ||
    (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== "localhost" &&
      name.slice(0, i).toLowerCase() === name.slice(0, i))
  ) {
    domain = DEFAULT_DOMAIN;
    rest = name;
  } else {
    domain = name.slice(0, i);
    rest = name.slice(i + 1);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes("/")) rest = OFFICIAL_PREFIX + rest;
  return [domain, rest];
}

/**
 * Parse and normalise a reference. No tag is added; see `withDefaultTag`.
 * Throws InvalidArgument with Docker's wording.
 */
export function parseReference(s: string): Reference {
  if (s.length === 0) throw new InvalidArgument("invalid reference format");
  if (ANCHORED_ID.test(s)) {
    throw new InvalidArgument(
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  // Uppercase in the repository part is a specific error.
  const m = FULL.exec(s);
  if (!m) {
    const lower = FULL.exec(s.toLowerCase());
    if (lower) {
      throw new InvalidArgument("invalid reference format: repository name must be lowercase");
    }
    throw new InvalidArgument("invalid reference format");
  }
  const [, name, tag, digest] = m;
  if (name.length > 255) {
    throw new InvalidArgument("repository name must not be more than 255 characters");
  }
  const [domain, path] = splitDomain(name);
  if (!ANCHORED_DOMAIN.test(domain)) throw new InvalidArgument("invalid reference format");
  if (path !== path.toLowerCase()) {
    throw new InvalidArgument("invalid reference format: repository name must be lowercase");
  }
  const r: Reference = { domain, path };
  if (tag) r.tag = tag;
  if (digest) r.digest = digest;
  return r;
}

/** Parse, adding `latest` when there is neither tag nor digest. */
export function parseNormalizedNamed(s: string): Reference {
  const r = parseReference(s);
  if (!r.tag && !r.digest) r.tag = "latest";
  return r;
}

/** Validate a bare tag. */
export function isValidTag(t: string): boolean {
  return ANCHORED_TAG.test(t);
}
