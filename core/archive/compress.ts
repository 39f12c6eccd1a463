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
import type { Duplex } from "node:stream";
import { InvalidArgument } from "../errdefs/mod.ts";
import { peerGone } from "../errdefs/ignore.ts";

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
      const kind = detectCompression(first);
      let sent = first.length === 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(ctl) {
          if (!sent) {
            sent = true;
            ctl.enqueue(first);
            return;
          }
          const { value, done } = await reader.read();
          if (done) ctl.close();
          else ctl.enqueue(value);
        },
        cancel: (r) => reader.cancel(r),
      }, { highWaterMark: 0 });
      const out = kind === "none" ? body : throughNode(
        body,
        kind === "gzip"
          ? zlib.createGunzip({ chunkSize: CHUNK })
          : zlib.createZstdDecompress({ chunkSize: CHUNK }),
        kind,
      );
      inner = out.getReader();
    },
    async pull(ctl) {
      const { value, done } = await inner!.read();
      if (done) ctl.close();
      else ctl.enqueue(value);
    },
    async cancel(r) {
      if (inner) await inner.cancel(r);
      else await reader.cancel(r).catch(peerGone);
    },
  }, { highWaterMark: 1 });
}

/** Compress a stream ("none" passes it through). */
export function compressStream(
  s: ReadableStream<Uint8Array>,
  c: Compression,
  opts: { level?: number } = {},
): ReadableStream<Uint8Array> {
  if (c === "none") return s;
  if (c === "gzip") {
    return throughNode(s, zlib.createGzip({ chunkSize: CHUNK, level: opts.level ?? 6 }), c);
  }
  const params: Record<number, number> = {};
  if (opts.level !== undefined) params[zlib.constants.ZSTD_c_compressionLevel] = opts.level;
  return throughNode(s, zlib.createZstdCompress({ chunkSize: CHUNK, params }), c);
}

/**
 * Pipe a web stream through a node Transform, pull-driven: the transform's
 * output is paused while the reader lags, its input waits for "drain", and
 * cancelling destroys it. (Deno's Duplex.toWeb keeps pushing after a cancel
 * and throws an uncaught "cannot enqueue" — hence this small adapter.)
 */
function throughNode(
  src: ReadableStream<Uint8Array>,
  z: Duplex,
  kind: Compression,
): ReadableStream<Uint8Array> {
  const reader = src.getReader();
  const queue: Uint8Array[] = [];
  let failure: unknown, ended = false, stopped = false, feeding = false, srcFailed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  z.on("data", (c: Uint8Array) => {
    if (stopped) return;
    queue.push(c);
    if (queue.length >= 4) z.pause();
    notify();
  });
  z.on("end", () => {
    ended = true;
    notify();
  });
  z.on("error", (e: unknown) => {
    failure ??= e;
    notify();
  });
  const drained = () =>
    new Promise<void>((r) => {
      const done = () => {
        z.off("drain", done);
        z.off("close", done);
        r();
      };
      z.on("drain", done);
      z.on("close", done);
    });
  async function feed() {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (stopped) return;
        if (done) {
          z.end();
          return;
        }
        if (!z.write(value)) await drained();
        if (stopped || failure !== undefined) return;
      }
    } catch (e) {
      if (failure === undefined) {
        failure = e;
        srcFailed = true; // the source's own error, passed on as is
      }
      z.destroy();
      notify();
    }
  }
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (!feeding) {
        feeding = true;
        feed();
      }
      for (;;) {
        if (queue.length) {
          ctl.enqueue(queue.shift()!);
          if (queue.length < 2) z.resume();
          return;
        }
        if (failure !== undefined) {
          stopped = true;
          z.destroy();
          await reader.cancel(failure).catch(peerGone);
          throw srcFailed ? failure : relabel(kind, failure);
        }
        if (ended) {
          ctl.close();
          return;
        }
        await new Promise<void>((r) => (wake = r));
      }
    },
    async cancel(reason) {
      stopped = true;
      z.destroy();
      await reader.cancel(reason).catch(peerGone);
    },
  }, { highWaterMark: 0 });
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
