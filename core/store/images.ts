/**
 * Image records and references. An image is identified by its config digest
 * (as Docker). images/db/<hex>.json holds the record (written last, after
 * blobs and layers exist, so an image is wholly there or absent);
 * images/refs.json maps normalised references to image IDs, rewritten
 * atomically on every change.
 *
 * @example
 * ```ts
 * import { ImageStore } from "./images.ts";
 * const s = new ImageStore("/tmp/imgs");
 * await s.init();
 * console.assert(s.list().length === 0);
 * ```
 * @module
 */
import type { Descriptor } from "../oci/types.ts";
import type { Digest } from "../oci/digest.ts";
import { Conflict, NotFound } from "../errdefs/mod.ts";
import {
  familiarString,
  parseNormalizedNamed,
  parseReference,
  referenceString,
  repoName,
} from "../oci/reference.ts";
import { readJson, removeStaleTemps, writeJsonAtomic } from "./atomic.ts";
import { PRIVATE_DIR } from "./perms.ts";
import { removeIfExists } from "../errdefs/ignore.ts";

export interface ImageRecord {
  /** Config digest = image ID. */
  id: Digest;
  /** Manifest that describes this image in the content store. */
  manifestDigest: Digest;
  manifestMediaType: string;
  /** Index/manifest list the image was pulled through, if any. */
  indexDigest?: Digest;
  /** Layer blobs as the manifest lists them. */
  layers: Descriptor[];
  diffIds: Digest[];
  chainIds: Digest[];
  /** Sum of uncompressed layer sizes. */
  size: number;
  /** From the config, RFC3339. */
  created: string;
  /** Set by build: the parent image ID. */
  parent?: Digest;
  addedAt: string;
}

type Refs = Record<string, Digest>;

export class ImageStore {
  readonly root: string;
  /** Directory below root: "images" (the Engine API's), "images/k8s.io" (the CRI's). */
  readonly sub: string;
  #images = new Map<Digest, ImageRecord>();
  #refs: Refs = {};
  #lastTag = new Map<Digest, string>();
  constructor(root: string, sub = "images") {
    this.root = root;
    this.sub = sub;
  }

  get dir(): string {
    return `${this.root}/${this.sub}`;
  }

