/**
 * A registry API client for one host: manifests (GET/HEAD/PUT/DELETE), blobs
 * (HEAD, verified and resumable GET streams), tags and catalog with Link
 * pagination, referrers. Blob uploads are in upload.ts.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./client.ts";
 * const c = new RegistryClient("127.0.0.1:5000");
 * // const { digest } = await c.getManifest("library/busybox", "latest");
 * c.close();
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { InvalidArgument, NotFound } from "../errdefs/mod.ts";
import { DigestStream, parseDigest } from "../oci/digest.ts";
import { MT } from "../oci/mediatypes.ts";
import type { Index } from "../oci/types.ts";
import { responseError } from "./errors.ts";
import { Transport, type TransportOptions } from "./transport.ts";
import { peerGone } from "../errdefs/ignore.ts";

export const MANIFEST_ACCEPT = [
  MT.ociIndex,
  MT.dockerManifestList,
  MT.ociManifest,
  MT.dockerManifest,
].join(", ");

export const MAX_MANIFEST_BYTES = 4 << 20;

export type ClientOptions = TransportOptions;

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array<ArrayBuffer>;
}

export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}
export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}

function digestBytes(bytes: Uint8Array, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/** Media type of a manifest: its mediaType field, else the Content-Type, else by shape. */
export function manifestMediaType(bytes: Uint8Array, contentType?: string | null): string {
  let doc: { mediaType?: string; manifests?: unknown; config?: unknown } = {};
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidArgument("manifest is not valid JSON");
  }
  if (typeof doc.mediaType === "string" && doc.mediaType) return doc.mediaType;
  const ct = (contentType ?? "").split(";")[0].trim();
  if (ct && ct !== "application/octet-stream" && ct !== "text/plain") return ct;
  return doc.manifests ? MT.ociIndex : MT.ociManifest;
}

export class RegistryClient {
  readonly transport: Transport;

  constructor(readonly host: string, opts: ClientOptions = {}) {
    this.transport = new Transport(host, opts);
  }

  close(): void {
    this.transport.close();
  }

