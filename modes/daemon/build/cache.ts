/**
 * The build cache: step key → the image state the step produced. Keys are
 * sha256 of (parent image ID, the step as expanded — args in effect — and,
 * for COPY/ADD, the sources' content hash). Entries live in
 * <root>/build-cache/<hex>.json, written atomically; an entry whose image is
 * gone is a miss.
 *
 * @example
 * ```ts ignore
 * const cache = new BuildCache(`${root}/build-cache`);
 * const key = stepKey(parentId, { kind: "ENV", pairs: [["A", "1"]] });
 * const hit = await cache.get(key);           // image ID or undefined
 * await cache.put(key, newImageId);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { readJson, writeJsonAtomic } from "../../../core/store/atomic.ts";
import { PRIVATE_DIR } from "../../../core/store/perms.ts";
import type { Digest } from "../../../core/oci/digest.ts";
import { removeIfExists } from "../../../core/errdefs/ignore.ts";

export interface CacheEntry {
  image: Digest;
  created: string;
  /**
   * Earlier results of the same step, newest first: with `--cache-from`
   * an older one may be the one that counts (Docker's cache looks at every
   * child image of the parent, not only the newest).
   */
  older?: Digest[];
}

/** How many earlier results of a step the cache keeps. */
const KEEP_OLDER = 8;

/** The cache key of a step on top of `parent` ("" for an empty scratch state). */
export function stepKey(parent: string, step: unknown): string {
  return createHash("sha256").update(`${parent}\n${JSON.stringify(step)}`).digest("hex");
}

export class BuildCache {
  readonly dir: string;
  #ready = false;
  constructor(dir: string) {
    this.dir = dir;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    // an unreadable entry is a miss: the step runs again and writes a new one
    const e = await readJson<CacheEntry | null>(`${this.dir}/${key}.json`, null).catch(() => null);
    return e ?? undefined;
  }

  async put(key: string, image: Digest): Promise<void> {
    if (!this.#ready) {
      await Deno.mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR });
      this.#ready = true;
    }
    const prev = await this.get(key);
    const older = prev
      ? [prev.image, ...(prev.older ?? [])].filter((i) => i !== image).slice(0, KEEP_OLDER)
      : [];
    await writeJsonAtomic(
      `${this.dir}/${key}.json`,
      {
        image,
        created: new Date().toISOString(),
        ...(older.length ? { older } : {}),
      } satisfies CacheEntry,
    );
  }

  /** Drop entries whose image no longer exists (`alive(id)` false). */
  async prune(alive: (id: Digest) => boolean): Promise<number> {
    let n = 0;
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (!e.name.endsWith(".json")) continue;
        const v = await this.get(e.name.slice(0, -5));
        if (!v || !alive(v.image)) {
          await removeIfExists(`${this.dir}/${e.name}`);
          n++;
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return n;
  }
}
