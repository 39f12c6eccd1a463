/**
 * An in-memory BlobSink + BlobSource, for tests and examples.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./memory_store.ts";
 * const s = new MemoryStore();
 * const d = s.put(new TextEncoder().encode("hi"));
 * console.assert(await s.hasBlob(d));
 * ```
 * @module
 */
import { sha256Digest } from "../oci/digest.ts";
import { Hasher } from "../oci/digest.ts";
import { InvalidArgument, NotFound } from "../errdefs/mod.ts";
import type { BlobSink, BlobSource } from "./store.ts";

export class MemoryStore implements BlobSink, BlobSource {
  readonly blobs = new Map<string, Uint8Array<ArrayBuffer>>();
  readonly mediaTypes = new Map<string, string>();
  /** Digests in the order they were ingested. */
  readonly ingested: string[] = [];

  hasBlob(digest: string): Promise<boolean> {
    return Promise.resolve(this.blobs.has(digest));
  }

  async ingest(
    desc: { digest: string; size?: number; mediaType?: string },
    body: ReadableStream<Uint8Array>,
  ): Promise<void> {
    const alg = desc.digest.slice(0, desc.digest.indexOf(":"));
    const h = new Hasher(alg);
    const parts: Uint8Array[] = [];
    for await (const c of body) {
      h.update(c);
      parts.push(c);
    }
    const got = h.digest();
    if (got !== desc.digest) {
      throw new InvalidArgument(`digest mismatch: expected ${desc.digest}, got ${got}`);
    }
    if (desc.size !== undefined && h.size !== desc.size) {
      throw new InvalidArgument(
        `size mismatch for ${desc.digest}: expected ${desc.size}, got ${h.size}`,
      );
    }
    const out = new Uint8Array(h.size);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    this.blobs.set(desc.digest, out);
    if (desc.mediaType) this.mediaTypes.set(desc.digest, desc.mediaType);
    this.ingested.push(desc.digest);
  }

  openBlob(digest: string): Promise<{ size: number; body: ReadableStream<Uint8Array> }> {
    const b = this.blobs.get(digest);
    if (!b) return Promise.reject(new NotFound(`blob not found: ${digest}`));
    return Promise.resolve({ size: b.length, body: new Blob([b]).stream() });
  }

  /** Add bytes directly; returns the sha256 digest. */
  put(bytes: Uint8Array<ArrayBuffer>, mediaType?: string): string {
    const d = sha256Digest(bytes);
    this.blobs.set(d, bytes);
    if (mediaType) this.mediaTypes.set(d, mediaType);
    return d;
  }

  /** JSON of a stored blob. */
  json<T = unknown>(digest: string): T {
    const b = this.blobs.get(digest);
    if (!b) throw new NotFound(`blob not found: ${digest}`);
    return JSON.parse(new TextDecoder().decode(b)) as T;
  }
}
