/**
 * `--proxy-remote`: a pull-through cache. Tags are resolved upstream (HEAD,
 * then GET only for manifests not cached yet) and fall back to the local
 * copy when the upstream is unreachable; manifests and blobs fetched from
 * upstream are verified and stored locally as they stream to the client.
 *
 * @example
 * ```ts
 * import { Storage } from "./storage.ts";
 * import { ProxyUpstream } from "./proxy.ts";
 * const up = new ProxyUpstream(new Storage(await Deno.makeTempDir()), "http://127.0.0.1:5001", {});
 * ```
 * @module
 */
import { isKind } from "../../core/errdefs/mod.ts";
import { RegistryClient } from "../../core/distribution/client.ts";
import { InvalidArgument } from "../../core/errdefs/mod.ts";
import type { Upstream } from "./context.ts";
import type { Storage } from "./storage.ts";
import { Uploads } from "./uploads.ts";
import { peerGone } from "../../core/errdefs/ignore.ts";

export class ProxyUpstream implements Upstream {
  readonly client: RegistryClient;
  readonly #uploads: Uploads;

  constructor(
    readonly storage: Storage,
    remote: string,
    auth: { username?: string; password?: string },
  ) {
    let u: URL;
    try {
      u = new URL(remote);
    } catch {
      throw new InvalidArgument(`invalid --proxy-remote URL: ${remote}`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new InvalidArgument(`--proxy-remote must be an http(s) URL: ${remote}`);
    }
    this.client = new RegistryClient(u.host, {
      credentials: auth.username ? { username: auth.username, password: auth.password } : undefined,
      scheme: u.protocol === "http:" ? "http" : "https",
    });
    this.#uploads = new Uploads(storage);
  }

  async manifest(name: string, ref: string): Promise<{ digest: string } | null> {
    try {
      if (!ref.includes(":")) {
        const head = await this.client.headManifest(name, ref);
        if (!head) return null;
        if (head.digest && (await this.storage.getRevision(name, head.digest))) {
          await this.storage.setTag(name, ref, head.digest);
          return { digest: head.digest };
        }
      }
      const m = await this.client.getManifest(name, ref);
      await this.storage.putManifest(name, { digest: m.digest, mediaType: m.mediaType }, m.bytes);
      if (!ref.includes(":")) await this.storage.setTag(name, ref, m.digest);
      return { digest: m.digest };
    } catch (e) {
      if (isKind(e, "NotFound")) return null;
      throw e;
    }
  }

  async blob(
    name: string,
    digest: string,
  ): Promise<{ size: number; body: ReadableStream<Uint8Array> } | null> {
    let got;
    try {
      got = await this.client.getBlob(name, digest);
    } catch (e) {
      if (isKind(e, "NotFound")) return null;
      throw e;
    }
    const [toClient, toCache] = got.body.tee();
    // a copy that does not make it into the cache is fetched again next time
    this.#cache(name, digest, toCache).catch(() => {});
    return { size: got.size, body: toClient };
  }

  async #cache(name: string, digest: string, body: ReadableStream<Uint8Array>): Promise<void> {
    const id = await this.#uploads.create(name, digest.slice(0, digest.indexOf(":")));
    try {
      await this.#uploads.append(id, name, body);
      await this.#uploads.commit(id, name, digest);
      await this.storage.linkBlob(name, digest);
    } catch (e) {
      await this.#uploads.cancel(id, name).catch(peerGone);
      throw e;
    }
  }

  async tags(name: string): Promise<string[] | null> {
    try {
      return await this.client.listTags(name);
    } catch (e) {
      if (isKind(e, "NotFound")) return null;
      throw e;
    }
  }
}
