/**
 * Tar a directory tree (build contexts, rootfs export): sorted, with
 * hardlinks, symlinks, devices, fifos, xattrs (PAX `SCHILY.xattr.*`), owners,
 * modes and mtimes (whole seconds). Sockets are skipped.
 *
 * @example
 * ```ts ignore
 * import { packDir } from "./pack.ts";
 * const tar = packDir("/src/app", { filter: (rel) => !rel.startsWith("node_modules") });
 * await tar.pipeTo((await Deno.create("/tmp/ctx.tar")).writable);
 * ```
 * @module
 */
import { cleanName } from "./_confine.ts";
import { type Entry, type Filter, HeaderMaker, tarStream, walk } from "./_walk.ts";

export type { Filter };

export interface PackOptions {
  /** Only these paths (relative to dir; dirs recursively), in the given order. */
  paths?: string[];
  /** Per entry (relative path, no trailing "/"): true include, false skip (a dir with its
   *  subtree), "descend" omit the dir itself but visit its children. */
  filter?: Filter;
  /** Rename each entry (and hardlink target) on the way out: `docker cp`'s rebasing. */
  rename?: (name: string) => string;
}

/** Tar a directory (or a subset of paths relative to it). */
export function packDir(dir: string, opts: PackOptions = {}): ReadableStream<Uint8Array> {
  function* gen(): Generator<Entry> {
    const hm = new HeaderMaker();
    const starts = opts.paths?.map((p) => cleanName(p, "path").join("/")) ?? [""];
    for (const start of starts) {
      for (const item of walk(dir, start, opts.filter)) {
        const h = hm.header(item);
        if (!h) continue;
        if (opts.rename) {
          h.name = opts.rename(h.name);
          if (h.type === "link" && h.linkname) h.linkname = opts.rename(h.linkname);
        }
        yield [h, item.abs];
      }
    }
  }
  return tarStream(gen());
}
