/**
 * Filesystem storage of the registry: global immutable blobs plus per
 * repository links, tags and referrers (layout in paths.ts). Every visible
 * change is a rename of a fully written (and fsynced) file, so a crash leaves
 * the old state or the new one.
 *
 * @example
 * ```ts
 * import { Storage } from "./storage.ts";
 * const s = new Storage(await Deno.makeTempDir());
 * await s.init();
 * console.assert((await s.listTags("a/b")) === null);
 * ```
 * @module
 */
import type { Descriptor } from "../../core/oci/types.ts";
import { syncDir } from "../../core/store/atomic.ts";
import { Paths } from "./paths.ts";
import {
  listDir,
  readTextOrNull,
  removeIfExists,
  sizeOrNull,
  writeFileAtomic,
  writeSmall,
} from "./_fs.ts";

const MANIFEST_CACHE_BYTES = 64 << 20;

export interface Revision {
  digest: string;
  mediaType: string;
}

export class Storage {
  readonly paths: Paths;
  #cache = new Map<string, Uint8Array<ArrayBuffer>>();
  #cacheBytes = 0;

  constructor(readonly root: string) {
    this.paths = new Paths(root);
  }

  async init(): Promise<void> {
    await Deno.mkdir(this.paths.blobsDir, { recursive: true });
    await Deno.mkdir(this.paths.uploadsDir, { recursive: true });
    await Deno.mkdir(this.paths.reposDir, { recursive: true });
  }

  // ---- blobs (global) ----

  /** Size of a stored blob, or null. */
  blobSize(digest: string): Promise<number | null> {
    return sizeOrNull(this.paths.blobData(digest));
  }

  /**
   * Move a verified file into the blob store. Concurrent commits of the same
   * digest are safe: the content is identical, and rename is atomic.
   */
  async commitBlobFile(file: string, digest: string): Promise<void> {
    const dir = this.paths.blobDir(digest);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.rename(file, `${dir}/data`);
    // Durable before any manifest can reference it.
    await syncDir(dir);
  }

  /** Store small content (a manifest) by digest, if not already there. */
  async putBlobBytes(digest: string, bytes: Uint8Array): Promise<void> {
    if ((await this.blobSize(digest)) === bytes.length) return;
    const dir = this.paths.blobDir(digest);
    await Deno.mkdir(dir, { recursive: true });
    await writeFileAtomic(`${dir}/data`, bytes);
  }

  /** Delete blob data (gc only). */
  async deleteBlobData(digest: string): Promise<void> {
    await removeIfExists(this.paths.blobDir(digest), true);
    this.#evict(digest);
  }

  // ---- repository blob links ----

  /** Size of a blob visible in `name` (layer link or manifest revision), or null. */
  async repoBlobSize(name: string, digest: string): Promise<number | null> {
    const linked = await this.hasLayerLink(name, digest) ||
      (await sizeOrNull(this.paths.revisionLink(name, digest))) !== null;
    return linked ? this.blobSize(digest) : null;
  }

  async hasLayerLink(name: string, digest: string): Promise<boolean> {
    // An empty link is a write a crash interrupted: absent.
    return ((await sizeOrNull(this.paths.layerLink(name, digest))) ?? 0) > 0;
  }

  async linkBlob(name: string, digest: string): Promise<void> {
    // Not fsynced: losing a link in a crash only makes a client upload again.
    await writeSmall(this.paths.layerLink(name, digest), digest, false);
  }

  async unlinkBlob(name: string, digest: string): Promise<boolean> {
    return await removeIfExists(this.paths.layerLinkDir(name, digest), true);
  }

  // ---- manifests ----

  /** Store manifest bytes and make them a revision of `name`. */
  async putManifest(name: string, rev: Revision, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.putBlobBytes(rev.digest, bytes);
    this.#remember(rev.digest, bytes);
    await writeSmall(this.paths.revisionLink(name, rev.digest), `${rev.digest}\n${rev.mediaType}`);
  }

  /** The revision of `name` with this digest, or null. */
  async getRevision(name: string, digest: string): Promise<Revision | null> {
    const text = await readTextOrNull(this.paths.revisionLink(name, digest));
    if (text === null) return null;
    const nl = text.indexOf("\n");
    return nl < 0
      ? { digest: text, mediaType: "" }
      : { digest: text.slice(0, nl), mediaType: text.slice(nl + 1) };
  }

