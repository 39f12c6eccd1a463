/**
 * The few failures that are right to ignore, named, so that a `catch` that
 * swallows says which failure it expects (and lets the others through where
 * they matter). Use these instead of `.catch(() => {})`:
 *
 * - {@link ignoreNotFound} / {@link removeIfExists}: the thing is already
 *   gone, which is what removing it wanted; any other failure is thrown.
 * - {@link peerGone}: closing, cancelling or writing to a stream or
 *   connection whose other end may be gone; nothing is lost with it.
 * - {@link handledElsewhere}: a promise whose failure is awaited and handled
 *   in another place; this only keeps it from being an unhandled rejection.
 *
 * @example
 * ```ts
 * import { ignoreNotFound, peerGone, removeIfExists } from "./ignore.ts";
 * await Deno.remove("/tmp/does-not-exist").catch(ignoreNotFound);
 * await removeIfExists("/tmp/also-gone", { recursive: true });
 * const body = new ReadableStream();
 * await body.cancel().catch(peerGone);
 * ```
 * @module
 */

/** Rethrows anything but "not found" (Deno.errors.NotFound, or an errno error with code ENOENT). */
export function ignoreNotFound(e: unknown): void {
  if (e instanceof Deno.errors.NotFound) return;
  if ((e as { code?: string } | null)?.code === "ENOENT") return;
  throw e;
}

/** Deno.remove, where a path already gone counts as removed; other failures throw. */
export async function removeIfExists(path: string, options?: Deno.RemoveOptions): Promise<void> {
  await Deno.remove(path, options).catch(ignoreNotFound);
}

/** Deno.removeSync, where a path already gone counts as removed; other failures throw. */
export function removeIfExistsSync(path: string, options?: Deno.RemoveOptions): void {
  try {
    Deno.removeSync(path, options);
  } catch (e) {
    ignoreNotFound(e);
  }
}

/**
 * For closing, cancelling, aborting or writing to a stream or connection
 * whose other end may be gone (a client that hung up, a process that
 * exited): its failure loses nothing, the stream is finished either way.
 */
export function peerGone(_e: unknown): void {}

/**
 * For a promise that is also awaited (and its failure handled) elsewhere:
 * this only keeps its rejection from crashing the process as unhandled.
 */
export function handledElsewhere(_e: unknown): void {}

/** The message of a thrown value, for logs. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * For cleanup on a path that is already throwing: the first error is the one
 * to report, and a failure of the cleanup must not replace it.
 */
export function keepFirstError(_e: unknown): void {}

/**
 * For removing a `.tmp-*` / ingest leftover: one that stays is swept by the
 * store's init() at the next start, so nothing is lost or leaked for good.
 */
export function sweptAtStart(_e: unknown): void {}

/**
 * For removing a temporary file, socket or dir of one operation: one left
 * behind holds nothing anyone needs, and failing the operation (or hiding
 * its own error) for it would be worse.
 */
export function tempLeftover(_e: unknown): void {}

/** Deno.stat, or null when nothing is there; other failures (EACCES, EIO …) throw. */
export async function statIfExists(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    ignoreNotFound(e);
    return null;
  }
}

/** Deno.lstat, or null when nothing is there; other failures throw. */
export async function lstatIfExists(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    ignoreNotFound(e);
    return null;
  }
}

/**
 * Deno.statSync succeeds (links followed): the path is there and ours to
 * look at. Any failure is false: absent, or unreadable, which the callers
 * (cgroup files, /sys and /proc probes, the network registry) treat alike.
 */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false; // absent or unreadable: not there for us
  }
}