  #req(method: string, path: string, scopes: string[], init: Omit<RequestInit, "method"> = {}) {
    return this.transport.request(method, path, {
      scopes,
      headers: init.headers,
      body: init.body,
      signal: init.signal ?? undefined,
    });
  }

  /** Fetch a manifest by tag or digest, verifying a digest reference. */
  async getManifest(repo: string, ref: string, accept = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const res = await this.#req("GET", `/v2/${repo}/manifests/${ref}`, [pullScope(repo)], {
      headers: { Accept: accept },
    });
    if (!res.ok) throw await responseError(res, `manifest for ${repo}:${ref}`);
    const len = Number(res.headers.get("content-length") ?? 0);
    if (len > MAX_MANIFEST_BYTES) {
      await res.body?.cancel();
      throw new InvalidArgument(`manifest ${repo}:${ref} is too large (${len} bytes)`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new InvalidArgument(`manifest ${repo}:${ref} is too large`);
    }
    let digest: string;
    if (ref.includes(":")) {
      digest = digestBytes(bytes, parseDigest(ref).algorithm);
      if (digest !== ref) {
        throw new InvalidArgument(`manifest digest mismatch for ${repo}@${ref}: got ${digest}`);
      }
    } else {
      const header = res.headers.get("docker-content-digest");
      const alg = header && header.includes(":") ? header.slice(0, header.indexOf(":")) : "sha256";
      digest = digestBytes(bytes, alg === "sha512" ? "sha512" : "sha256");
      if (header && header !== digest && alg === digest.slice(0, digest.indexOf(":"))) {
        throw new InvalidArgument(
          `manifest for ${repo}:${ref}: Docker-Content-Digest ${header} does not match content ${digest}`,
        );
      }
    }
    const mediaType = manifestMediaType(bytes, res.headers.get("content-type"));
    return { digest, mediaType, bytes };
  }

  /** HEAD a manifest; null when absent. */
  async headManifest(
    repo: string,
    ref: string,
  ): Promise<{ digest?: string; mediaType?: string; size: number } | null> {
    const res = await this.#req("HEAD", `/v2/${repo}/manifests/${ref}`, [pullScope(repo)], {
      headers: { Accept: MANIFEST_ACCEPT },
    });
    await res.body?.cancel();
    if (res.status === 404) return null;
    if (!res.ok) throw await responseError(res, `manifest for ${repo}:${ref}`);
    return {
      digest: res.headers.get("docker-content-digest") ?? undefined,
      mediaType: res.headers.get("content-type")?.split(";")[0] ?? undefined,
      size: Number(res.headers.get("content-length") ?? 0),
    };
  }

  /** PUT a manifest; returns its digest. */
  async putManifest(
    repo: string,
    ref: string,
    bytes: Uint8Array<ArrayBuffer>,
    mediaType: string,
  ): Promise<string> {
    const res = await this.#req("PUT", `/v2/${repo}/manifests/${ref}`, [pushScope(repo)], {
      headers: { "Content-Type": mediaType },
      body: bytes,
    });
    if (!res.ok) throw await responseError(res, `push manifest ${repo}:${ref}`);
    await res.body?.cancel();
    return digestBytes(bytes, ref.startsWith("sha512:") ? "sha512" : "sha256");
  }

  async deleteManifest(repo: string, ref: string): Promise<void> {
    const res = await this.#req("DELETE", `/v2/${repo}/manifests/${ref}`, [
      `repository:${repo}:delete`,
    ]);
    if (!res.ok) throw await responseError(res, `delete ${repo}:${ref}`);
    await res.body?.cancel();
  }

  /** Size of a blob in `repo`, or null. */
  async headBlob(repo: string, digest: string, scopes = [pullScope(repo)]): Promise<number | null> {
    const res = await this.#req("HEAD", `/v2/${repo}/blobs/${digest}`, scopes);
    await res.body?.cancel();
    if (res.status === 404) return null;
    if (!res.ok) throw await responseError(res, `blob ${digest}`);
    return Number(res.headers.get("content-length") ?? 0);
  }

  /**
   * Stream a blob. The stream verifies digest (and `size` when given) at its
   * end and errors on mismatch; a connection lost midway is resumed with a
   * Range request (up to 3 times).
   */
  async getBlob(
    repo: string,
    digest: string,
    opts: { size?: number; verify?: boolean; signal?: AbortSignal } = {},
  ): Promise<{ size: number; body: ReadableStream<Uint8Array> }> {
    const open = async (offset: number) => {
      const headers: Record<string, string> = {};
      if (offset > 0) headers.Range = `bytes=${offset}-`;
      const res = await this.#req("GET", `/v2/${repo}/blobs/${digest}`, [pullScope(repo)], {
        headers,
        signal: opts.signal,
      });
      if (!res.ok) throw await responseError(res, `blob ${digest}`);
      return res;
    };
    const first = await open(0);
    const size = opts.size ?? Number(first.headers.get("content-length") ?? -1);
    let received = 0;
    let reader = first.body!.getReader();
    let retries = 0;
    const raw = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        for (;;) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              if (size >= 0 && received < size && retries < 3) throw new Error("short read");
              ctl.close();
              return;
            }
            received += value.length;
            ctl.enqueue(value);
            return;
          } catch (e) {
            if (opts.signal?.aborted || retries >= 3 || size < 0) throw e;
            retries++;
            reader.cancel().catch(peerGone);
            const res = await open(received);
            let skip = res.status === 206 ? 0 : received;
            const r = res.body!.getReader();
            if (skip > 0) {
              // Server ignored Range: drop what we already have.
              while (skip > 0) {
                const { done, value } = await r.read();
                if (done) throw new Error("blob shorter on retry");
                if (value.length <= skip) skip -= value.length;
                else {
                  const rest = value.subarray(skip);
                  skip = 0;
                  received += rest.length;
                  ctl.enqueue(rest);
                }
              }
            }
            reader = r;
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    if (opts.verify === false) return { size, body: raw };
    const ds = new DigestStream(parseDigest(digest).algorithm);
    const check = new TransformStream<Uint8Array, Uint8Array>({
      flush() {
        const got = ds.digest();
        if (got !== digest) {
          throw new InvalidArgument(`blob digest mismatch: expected ${digest}, got ${got}`);
        }
        if (opts.size !== undefined && ds.size !== opts.size) {
          throw new InvalidArgument(`blob ${digest}: expected ${opts.size} bytes, got ${ds.size}`);
        }
      },
    });
    return { size, body: raw.pipeThrough(ds).pipeThrough(check) };
  }

  /** All tags of a repository (following Link pagination). */
  async listTags(repo: string): Promise<string[]> {
    return await this.#paged(`/v2/${repo}/tags/list`, [pullScope(repo)], "tags", `tags of ${repo}`);
  }

  /** All repositories of the registry. */
  async catalog(): Promise<string[]> {
    return await this.#paged("/v2/_catalog", ["registry:catalog:*"], "repositories", "catalog");
  }

  async #paged(path: string, scopes: string[], field: string, what: string): Promise<string[]> {
    const out: string[] = [];
    let next: string | null = path;
    for (let i = 0; next && i < 10000; i++) {
      const res = await this.#req("GET", next, scopes);
      if (res.status === 404 && field === "tags") {
        throw new NotFound(`repository not found: ${what}`);
      }
      if (!res.ok) throw await responseError(res, what);
      const j = await res.json() as Record<string, string[] | null>;
      out.push(...(j[field] ?? []));
      const link = res.headers.get("link");
      const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      next = m ? m[1] : null;
    }
    return out;
  }

  /** The referrers index of a manifest (empty when the registry lacks the API). */
  async referrers(repo: string, digest: string, artifactType?: string): Promise<Index> {
    const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : "";
    const res = await this.#req("GET", `/v2/${repo}/referrers/${digest}${q}`, [pullScope(repo)]);
    if (res.status === 404) {
      await res.body?.cancel();
      return { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] };
    }
    if (!res.ok) throw await responseError(res, `referrers of ${digest}`);
    return await res.json() as Index;
  }
}
