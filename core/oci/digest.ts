/**
 * Content digests (`sha256:<64 hex>`): parsing, validation, and streaming
 * computation through a hashing TransformStream.
 *
 * @example
 * ```ts
 * import { sha256Digest, parseDigest } from "./digest.ts";
 * const d = sha256Digest(new TextEncoder().encode("hi"));
 * console.assert(parseDigest(d).hex.length === 64);
 * ```
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { InvalidArgument } from "../errdefs/mod.ts";

export type Digest = string;

const DIGEST_RE = /^(sha256):([a-f0-9]{64})$|^(sha512):([a-f0-9]{128})$/;

/** Split and validate a digest; throws InvalidArgument. */
export function parseDigest(d: string): { algorithm: string; hex: string } {
  const m = DIGEST_RE.exec(d);
  if (!m) throw new InvalidArgument(`invalid digest: ${JSON.stringify(d)}`);
  return m[1] ? { algorithm: m[1], hex: m[2] } : { algorithm: m[3], hex: m[4] };
}

/** True when `d` is a well-formed digest. */
export function isDigest(d: string): boolean {
  return DIGEST_RE.test(d);
}

/** sha256 digest of bytes. */
export function sha256Digest(data: Uint8Array | string): Digest {
  return "sha256:" + createHash("sha256").update(data).digest("hex");
}

/** Hex part of a sha256 digest, for short IDs. */
export function shortId(d: string, len = 12): string {
  const i = d.indexOf(":");
  return d.slice(i + 1, i + 1 + len);
}

/**
 * A pass-through stream that hashes and counts what flows through it.
 * `digest()` is valid once the stream has been fully read.
 */
export class DigestStream extends TransformStream<Uint8Array, Uint8Array> {
  #state: { hash: Hash; size: number; result: string };
  constructor(algorithm = "sha256") {
    const state = { hash: createHash(algorithm), size: 0, result: "" };
    super({
      transform(chunk, ctl) {
        state.hash.update(chunk);
        state.size += chunk.byteLength;
        ctl.enqueue(chunk);
      },
      flush() {
        state.result = `${algorithm}:${state.hash.digest("hex")}`;
      },
    });
    this.#state = state;
  }
  /** The digest; throws if the stream has not ended. */
  digest(): Digest {
    if (!this.#state.result) throw new Error("digest read before the stream ended");
    return this.#state.result;
  }
  /** Bytes seen so far. */
  get size(): number {
    return this.#state.size;
  }
}

/** Incremental hasher, for code that already loops over chunks. */
export class Hasher {
  #h: Hash;
  #alg: string;
  size = 0;
  constructor(algorithm = "sha256") {
    this.#alg = algorithm;
    this.#h = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.#h.update(chunk);
    this.size += chunk.byteLength;
  }
  digest(): Digest {
    return `${this.#alg}:${this.#h.digest("hex")}`;
  }
}
