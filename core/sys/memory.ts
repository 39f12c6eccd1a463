/**
 * Give memory back to the system, for long-lived processes (the daemon):
 *
 * - {@link collectGarbage}: a full, compacting V8 collection (when `gc` is
 *   exposed) followed by glibc's malloc_trim, which returns the free pages of
 *   every malloc arena;
 * - {@link dropExecutablePages}: unmap the resident pages of the executable's
 *   clean, read-only mappings (madvise MADV_DONTNEED). They are page cache,
 *   shared with every other process running the same binary; the next use
 *   maps them again with a minor fault. What goes is the start-up-only code
 *   (module loader, transpile cache, …) that the kernel maps 64 KB at a
 *   time (fault-around) and that otherwise stays in the RSS for ever.
 *
 * libc (./libc.ts) is opened on first use, never at import.
 *
 * @example
 * ```ts ignore
 * import { collectGarbage, dropExecutablePages } from "./memory.ts";
 * collectGarbage();
 * dropExecutablePages();
 * ```
 * @module
 */
import { mallocTrim, NR, sys } from "./libc.ts";
import { dropCleanCodePages } from "./code_pages.ts";

export { mallocTrim };

type Gc = (o?: { type: string; execution: string; flavor?: string }) => void;
let gcFn: Gc | undefined;

/**
 * The `gc` function: the global one under `--expose-gc`, else one from a
 * fresh context after setting the flag at run time (node:v8 + node:vm; the
 * flag only reaches contexts made after it is set). Undefined when neither
 * works. The fallback costs a context (~0.5 MB), so it is opt-in.
 */
export async function exposeGc(fallback = false): Promise<Gc | undefined> {
  if (gcFn) return gcFn;
  const g = (globalThis as { gc?: Gc }).gc;
  if (typeof g === "function") return gcFn = g;
  if (!fallback) return undefined;
  try {
    const v8 = await import("node:v8");
    const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    const f = vm.runInNewContext("gc");
    if (typeof f === "function") gcFn = f;
  } catch { /* not available */ }
  return gcFn;
}

/**
 * Full GC that compacts and gives pages back ("last resort" flavour, several
 * passes), then malloc_trim. Without a `gc` (see {@link exposeGc}) only the
 * trim runs. Synchronous: blocks the event loop for the collection.
 */
export function collectGarbage(): void {
  const gc = gcFn ?? (globalThis as { gc?: Gc }).gc;
  if (typeof gc === "function") {
    try {
      gc({ type: "major", execution: "sync", flavor: "last-resort" });
    } catch {
      gc();
    }
  }
  mallocTrim();
}

/**
 * madvise(MADV_DONTNEED) the executable's clean read-only mappings: their
 * resident pages leave this process's RSS (they stay in the page cache).
 * Which mappings are clean is decided from the ELF program headers and
 * /proc/self/maps (./code_pages.ts, shared with the shim): read-only PT_LOAD
 * segments only, never RELRO. Returns how many bytes of mappings were
 * advised. Linux only; best effort.
 */
export function dropExecutablePages(): number {
  if (Deno.build.os !== "linux") return 0;
  return dropCleanCodePages((addr, len, advice) => sys(NR.madvise, addr, len, advice));
}
