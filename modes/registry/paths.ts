/**
 * The whole on-disk layout of `berth registry --root DIR`, in one place.
 *
 *     <root>/
 *       blobs/<alg>/<hex[0:2]>/<hex>/data            content, global, immutable
 *       uploads/<uuid>/data                          in-flight upload bytes
 *       uploads/<uuid>/info                          {"repo","startedAt","algorithm"}
 *       repositories/<name>/
 *         _layers/<alg>/<hex>/link                   blob is in this repo ("<digest>")
 *         _manifests/revisions/<alg>/<hex>/link      manifest is in this repo ("<digest>\n<media type>")
 *         _manifests/tags/<tag>/current/link         tag → "<digest>"
 *         _referrers/<alg>/<hex>/<alg>-<hex>.json    descriptor of a manifest whose subject is <alg>:<hex>
 *
 * Blobs are shared across repositories; a repository sees a blob only through
 * its `_layers` (or `_manifests/revisions`) link, so delete = unlink and `gc`
 * reclaims data nothing links or references. Uploads live outside
 * `repositories/` so the catalog never sees them and a rename moves verified
 * bytes into `blobs/` atomically.
 *
 * @example
 * ```ts
 * import { Paths } from "./paths.ts";
 * const p = new Paths("/srv/reg");
 * console.assert(p.tagLink("a/b", "1") === "/srv/reg/repositories/a/b/_manifests/tags/1/current/link");
 * ```
 * @module
 */
import { parseDigest } from "../../core/oci/digest.ts";

export class Paths {
  constructor(readonly root: string) {}

  get blobsDir(): string {
    return `${this.root}/blobs`;
  }
  get uploadsDir(): string {
    return `${this.root}/uploads`;
  }
  get reposDir(): string {
    return `${this.root}/repositories`;
  }

  blobDir(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return `${this.root}/blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`;
  }
  blobData(digest: string): string {
    return `${this.blobDir(digest)}/data`;
  }

  uploadDir(uuid: string): string {
    return `${this.root}/uploads/${uuid}`;
  }
  uploadData(uuid: string): string {
    return `${this.uploadDir(uuid)}/data`;
  }
  uploadInfo(uuid: string): string {
    return `${this.uploadDir(uuid)}/info`;
  }

  repoDir(name: string): string {
    return `${this.root}/repositories/${name}`;
  }
  layerLinkDir(name: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return `${this.repoDir(name)}/_layers/${algorithm}/${hex}`;
  }
  layerLink(name: string, digest: string): string {
    return `${this.layerLinkDir(name, digest)}/link`;
  }
  revisionsDir(name: string): string {
    return `${this.repoDir(name)}/_manifests/revisions`;
  }
  revisionDir(name: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return `${this.revisionsDir(name)}/${algorithm}/${hex}`;
  }
  revisionLink(name: string, digest: string): string {
    return `${this.revisionDir(name, digest)}/link`;
  }
  tagsDir(name: string): string {
    return `${this.repoDir(name)}/_manifests/tags`;
  }
  tagDir(name: string, tag: string): string {
    return `${this.tagsDir(name)}/${tag}`;
  }
  tagLink(name: string, tag: string): string {
    return `${this.tagDir(name, tag)}/current/link`;
  }
  referrersDir(name: string, subject: string): string {
    const { algorithm, hex } = parseDigest(subject);
    return `${this.repoDir(name)}/_referrers/${algorithm}/${hex}`;
  }
  referrerEntry(name: string, subject: string, referrer: string): string {
    const { algorithm, hex } = parseDigest(referrer);
    return `${this.referrersDir(name, subject)}/${algorithm}-${hex}.json`;
  }
}
