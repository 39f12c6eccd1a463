/**
 * gzip / zstd (de)compression of byte streams with node:zlib (native,
 * streaming, backpressured), chosen by magic bytes when reading.
 *
 * @example
 * ```ts
 * import { compressStream, decompressStream } from "./compress.ts";
 * const data = new TextEncoder().encode("hello");
 * const z = compressStream(ReadableStream.from([data]), "zstd");
 * const back = await new Response(decompressStream(z)).text();
 * console.assert(back === "hello");
 * ```
 * @module
 */
import zlib from "node:zlib";
import { Duplex } from "node:stream";
import { InvalidArgument } from "../errdefs/mod.ts";

export type Compression = "gzip" | "zstd" | "none";

const CHUNK = 256 * 1024;

/** Which compression the first bytes announce. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (
    head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd
  ) {
    return "zstd";
  }
  return "none";
}

/**
 * Detect gzip (1f 8b), zstd (28 b5 2f fd) or plain by magic and decompress.
 * Decompression errors surface as InvalidArgument ("gzip: unexpected end of file").
 */
export function decompressStream(s: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = s.getReader();
  let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let kind: Compression = "none";
  return new ReadableStream<Uint8Array>({
    async start() {
      // Peek at least 4 bytes (or all there is) to pick the decoder.
      const head: Uint8Array[] = [];
      let n = 0;
      while (n < 4) {
        const { value, done } = await reader.read();
        if (done) break;
        head.push(value);
        n += value.length;
      }
      const first = head.length === 1 ? head[0] : concat(head, n);
      kind = detectCompression(first);
      let rest = true;
      const body = new ReadableStream<Uint8Array>({
        start(ctl) {
          if (first.length) ctl.enqueue(first);
        },
        async pull(ctl) {
          if (!rest) return;
          const { value, done } = await reader.read();
          if (done) {
            rest = false;
            ctl.close();
          } else ctl.enqueue(value);
        },
        cancel(r) {
          return reader.cancel(r);
        },
      }, { highWaterMark: 1 });
      const out = kind === "gzip"
        ? body.pipeThrough(nodePair(zlib.createGunzip({ chunkSize: CHUNK })))
        : kind === "zstd"
        ? body.pipeThrough(nodePair(zlib.createZstdDecompress({ chunkSize: CHUNK })))
        : body;
      inner = out.getReader();
    },
    async pull(ctl) {
      try {
        const { value, done } = await inner!.read();
        if (done) ctl.close();
        else ctl.enqueue(value);
      } catch (e) {
        throw kind === "none" ? e : relabel(kind, e);
      }
    },
    async cancel(r) {
      await inner?.cancel(r);
      await reader.cancel(r).catch(() => {});
    },
  }, { highWaterMark: 2 });
}

/** Compress a stream ("none" passes it through). */
export function compressStream(
  s: ReadableStream<Uint8Array>,
  c: Compression,
  opts: { level?: number } = {},
): ReadableStream<Uint8Array> {
  if (c === "none") return s;
  if (c === "gzip") {
    return s.pipeThrough(nodePair(zlib.createGzip({ chunkSize: CHUNK, level: opts.level ?? 6 })));
  }
  const params: Record<number, number> = {};
  if (opts.level !== undefined) params[zlib.constants.ZSTD_c_compressionLevel] = opts.level;
  return s.pipeThrough(nodePair(zlib.createZstdCompress({ chunkSize: CHUNK, params })));
}

function nodePair(t: Duplex): ReadableWritablePair<Uint8Array, Uint8Array> {
  return Duplex.toWeb(t) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
}

function relabel(kind: Compression, e: unknown): Error {
  if (e instanceof InvalidArgument) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new InvalidArgument(`${kind}: ${msg}`, { cause: e });
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
