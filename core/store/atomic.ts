/**
 * Crash-safe file writes: temp file in the same directory, fsync, rename,
 * fsync the directory. A reader sees the old content or the new, never a mix.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * await writeFileAtomic("/tmp/x.json", new TextEncoder().encode("{}"));
 * ```
 * @module
 */

import { keepFirstError, removeIfExists } from "../errdefs/ignore.ts";

let counter = 0;

/** A unique temp name beside `path` (same filesystem, so rename is atomic). */
export function tempPath(path: string): string {
  const dir = path.slice(0, path.lastIndexOf("/") + 1);
  const base = path.slice(path.lastIndexOf("/") + 1);
  return `${dir}.tmp-${base}-${Deno.pid}-${Date.now()}-${counter++}`;
}

/** fsync a directory so a rename inside it is durable. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

/** Write `data` to `path` atomically and durably. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: { mode?: number } = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = tempPath(path);
  const f = await Deno.open(tmp, { write: true, createNew: true, mode: opts.mode ?? 0o644 });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.sync();
  } catch (e) {
    f.close();
    await Deno.remove(tmp).catch(keepFirstError);
    throw e;
  }
  f.close();
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(keepFirstError);
    throw e;
  }
  await syncDir(path.slice(0, path.lastIndexOf("/")) || "/");
}

/** JSON convenience over writeFileAtomic. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 1));
}

/** Read JSON, or return `fallback` when the file does not exist. */
export async function readJson<T>(path: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return fallback;
    throw e;
  }
}

/** Remove `.tmp-*` leftovers of interrupted writes in a directory. */
export async function removeStaleTemps(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(".tmp-")) {
        await removeIfExists(`${dir}/${e.name}`, { recursive: true });
        n++;
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return n;
}
