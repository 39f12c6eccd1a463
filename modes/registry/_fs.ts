/**
 * Small filesystem helpers for the registry storage.
 * @module
 */
import { tempPath, writeFileAtomic } from "../../core/store/atomic.ts";
import { keepFirstError } from "../../core/errdefs/ignore.ts";

export { writeFileAtomic };

/** Read a small text file, or null when it does not exist. */
export async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/** Size of a file, or null when it does not exist. */
export async function sizeOrNull(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

export async function exists(path: string): Promise<boolean> {
  return (await sizeOrNull(path)) !== null;
}

/** Remove a path; true if something was removed. */
export async function removeIfExists(path: string, recursive = false): Promise<boolean> {
  try {
    await Deno.remove(path, { recursive });
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Write a small file atomically, creating its directory. `durable: false`
 * skips the fsyncs: readers still see old or new content, but a crash may
 * lose the change (or leave an empty file, which readers treat as absent).
 */
export async function writeSmall(path: string, data: string, durable = true): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  if (durable) return await writeFileAtomic(path, data);
  const tmp = tempPath(path);
  try {
    await Deno.writeTextFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(keepFirstError);
    throw e;
  }
}

/** Names in a directory (empty if it does not exist). */
export async function listDir(path: string, dirsOnly = false): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) {
      if (!dirsOnly || e.isDirectory) out.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return out;
    throw e;
  }
  return out;
}

/** A stream of `length` bytes of a file starting at `start`; closes the file. */
export async function fileStream(
  path: string,
  start = 0,
  length?: number,
): Promise<ReadableStream<Uint8Array>> {
  const f = await Deno.open(path, { read: true });
  if (start > 0) await f.seek(start, Deno.SeekMode.Start);
  let left = length ?? Infinity;
  const bufSize = 256 * 1024;
  return new ReadableStream<Uint8Array>({
    type: "bytes",
    async pull(ctl) {
      if (left <= 0) {
        f.close();
        ctl.close();
        return;
      }
      const buf = new Uint8Array(Math.min(bufSize, left));
      const n = await f.read(buf);
      if (n === null || n === 0) {
        f.close();
        ctl.close();
        return;
      }
      left -= n;
      ctl.enqueue(n === buf.length ? buf : buf.subarray(0, n));
    },
    cancel() {
      try {
        f.close();
      } catch { /* already closed */ }
    },
  });
}