  async deleteRevision(name: string, digest: string): Promise<boolean> {
    return await removeIfExists(this.paths.revisionDir(name, digest), true);
  }

  /** Manifest bytes by digest (cached; content is immutable). */
  async readManifest(digest: string): Promise<Uint8Array<ArrayBuffer> | null> {
    const hit = this.#cache.get(digest);
    if (hit) return hit;
    try {
      const bytes = await Deno.readFile(this.paths.blobData(digest));
      this.#remember(digest, bytes);
      return bytes;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  /** All manifest digests of a repository. */
  async listRevisions(name: string): Promise<string[]> {
    const out: string[] = [];
    for (const alg of await listDir(this.paths.revisionsDir(name), true)) {
      for (const hex of await listDir(`${this.paths.revisionsDir(name)}/${alg}`, true)) {
        out.push(`${alg}:${hex}`);
      }
    }
    return out;
  }

  #remember(digest: string, bytes: Uint8Array<ArrayBuffer>): void {
    if (bytes.length > MANIFEST_CACHE_BYTES / 8 || this.#cache.has(digest)) return;
    this.#cache.set(digest, bytes);
    this.#cacheBytes += bytes.length;
    for (const [k, v] of this.#cache) {
      if (this.#cacheBytes <= MANIFEST_CACHE_BYTES) break;
      this.#cache.delete(k);
      this.#cacheBytes -= v.length;
    }
  }

  #evict(digest: string): void {
    const v = this.#cache.get(digest);
    if (v) {
      this.#cache.delete(digest);
      this.#cacheBytes -= v.length;
    }
  }

  // ---- tags ----

  async resolveTag(name: string, tag: string): Promise<string | null> {
    const t = await readTextOrNull(this.paths.tagLink(name, tag));
    return t === null ? null : t.trim();
  }

  async setTag(name: string, tag: string, digest: string): Promise<void> {
    await writeSmall(this.paths.tagLink(name, tag), digest);
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    return await removeIfExists(this.paths.tagDir(name, tag), true);
  }

  /** Sorted tags, or null when the repository does not exist. */
  async listTags(name: string): Promise<string[] | null> {
    if ((await sizeOrNull(this.paths.repoDir(name))) === null) return null;
    const tags = await listDir(this.paths.tagsDir(name), true);
    return tags.sort();
  }

  async tagsOf(name: string, digest: string): Promise<string[]> {
    const out: string[] = [];
    for (const t of (await this.listTags(name)) ?? []) {
      if ((await this.resolveTag(name, t)) === digest) out.push(t);
    }
    return out;
  }

  // ---- referrers ----

  async addReferrer(name: string, subject: string, desc: Descriptor): Promise<void> {
    await writeSmall(this.paths.referrerEntry(name, subject, desc.digest), JSON.stringify(desc));
  }

  async removeReferrer(name: string, subject: string, digest: string): Promise<void> {
    await removeIfExists(this.paths.referrerEntry(name, subject, digest));
  }

  async listReferrers(name: string, subject: string): Promise<Descriptor[]> {
    const dir = this.paths.referrersDir(name, subject);
    const out: Descriptor[] = [];
    for (const f of (await listDir(dir)).sort()) {
      if (!f.endsWith(".json")) continue;
      const t = await readTextOrNull(`${dir}/${f}`);
      if (t) out.push(JSON.parse(t));
    }
    return out;
  }

  // ---- repositories ----

  async repoExists(name: string): Promise<boolean> {
    return (await sizeOrNull(this.paths.repoDir(name))) !== null;
  }

  /** Every repository name, sorted. */
  async listRepos(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const dir = rel ? `${this.paths.reposDir}/${rel}` : this.paths.reposDir;
      const entries = await listDir(dir, true);
      if (entries.some((e) => e.startsWith("_"))) out.push(rel);
      for (const e of entries) if (!e.startsWith("_")) await walk(rel ? `${rel}/${e}` : e);
    };
    await walk("");
    return out.filter((r) => r !== "").sort();
  }
}
