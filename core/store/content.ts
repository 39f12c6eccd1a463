/**
 * Content-addressed blob store: blobs/sha256/<hex>. Every ingest streams
 * through a hash into ingest/, is fsynced, verified against the expected
 * digest and size, then renamed into place. A mismatch leaves nothing.
 *
 * @example
 * ```ts
 * import { ContentStore } from "./content.ts";
 * const cs = new ContentStore("/tmp/cs");
 * await cs.init();
 * const { digest } = await cs.ingestBytes(new TextEncoder().encode("hi"));
 * console.assert(await cs.has(digest));
 * ```
 * @module
 */
import { type Digest, Hasher, parseDigest } from "../oci/digest.ts";
import { InvalidArgument, NotFound } from "../errdefs/mod.ts";
import { removeStaleTemps, syncDir } from "./atomic.ts";
import { PRIVATE_DIR } from "./perms.ts";
import { handledElsewhere, peerGone, removeIfExists, sweptAtStart } from "../errdefs/ignore.ts";

const WRITE_BUF = 1 << 20;

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export class ContentStore {
  readonly root: string;
  #seq = 0;
  constructor(root: string) {
    this.root = root;
  }

  /** Create directories and drop interrupted ingests. */
  async init(): Promise<void> {
    await Deno.mkdir(`${this.root}/blobs/sha256`, { recursive: true, mode: PRIVATE_DIR });
    await Deno.mkdir(`${this.root}/ingest`, { recursive: true, mode: PRIVATE_DIR });
    for await (const e of Deno.readDir(`${this.root}/ingest`)) {
      await removeIfExists(`${this.root}/ingest/${e.name}`, { recursive: true });
    }
    await removeStaleTemps(`${this.root}/blobs/sha256`);
  }

  /** Filesystem path of a blob (whether or not it exists). */
  path(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return `${this.root}/blobs/${algorithm}/${hex}`;
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      await Deno.stat(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = await Deno.stat(this.path(digest));
      return { digest, size: st.size };
    } catch {
      throw new NotFound(`blob ${digest} not found`);
    }
  }

  /** Open a blob for streaming. */
  async open(digest: Digest): Promise<{ size: number; body: ReadableStream<Uint8Array> }> {
    let f: Deno.FsFile;
    try {
      f = await Deno.open(this.path(digest), { read: true });
    } catch {
      throw new NotFound(`blob ${digest} not found`);
    }
    const st = await f.stat();
    return { size: st.size, body: f.readable };
  }

  async readBytes(digest: Digest): Promise<Uint8Array> {
    try {
      return await Deno.readFile(this.path(digest));
    } catch {
      throw new NotFound(`blob ${digest} not found`);
    }
  }

  async readJson<T>(digest: Digest): Promise<T> {
    return JSON.parse(new TextDecoder().decode(await this.readBytes(digest))) as T;
  }

  /**
   * Stream `body` into the store. With `expected.digest`, the content must
   * match (and `expected.size` if given) or nothing is stored.
   */
  async ingest(
    body: ReadableStream<Uint8Array>,
    expected: { digest?: Digest; size?: number; maxSize?: number } = {},
  ): Promise<BlobInfo> {
    if (expected.digest) parseDigest(expected.digest);
    if (expected.digest && await this.has(expected.digest)) {
      await body.cancel().catch(peerGone);
      return this.info(expected.digest);
    }
    const tmp = `${this.root}/ingest/${Deno.pid}-${Date.now()}-${this.#seq++}`;
    const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
    const h = new Hasher();
    let ok = false;
    try {
      // Batch small network chunks into 1 MiB writes, writing one buffer
      // while the next fills.
      const bufs = [new Uint8Array(WRITE_BUF), new Uint8Array(WRITE_BUF)];
      let cur = 0, fill = 0;
      let pending: Promise<void> = Promise.resolve();
      const writeOut = (b: Uint8Array) => {
        pending = pending.then(async () => {
          let off = 0;
          while (off < b.length) off += await f.write(b.subarray(off));
        });
        pending.catch(handledElsewhere); // awaited below
      };
      for await (const chunk of body) {
        h.update(chunk);
        if (expected.maxSize !== undefined && h.size > expected.maxSize) {
          throw new InvalidArgument(`content exceeds ${expected.maxSize} bytes`);
        }
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(chunk.length - off, WRITE_BUF - fill);
          bufs[cur].set(chunk.subarray(off, off + n), fill);
          fill += n;
          off += n;
          if (fill === WRITE_BUF) {
            await pending;
            writeOut(bufs[cur]);
            cur ^= 1;
            fill = 0;
          }
        }
      }
      await pending;
      if (fill) writeOut(bufs[cur].subarray(0, fill));
      await pending;
      await f.sync();
      const digest = h.digest();
      if (expected.digest && digest !== expected.digest) {
        throw new InvalidArgument(`digest mismatch: expected ${expected.digest}, got ${digest}`);
      }
      if (expected.size !== undefined && expected.size >= 0 && h.size !== expected.size) {
        throw new InvalidArgument(
          `size mismatch for ${digest}: expected ${expected.size}, got ${h.size}`,
        );
      }
      f.close();
      await Deno.rename(tmp, this.path(digest));
      await syncDir(`${this.root}/blobs/sha256`);
      ok = true;
      return { digest, size: h.size };
    } finally {
      if (!ok) {
        try {
          f.close();
        } catch { /* already closed */ }
        await Deno.remove(tmp).catch(sweptAtStart);
      }
    }
  }

  ingestBytes(data: Uint8Array, expected: { digest?: Digest } = {}): Promise<BlobInfo> {
    return this.ingest(ReadableStream.from([data]), { ...expected, size: data.length });
  }

  async delete(digest: Digest): Promise<void> {
    await removeIfExists(this.path(digest));
  }

  async *list(): AsyncIterable<Digest> {
    for await (const e of Deno.readDir(`${this.root}/blobs/sha256`)) {
      if (/^[a-f0-9]{64}$/.test(e.name)) yield `sha256:${e.name}`;
    }
  }

  /** Re-hash every blob; returns the digests that do not match their name. */
  async verify(): Promise<Digest[]> {
    const bad: Digest[] = [];
    for await (const d of this.list()) {
      const h = new Hasher();
      const { body } = await this.open(d);
      for await (const c of body) h.update(c);
      if (h.digest() !== d) bad.push(d);
    }
    return bad;
  }
}
