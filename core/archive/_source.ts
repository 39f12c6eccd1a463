/**
 * A pull-based byte source over a ReadableStream: exact reads for headers,
 * zero-copy chunk reads for bodies, and a hook that sees every byte once
 * (hashing, size limits).
 * @module
 */

export class ByteSource {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;
  #eof = false;
  #onChunk?: (chunk: Uint8Array) => void;
  /** Bytes consumed by the parser so far. */
  position = 0;

  constructor(s: ReadableStream<Uint8Array>, onChunk?: (chunk: Uint8Array) => void) {
    this.#reader = s.getReader();
    this.#onChunk = onChunk;
  }

  get buffered(): number {
    return this.#buf.length - this.#off;
  }

  /** Pull one more chunk; false at end of stream. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#eof = true;
        return false;
      }
      if (!value || value.length === 0) continue;
      this.#onChunk?.(value);
      if (this.buffered === 0) {
        this.#buf = value;
      } else {
        const n = new Uint8Array(this.buffered + value.length);
        n.set(this.#buf.subarray(this.#off));
        n.set(value, this.buffered);
        this.#buf = n;
      }
      this.#off = 0;
      return true;
    }
  }

  /** Exactly n bytes (a copy-free view when possible), or null if the stream ends first. */
  async readExact(n: number): Promise<Uint8Array | null> {
    while (this.buffered < n) if (!(await this.#fill())) return null;
    const out = this.#buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    this.position += n;
    return out;
  }

  /** Up to `max` bytes as a view of the current chunk, or null at end of stream. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && !(await this.#fill())) return null;
    const n = Math.min(max, this.buffered);
    const out = this.#buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    this.position += n;
    return out;
  }

  /** Skip n bytes; false if the stream ended first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      const c = await this.readSome(n);
      if (!c) return false;
      n -= c.length;
    }
    return true;
  }

  /** Read and discard everything left (so the hook sees the whole stream). */
  async drain(): Promise<void> {
    this.#off = this.#buf.length;
    while (await this.#fill()) this.#off = this.#buf.length;
  }

  /** Cancel the underlying stream (on error). */
  async cancel(reason?: unknown): Promise<void> {
    try {
      await this.#reader.cancel(reason);
    } catch { /* already errored */ }
  }

  release(): void {
    try {
      this.#reader.releaseLock();
    } catch { /* pending read */ }
  }
}
