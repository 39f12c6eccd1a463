/**
 * Blob upload sessions. Bytes are appended to `uploads/<uuid>/data` while a
 * running hash is kept in memory; on commit the hash is compared with the
 * client's digest and only then is the file renamed into the blob store. A
 * session whose running hash is unusable (restart, failed write, another
 * algorithm) is re-hashed from disk at commit. Requests on one session are
 * serialised.
 *
 * @example
 * ```ts
 * import { Storage } from "./storage.ts";
 * import { Uploads } from "./uploads.ts";
 * const s = new Storage(await Deno.makeTempDir());
 * await s.init();
 * const u = new Uploads(s);
 * const id = await u.create("a/b");
 * console.assert((await u.size(id, "a/b")) === 0);
 * ```
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import type { Storage } from "./storage.ts";
import { RegistryError } from "./errors.ts";
import { readTextOrNull, removeIfExists, sizeOrNull } from "./_fs.ts";
import { handledElsewhere, keepFirstError } from "../../core/errdefs/ignore.ts";

interface Session {
  algorithm: string;
  hash: Hash | null;
  hashed: number;
  lock: Promise<unknown>;
}

interface Info {
  repo: string;
  startedAt: string;
  algorithm: string;
}

/** Write blocks grow from 64 KiB to 4 MiB, so small uploads stay small. */
const WRITE_BUF_MIN = 64 << 10;
const WRITE_BUF_MAX = 4 << 20;
const SYNC_EVERY = 16 << 20;

export class Uploads {
  #sessions = new Map<string, Session>();
  constructor(readonly storage: Storage) {}

  /** Start a session; returns its id. */
  async create(repo: string, algorithm = "sha256"): Promise<string> {
    if (algorithm !== "sha256" && algorithm !== "sha512") {
      throw new RegistryError("DIGEST_INVALID", `unsupported digest algorithm: ${algorithm}`);
    }
    const uuid = crypto.randomUUID();
    const p = this.storage.paths;
    await Deno.mkdir(p.uploadDir(uuid), { recursive: true });
    const info: Info = { repo, startedAt: new Date().toISOString(), algorithm };
    await Deno.writeTextFile(p.uploadInfo(uuid), JSON.stringify(info));
    await Deno.writeFile(p.uploadData(uuid), new Uint8Array());
    this.#sessions.set(uuid, {
      algorithm,
      hash: createHash(algorithm),
      hashed: 0,
      lock: Promise.resolve(),
    });
    return uuid;
  }

  async #info(uuid: string, repo: string): Promise<Info> {
    const t = await readTextOrNull(this.storage.paths.uploadInfo(uuid));
    if (t === null) throw new RegistryError("BLOB_UPLOAD_UNKNOWN");
    const info = JSON.parse(t) as Info;
    if (info.repo !== repo) throw new RegistryError("BLOB_UPLOAD_UNKNOWN");
    return info;
  }

  #session(uuid: string, info: Info): Session {
    let s = this.#sessions.get(uuid);
    if (!s) {
      s = { algorithm: info.algorithm, hash: null, hashed: 0, lock: Promise.resolve() };
      this.#sessions.set(uuid, s);
    }
    return s;
  }

  /** Run `fn` with the session locked. */
  async #locked<T>(uuid: string, repo: string, fn: (s: Session) => Promise<T>): Promise<T> {
    const info = await this.#info(uuid, repo);
    const s = this.#session(uuid, info);
    const run = s.lock.then(async () => {
      // The session may have been committed or cancelled while we waited.
      await this.#info(uuid, repo);
      return fn(s);
    });
    s.lock = run.catch(handledElsewhere); // run's caller gets its failure
    return run;
  }

  /** Bytes received so far. */
  async size(uuid: string, repo: string): Promise<number> {
    await this.#info(uuid, repo);
    return (await sizeOrNull(this.storage.paths.uploadData(uuid))) ?? 0;
  }

  /**
   * Append a chunk. With `range`, its start must equal the current size
   * (else 416) and its length must match what arrives.
   */
  append(
    uuid: string,
    repo: string,
    body: ReadableStream<Uint8Array> | null,
    range?: { start: number; end: number },
  ): Promise<number> {
    return this.#locked(uuid, repo, async (s) => {
      const path = this.storage.paths.uploadData(uuid);
      const size = (await sizeOrNull(path)) ?? 0;
      if (range && range.start !== size) {
        throw new RegistryError(
          "RANGE_INVALID",
          `chunk starts at ${range.start}, expected ${size}`,
          {
            status: 416,
            headers: uploadHeaders(repo, uuid, size),
          },
        );
      }
      if (!body) return size;
      const f = await Deno.open(path, { write: true, append: true });
      let written = 0;
      try {
        written = await copyToFile(f, path, body, (block) => {
          if (s.hash && s.hashed === size + written) s.hash.update(block);
          else s.hash = null;
          written += block.length;
          s.hashed = s.hash ? size + written : -1;
        });
      } catch (e) {
        s.hash = null;
        await f.truncate(size).catch(keepFirstError); // s.hash = null: resumed uploads re-hash
        f.close();
        throw new RegistryError(
          "BLOB_UPLOAD_INVALID",
          `upload interrupted: ${(e as Error).message}`,
        );
      }
      if (range && written !== range.end - range.start + 1) {
        s.hash = null;
        await f.truncate(size);
        f.close();
        throw new RegistryError("SIZE_INVALID", "chunk length does not match Content-Range");
      }
      f.close();
      return size + written;
    });
  }

  /** Verify against `digest` and move into the blob store; returns the size. */
  commit(uuid: string, repo: string, digest: string): Promise<number> {
    return this.#locked(uuid, repo, async (s) => {
      const path = this.storage.paths.uploadData(uuid);
      const algorithm = digest.slice(0, digest.indexOf(":"));
      const size = (await sizeOrNull(path)) ?? 0;
      let actual: string;
      if (s.hash && s.hashed === size && s.algorithm === algorithm) {
        actual = `${algorithm}:${s.hash.digest("hex")}`;
        s.hash = null;
      } else {
        actual = await hashFile(path, algorithm);
      }
      if (actual !== digest) {
        await this.#drop(uuid);
        throw new RegistryError("DIGEST_INVALID", `digest mismatch: got ${actual}`, {
          detail: { expected: digest, actual },
        });
      }
      const f = await Deno.open(path, { read: true, write: true });
      try {
        await f.syncData();
      } finally {
        f.close();
      }
      await this.storage.commitBlobFile(path, digest);
      await this.#drop(uuid);
      return size;
    });
  }

  /** Abandon a session. */
  cancel(uuid: string, repo: string): Promise<void> {
    return this.#locked(uuid, repo, () => this.#drop(uuid));
  }

  async #drop(uuid: string): Promise<void> {
    this.#sessions.delete(uuid);
    await removeIfExists(this.storage.paths.uploadDir(uuid), true);
  }
}

