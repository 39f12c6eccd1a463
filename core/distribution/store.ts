/**
 * The local side of pull and push, kept narrow: pull writes through a
 * `BlobSink`, push reads through a `BlobSource`. The daemon's content store
 * implements both; `memory_store.ts` is the in-memory version for tests.
 *
 * @example
 * ```ts
 * import type { BlobSink } from "./store.ts";
 * async function fetchInto(sink: BlobSink, digest: string, body: ReadableStream<Uint8Array>) {
 *   if (!(await sink.hasBlob(digest))) await sink.ingest({ digest }, body);
 * }
 * ```
 * @module
 */

/** Where pulled content goes. */
export interface BlobSink {
  hasBlob(digest: string): Promise<boolean>;
  /**
   * Store `body` as `desc.digest`. The sink verifies digest (and size when
   * given) itself and must leave nothing visible when they do not match.
   */
  ingest(
    desc: { digest: string; size?: number; mediaType?: string },
    body: ReadableStream<Uint8Array>,
  ): Promise<void>;
}

/** Where pushed content comes from. Throws errdefs NotFound for a missing blob. */
export interface BlobSource {
  openBlob(digest: string): Promise<{ size: number; body: ReadableStream<Uint8Array> }>;
}
