/**
 * Unpacked layers, one directory per chain ID (layers/<hex>/diff), usable as
 * overlayfs lower dirs and shared between images. A layer is unpacked into a
 * temp dir and renamed into place only when its diffID has been verified, so
 * a crash leaves either the whole layer or nothing (temp dirs are swept).
 *
 * @example
 * ```ts
 * import { chainIds } from "./layers.ts";
 * const c = chainIds(["sha256:" + "a".repeat(64)]);
 * ```
 * @module
 */
import { type Digest, sha256Digest } from "../oci/digest.ts";
import { InvalidArgument, NotFound } from "../errdefs/mod.ts";
import { applyLayer } from "../archive/mod.ts";
import { readJson, syncDir, writeJsonAtomic } from "./atomic.ts";
import { PRIVATE_DIR } from "./perms.ts";
import { syncFs } from "../sys/libc_fs.ts";
import { ignoreNotFound, removeIfExists, sweptAtStart } from "../errdefs/ignore.ts";

/** Chain IDs per the OCI image spec. */
export function chainIds(diffIds: Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    out.push(out.length === 0 ? d : sha256Digest(`${out[out.length - 1]} ${d}`));
  }
  return out;
}

/** A layer unpacked into a temp dir, waiting to be adopted under its chain ID. */
export interface PreparedLayer {
  dir: string;
  diffID: Digest;
  size: number;
}

export interface LayerMeta {
  chainId: Digest;
  diffId: Digest;
  parent?: Digest;
  /** Uncompressed tar size. */
  size: number;
  createdAt: string;
}

function hex(d: Digest): string {
  return d.slice(d.indexOf(":") + 1);
}

export class LayerStore {
  readonly root: string;
  #inflight = new Map<string, Promise<LayerMeta>>();
  #seq = 0;
  constructor(root: string) {
    this.root = root;
  }

  async init(): Promise<void> {
    await Deno.mkdir(`${this.root}/layers`, { recursive: true, mode: PRIVATE_DIR });
    for await (const e of Deno.readDir(`${this.root}/layers`)) {
      if (e.name.startsWith(".tmp-")) {
        await removeIfExists(`${this.root}/layers/${e.name}`, { recursive: true });
      }
    }
  }

  /** The unpacked directory of a chain (overlay lowerdir). */
  diffDir(chainId: Digest): string {
    return `${this.root}/layers/${hex(chainId)}/diff`;
  }

  async meta(chainId: Digest): Promise<LayerMeta> {
    const m = await readJson<LayerMeta | null>(
      `${this.root}/layers/${hex(chainId)}/meta.json`,
      null,
    );
    if (!m) throw new NotFound(`layer ${chainId} not found`);
    return m;
  }

  async has(chainId: Digest): Promise<boolean> {
    try {
      await Deno.stat(`${this.root}/layers/${hex(chainId)}/meta.json`);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Make sure the layer `chainId` (parent + diffId) is unpacked, reading the
   * blob from `open()` only when it is missing. Concurrent calls for the same
   * chain share one unpack.
   */
  ensure(
    chainId: Digest,
    diffId: Digest,
    parent: Digest | undefined,
    open: () => Promise<ReadableStream<Uint8Array>>,
  ): Promise<LayerMeta> {
    const key = chainId;
    const running = this.#inflight.get(key);
    if (running) return running;
    const p = this.#ensure(chainId, diffId, parent, open).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #ensure(
    chainId: Digest,
    diffId: Digest,
    parent: Digest | undefined,
    open: () => Promise<ReadableStream<Uint8Array>>,
  ): Promise<LayerMeta> {
    if (await this.has(chainId)) return this.meta(chainId);
    const prepared = await this.unpackTemp(await open());
    return this.adopt(chainId, diffId, parent, prepared);
  }

  /**
   * Unpack a layer tar into a fresh temp dir (not yet visible). The caller
   * must `adopt` or `discard` the result.
   */
  async unpackTemp(body: ReadableStream<Uint8Array>): Promise<PreparedLayer> {
    const dir = `${this.root}/layers/.tmp-${Deno.pid}-${Date.now()}-${this.#seq++}`;
    await Deno.mkdir(dir, { mode: PRIVATE_DIR });
    await Deno.mkdir(`${dir}/diff`);
    try {
      const res = await applyLayer(body, `${dir}/diff`, { whiteouts: "overlay" });
      return { dir, diffID: res.diffID, size: res.size };
    } catch (e) {
      await this.discard({ dir, diffID: "", size: 0 });
      throw e;
    }
  }

  async discard(p: PreparedLayer): Promise<void> {
    await Deno.remove(p.dir, { recursive: true }).catch(sweptAtStart);
  }

  /**
   * Make an unpacked temp layer the layer of `chainId`, after checking its
   * diffID. Durable before visible: syncfs, meta.json, rename.
   */
  async adopt(
    chainId: Digest,
    diffId: Digest,
    parent: Digest | undefined,
    p: PreparedLayer,
  ): Promise<LayerMeta> {
    try {
      if (p.diffID !== diffId) {
        throw new InvalidArgument(`layer diffID mismatch: expected ${diffId}, got ${p.diffID}`);
      }
      if (await this.has(chainId)) {
        await this.discard(p);
        return this.meta(chainId);
      }
      const meta: LayerMeta = {
        chainId,
        diffId,
        parent,
        size: p.size,
        createdAt: new Date().toISOString(),
      };
      // Unpacked files are not fsynced one by one; one syncfs makes them durable.
      await syncFs(p.dir);
      await writeJsonAtomic(`${p.dir}/meta.json`, meta);
      await syncDir(p.dir);
      try {
        await Deno.rename(p.dir, `${this.root}/layers/${hex(chainId)}`);
      } catch (e) {
        // Another process finished first: keep theirs.
        if (await this.has(chainId)) {
          await this.discard(p);
          return this.meta(chainId);
        }
        throw e;
      }
      await syncDir(`${this.root}/layers`);
      return meta;
    } catch (e) {
      await this.discard(p);
      throw e;
    }
  }

  /**
   * Apply a layer whose diffID is not known yet (import, build). Returns the
   * diffID and the chain's meta.
   */
  async create(
    parent: Digest | undefined,
    body: ReadableStream<Uint8Array>,
  ): Promise<LayerMeta> {
    const p = await this.unpackTemp(body);
    const chainId = parent ? sha256Digest(`${parent} ${p.diffID}`) : p.diffID;
    return this.adopt(chainId, p.diffID, parent, p);
  }

  /** Remove an unpacked layer (caller checks it is unreferenced). */
  async remove(chainId: Digest): Promise<void> {
    const dir = `${this.root}/layers/${hex(chainId)}`;
    const trash = `${this.root}/layers/.tmp-rm-${hex(chainId).slice(0, 16)}-${this.#seq++}`;
    try {
      await Deno.rename(dir, trash);
    } catch (e) {
      ignoreNotFound(e); // already gone: removed
      return;
    }
    await Deno.remove(trash, { recursive: true }).catch(sweptAtStart);
  }

  async *list(): AsyncIterable<Digest> {
    for await (const e of Deno.readDir(`${this.root}/layers`)) {
      if (/^[a-f0-9]{64}$/.test(e.name)) yield `sha256:${e.name}`;
    }
  }
}
