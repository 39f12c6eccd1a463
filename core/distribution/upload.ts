/**
 * Blob upload to a registry: HEAD first, cross-repository mount when a
 * source repository is known, then a monolithic PUT for small blobs or
 * Content-Range PATCH chunks for large ones, closed by PUT ?digest=.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./client.ts";
 * import { uploadBlob } from "./upload.ts";
 * const c = new RegistryClient("127.0.0.1:5000");
 * const bytes = new TextEncoder().encode("x");
 * // await uploadBlob(c, "a/b", { digest: "sha256:…", size: 1 }, async () => new Blob([bytes]).stream());
 * c.close();
 * ```
 * @module
 */
import { Unavailable } from "../errdefs/mod.ts";
import { pushScope, type RegistryClient } from "./client.ts";
import { responseError } from "./errors.ts";
import { peerGone } from "../errdefs/ignore.ts";

export interface UploadOptions {
  /** Repositories on the same registry that may already hold the blob. */
  mountFrom?: string[];
  /** Blobs up to this size go in one PUT (default 32 MiB). */
  monolithicMax?: number;
  /** PATCH chunk size for larger blobs (default 32 MiB). */
  chunkSize?: number;
  onProgress?: (sent: number) => void;
  signal?: AbortSignal;
}

export type UploadResult = { kind: "exists" } | { kind: "mounted"; from: string } | {
  kind: "pushed";
};

/** Reads fixed-size pieces from one stream, each as its own stream. */
class Chunker {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #carry: Uint8Array | null = null;
  #done = false;
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }
  get done(): boolean {
    return this.#done && !this.#carry;
  }
  /** The next `n` bytes (fewer at the end). */
  next(n: number, onBytes: (k: number) => void): ReadableStream<Uint8Array> {
    let left = n;
    return new ReadableStream<Uint8Array>({
      pull: async (ctl) => {
        if (left === 0) return ctl.close();
        let chunk = this.#carry;
        this.#carry = null;
        if (!chunk) {
          const r = await this.#reader.read();
          if (r.done) {
            this.#done = true;
            return ctl.close();
          }
          chunk = r.value;
        }
        if (chunk.length > left) {
          this.#carry = chunk.subarray(left);
          chunk = chunk.subarray(0, left);
        }
        left -= chunk.length;
        onBytes(chunk.length);
        ctl.enqueue(chunk);
        if (left === 0) ctl.close();
      },
    });
  }
  cancel(): void {
    this.#reader.cancel().catch(peerGone);
  }
}

async function readAll(
  body: ReadableStream<Uint8Array>,
  size: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(size);
  let off = 0;
  for await (const c of body) {
    if (off + c.length > size) throw new Unavailable("blob source is longer than its size");
    out.set(c, off);
    off += c.length;
  }
  return off === size ? out : out.slice(0, off);
}

function withParam(loc: string, key: string, value: string): string {
  const u = new URL(loc, "http://placeholder");
  u.searchParams.set(key, value);
  return /^https?:\/\//.test(loc) ? u.toString() : u.pathname + u.search;
}

/** Upload one blob unless the registry has it; `open` is called only if bytes must be sent. */
export async function uploadBlob(
  client: RegistryClient,
  repo: string,
  desc: { digest: string; size: number },
  open: () => Promise<ReadableStream<Uint8Array>>,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const t = client.transport;
  const scopes = [pushScope(repo)];
  if ((await client.headBlob(repo, desc.digest, scopes)) !== null) return { kind: "exists" };

  let location: string | undefined;
  for (const from of opts.mountFrom ?? []) {
    if (from === repo) continue;
    const res = await t.request(
      "POST",
      `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${
        encodeURIComponent(from)
      }`,
      { scopes: [...scopes, `repository:${from}:pull`], signal: opts.signal },
    );
    await res.body?.cancel();
    if (res.status === 201) return { kind: "mounted", from };
    if (res.status === 202 && res.headers.get("location")) {
      if (location) {
        await t.request("DELETE", location, { scopes }).then((r) => r.body?.cancel(), () => {});
      }
      location = res.headers.get("location")!;
    }
  }
  if (!location) {
    const res = await t.request("POST", `/v2/${repo}/blobs/uploads/`, {
      scopes,
      signal: opts.signal,
    });
    if (res.status !== 202) throw await responseError(res, `start upload of ${desc.digest}`);
    await res.body?.cancel();
    location = res.headers.get("location") ?? undefined;
    if (!location) throw new Unavailable("registry returned no upload location");
  }

  const body = await open();
  let sent = 0;
  const progress = (k: number) => {
    sent += k;
    opts.onProgress?.(sent);
  };
  try {
    const monolithicMax = opts.monolithicMax ?? 32 << 20;
    if (desc.size <= monolithicMax) {
      const bytes = await readAll(body, desc.size);
      const res = await t.request("PUT", withParam(location, "digest", desc.digest), {
        scopes,
        headers: { "Content-Type": "application/octet-stream" },
        body: bytes,
        signal: opts.signal,
      });
      if (res.status !== 201) throw await responseError(res, `upload ${desc.digest}`);
      await res.body?.cancel();
      progress(bytes.length);
      return { kind: "pushed" };
    }
    const chunk = opts.chunkSize ?? 32 << 20;
    const chunker = new Chunker(body);
    let offset = 0;
    while (offset < desc.size) {
      const len = Math.min(chunk, desc.size - offset);
      const res = await t.request("PATCH", location, {
        scopes,
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Range": `${offset}-${offset + len - 1}`,
        },
        body: chunker.next(len, progress),
        signal: opts.signal,
      });
      if (res.status !== 202) {
        chunker.cancel();
        throw await responseError(res, `upload ${desc.digest} at ${offset}`);
      }
      await res.body?.cancel();
      location = res.headers.get("location") ?? location;
      offset += len;
    }
    chunker.cancel();
    const res = await t.request("PUT", withParam(location, "digest", desc.digest), {
      scopes,
      headers: { "Content-Length": "0" },
      signal: opts.signal,
    });
    if (res.status !== 201) throw await responseError(res, `upload ${desc.digest}`);
    await res.body?.cancel();
    return { kind: "pushed" };
  } catch (e) {
    await t.request("DELETE", location, { scopes }).then((r) => r.body?.cancel(), () => {});
    throw e;
  }
}