/**
 * Copy a stream into a file in blocks, writing one block while the next is
 * received. `onBlock` sees each block before it is written.
 */
async function copyToFile(
  f: Deno.FsFile,
  path: string,
  body: ReadableStream<Uint8Array>,
  onBlock: (block: Uint8Array) => void,
): Promise<number> {
  // Start writeback of large uploads early (through a second descriptor, so
  // it runs beside the writes): the fsync at commit then has little left.
  let syncFd: Deno.FsFile | undefined;
  let syncing: Promise<void> | undefined;
  let synced = 0;
  let cur = new Uint8Array(WRITE_BUF_MIN);
  let spare = new Uint8Array(0);
  let fill = 0;
  let total = 0;
  let pending: Promise<void> = Promise.resolve();
  const writeAll = async (b: Uint8Array) => {
    let off = 0;
    while (off < b.length) off += await f.write(b.subarray(off));
  };
  const flush = async () => {
    if (!fill) return;
    await pending;
    const block = cur.subarray(0, fill);
    onBlock(block);
    total += fill;
    pending = writeAll(block);
    if (total - synced >= SYNC_EVERY && !syncing) {
      synced = total;
      syncFd ??= await Deno.open(path, { read: true });
      const fd = syncFd;
      syncing = pending.then(() => fd.syncData()).finally(() => syncing = undefined);
    }
    const next = spare.length >= cur.length
      ? spare
      : new Uint8Array(Math.min(cur.length * 2, WRITE_BUF_MAX));
    spare = cur;
    cur = next;
    fill = 0;
  };
  try {
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(chunk.length - off, cur.length - fill);
        cur.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === cur.length) await flush();
      }
    }
    await flush();
  } catch (e) {
    await pending.catch(keepFirstError);
    await syncing?.catch(keepFirstError);
    syncFd?.close();
    throw e;
  }
  await pending;
  // only an early writeback: the fsync at commit is the one that counts
  await syncing?.catch(() => {});
  syncFd?.close();
  return total;
}

/** Location/Range headers describing an upload session. */
export function uploadHeaders(repo: string, uuid: string, size: number): Record<string, string> {
  return {
    "Location": `/v2/${repo}/blobs/uploads/${uuid}`,
    "Range": `0-${Math.max(0, size - 1)}`,
    "Docker-Upload-UUID": uuid,
  };
}

/** Digest of a file, streamed. */
export async function hashFile(path: string, algorithm: string): Promise<string> {
  const h = createHash(algorithm);
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = await f.read(buf);
      if (n === null) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    f.close();
  }
  return `${algorithm}:${h.digest("hex")}`;
}
