/**
 * Write a tar stream entry by entry (for `save`), with backpressure: each add
 * resolves once its bytes are queued, and waits while the reader lags. Read
 * `stream` concurrently with adding entries.
 *
 * @example
 * ```ts
 * import { tarWriter } from "./tar_writer.ts";
 * const w = tarWriter();
 * const out = new Response(w.stream).arrayBuffer();
 * await w.addDir("blobs");
 * await w.addFile("blobs/hello", new TextEncoder().encode("hi"));
 * await w.finish();
 * console.assert((await out).byteLength === 3 * 512 + 1024);
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { encodeHeader, padding, type TarHeaderInit } from "./tar_header.ts";
import { peerGone } from "../errdefs/ignore.ts";

export interface EntryOptions {
  mode?: number;
  mtime?: Date;
  uid?: number;
  gid?: number;
}

export interface TarWriter {
  /** The tar bytes. */
  stream: ReadableStream<Uint8Array>;
  /** A regular file from bytes. */
  addFile(name: string, data: Uint8Array, opts?: EntryOptions): Promise<void>;
  /** A regular file from a stream of exactly `size` bytes (else the tar is aborted). */
  addStream(
    name: string,
    size: number,
    body: ReadableStream<Uint8Array>,
    opts?: EntryOptions,
  ): Promise<void>;
  /** A directory. */
  addDir(name: string, opts?: EntryOptions): Promise<void>;
  /** Any entry (symlink, hardlink, device…) with a full header; body only for files. */
  addEntry(header: TarHeaderInit, body?: Uint8Array | ReadableStream<Uint8Array>): Promise<void>;
  /** Write the end-of-archive blocks and close the stream. */
  finish(): Promise<void>;
  /** Error the stream (the reader sees `reason`). */
  abort(reason?: unknown): void;
}

const ZEROS = new Uint8Array(1024);

function init(name: string, type: "file" | "dir", size: number, o: EntryOptions = {}) {
  return {
    name,
    type,
    size,
    mode: o.mode ?? (type === "dir" ? 0o755 : 0o644),
    mtime: o.mtime ? Math.floor(o.mtime.getTime() / 1000) : 0,
    uid: o.uid ?? 0,
    gid: o.gid ?? 0,
  } satisfies TarHeaderInit;
}

/** Create a tar writer. Entries are serialized in call order. */
export function tarWriter(): TarWriter {
  const ts = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: 8 }, {
    highWaterMark: 8,
  });
  const w = ts.writable.getWriter();
  let chain: Promise<void> = Promise.resolve();
  let failed: unknown;
  let done = false;

  async function put(c: Uint8Array): Promise<void> {
    await w.ready;
    w.write(c).catch(peerGone);
  }
  function serial(op: () => Promise<void>): Promise<void> {
    const p = chain.then(() => {
      if (failed !== undefined) throw failed;
      if (done) throw new Error("tar writer already finished");
      return op();
    });
    chain = p.catch((e) => {
      if (failed === undefined) {
        failed = e;
        w.abort(e).catch(peerGone);
      }
    });
    return p;
  }
  async function entry(h: TarHeaderInit, body?: Uint8Array | ReadableStream<Uint8Array>) {
    const size = h.type === "file" ? h.size ?? 0 : 0;
    await put(encodeHeader({ ...h, size }));
    if (h.type !== "file") return;
    let n = 0;
    if (body instanceof Uint8Array) {
      if (body.length !== size) throw new InvalidArgument(`tar entry ${h.name}: size mismatch`);
      if (size) await put(body);
      n = size;
    } else if (body) {
      for await (const c of body) {
        n += c.length;
        if (n > size) throw new InvalidArgument(`tar entry ${h.name}: body longer than ${size}`);
        await put(c);
      }
    }
    if (n !== size) {
      throw new InvalidArgument(`tar entry ${h.name}: body is ${n} bytes, not ${size}`);
    }
    const pad = padding(size);
    if (pad) await put(ZEROS.subarray(0, pad));
  }

  return {
    stream: ts.readable,
    addFile: (name, data, opts) => serial(() => entry(init(name, "file", data.length, opts), data)),
    addStream: (name, size, body, opts) =>
      serial(() => entry(init(name, "file", size, opts), body)),
    addDir: (name, opts) => serial(() => entry(init(name, "dir", 0, opts))),
    addEntry: (header, body) => serial(() => entry(header, body)),
    finish: () =>
      serial(async () => {
        await put(ZEROS);
        done = true;
        await w.close();
      }),
    abort(reason) {
      if (failed === undefined) failed = reason ?? new Error("tar writer aborted");
      w.abort(failed).catch(peerGone);
    },
  };
}