  async init(): Promise<void> {
    await Deno.mkdir(`${this.dir}/db`, { recursive: true, mode: PRIVATE_DIR });
    await removeStaleTemps(this.dir);
    await removeStaleTemps(`${this.dir}/db`);
    for await (const e of Deno.readDir(`${this.dir}/db`)) {
      if (!/^[a-f0-9]{64}\.json$/.test(e.name)) continue;
      const r = await readJson<ImageRecord | null>(`${this.dir}/db/${e.name}`, null);
      if (r) this.#images.set(r.id, r);
    }
    const refs = await readJson<Refs>(`${this.dir}/refs.json`, {});
    // Drop references to images that are not (or no longer) there.
    for (const [k, v] of Object.entries(refs)) if (this.#images.has(v)) this.#refs[k] = v;
  }

  list(): ImageRecord[] {
    return [...this.#images.values()];
  }

  getById(id: Digest): ImageRecord | undefined {
    return this.#images.get(id);
  }

  /** All references (normalised strings) pointing at `id`. */
  refsOf(id: Digest): string[] {
    return Object.entries(this.#refs).filter(([, v]) => v === id).map(([k]) => k).sort();
  }

  /** Tag references, familiar form (busybox:latest). */
  repoTags(id: Digest): string[] {
    return this.refsOf(id).filter((r) => !r.includes("@")).map((r) =>
      familiarString(parseReference(r))
    );
  }

  /** Digest references, familiar form (busybox@sha256:…). */
  repoDigests(id: Digest): string[] {
    return this.refsOf(id).filter((r) => r.includes("@")).map((r) =>
      familiarString(parseReference(r))
    );
  }

  lastTagTime(id: Digest): string | undefined {
    return this.#lastTag.get(id);
  }

  /**
   * Resolve what a user typed: full ID, hex ID, short ID prefix, a reference
   * (tag defaults to latest), or name@digest. Throws NotFound.
   */
  resolve(name: string): ImageRecord {
    const rec = this.tryResolve(name);
    if (!rec) {
      let shown = name;
      try {
        if (!/^(sha256:)?[a-f0-9]{1,64}$/.test(name)) {
          shown = familiarString(parseNormalizedNamed(name));
        }
      } catch { /* show as typed */ }
      throw new NotFound(`No such image: ${shown}`);
    }
    return rec;
  }

  tryResolve(name: string): ImageRecord | undefined {
    let s = name;
    if (s.startsWith("sha256:")) s = s.slice(7);
    if (/^[a-f0-9]{64}$/.test(s)) return this.#images.get(`sha256:${s}`);
    try {
      const ref = parseNormalizedNamed(name);
      const id = this.#refs[referenceString(ref)];
      if (id) return this.#images.get(id);
      if (ref.digest) {
        // name@digest where digest is a manifest digest of a known image
        for (const r of this.#images.values()) {
          if (r.manifestDigest === ref.digest || r.indexDigest === ref.digest) {
            if (
              this.refsOf(r.id).some((x) =>
                x.startsWith(repoName(ref) + "@") || x.startsWith(repoName(ref) + ":")
              )
            ) return r;
          }
        }
      }
    } catch {
      // not a reference: maybe a short ID
    }
    if (/^[a-f0-9]{1,63}$/.test(s)) {
      const hits = [...this.#images.keys()].filter((k) => k.startsWith(`sha256:${s}`));
      if (hits.length === 1) return this.#images.get(hits[0]);
    }
    return undefined;
  }

  /** Persist an image record (blobs and layers must already exist). */
  async put(rec: ImageRecord): Promise<void> {
    const hex = rec.id.slice(7);
    await writeJsonAtomic(`${this.dir}/db/${hex}.json`, rec);
    this.#images.set(rec.id, rec);
  }

  async #saveRefs(): Promise<void> {
    await writeJsonAtomic(`${this.dir}/refs.json`, this.#refs);
  }

  /** Point `ref` (any user form) at image `id`. Returns the image that lost it, if any. */
  async tag(id: Digest, ref: string): Promise<Digest | undefined> {
    if (!this.#images.has(id)) throw new NotFound(`No such image: ${id}`);
    const key = referenceString(parseNormalizedNamed(ref));
    const prev = this.#refs[key];
    this.#refs[key] = id;
    this.#lastTag.set(id, new Date().toISOString());
    await this.#saveRefs();
    return prev !== id ? prev : undefined;
  }

  /** Remove one reference; returns the image it pointed at. */
  async untag(ref: string): Promise<Digest> {
    const key = referenceString(parseNormalizedNamed(ref));
    const id = this.#refs[key];
    if (!id) throw new NotFound(`No such image: ${ref}`);
    delete this.#refs[key];
    await this.#saveRefs();
    return id;
  }

  /** Normalised key of a user reference, if it exists. */
  refKey(ref: string): string | undefined {
    try {
      const key = referenceString(parseNormalizedNamed(ref));
      return this.#refs[key] ? key : undefined;
    } catch {
      return undefined;
    }
  }

  /** Delete the record of an image that has no references left. */
  async delete(id: Digest): Promise<void> {
    if (this.refsOf(id).length > 0) throw new Conflict(`image ${id} is still referenced`);
    await removeIfExists(`${this.dir}/db/${id.slice(7)}.json`);
    this.#images.delete(id);
  }

  /** Remove all references to id at once. */
  async untagAll(id: Digest): Promise<string[]> {
    const gone = this.refsOf(id);
    for (const k of gone) delete this.#refs[k];
    if (gone.length) await this.#saveRefs();
    return gone;
  }
}
