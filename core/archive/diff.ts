/**
 * A layer tar from an overlayfs upper directory: 0/0 character devices
 * become `.wh.NAME`, directories marked `trusted.overlay.opaque=y` get a
 * `.wh..wh..opq` entry (before their children), everything else is archived
 * as-is (see pack.ts). Deterministic: sorted, whole-second mtimes, no
 * atime/ctime, overlay's own xattrs dropped.
 *
 * @example
 * ```ts ignore
 * import { diffFromUpper } from "./diff.ts";
 * import { DigestStream } from "../oci/digest.ts";
 * const ds = new DigestStream();
 * await diffFromUpper("/var/lib/berth/containers/x/upper").pipeThrough(ds).pipeTo(sink);
 * console.log(ds.digest()); // the diffID
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { splitDev } from "../sys/libc_fs.ts";
import { type Entry, type Filter, HeaderMaker, tarStream, walk } from "./_walk.ts";
import { OPAQUE, OVERLAY_OPAQUE_XATTR, WH_PREFIX } from "./whiteout.ts";

function isWhiteoutDev(st: Deno.FileInfo): boolean {
  if (!st.isCharDevice) return false;
  const d = splitDev(st.rdev ?? 0);
  return d.major === 0 && d.minor === 0;
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/**
 * Make an uncompressed layer tar from an overlay upper dir; `filter` (the
 * walk's: false skips a subtree, "descend" omits only the entry) leaves out
 * what is not a change (e.g. a container's runtime-made mount points).
 */
export function diffFromUpper(
  upperDir: string,
  opts: { filter?: Filter } = {},
): ReadableStream<Uint8Array> {
  function* gen(): Generator<Entry> {
    const hm = new HeaderMaker();
    for (const item of walk(upperDir, "", opts.filter)) {
      const { st, rel, abs } = item;
      const slash = rel.lastIndexOf("/");
      const dir = slash < 0 ? "" : rel.slice(0, slash), base = rel.slice(slash + 1);
      const mtime = Math.floor((st.mtime?.getTime() ?? 0) / 1000);
      if (isWhiteoutDev(st)) {
        yield [{
          name: join(dir, WH_PREFIX + base),
          type: "file",
          mode: 0,
          uid: st.uid ?? 0,
          gid: st.gid ?? 0,
          mtime,
        }];
        continue;
      }
      const h = hm.header(item);
      if (!h) continue;
      for (const x of ["redirect", "metacopy"]) {
        if (hm.overlayXattrs.has(`trusted.overlay.${x}`)) {
          throw new InvalidArgument(
            `${rel}: overlay ${x} entries are not supported (mount with redirect_dir=off,metacopy=off)`,
          );
        }
      }
      yield [h, abs];
      if (st.isDirectory) {
        const v = hm.overlayXattrs.get(OVERLAY_OPAQUE_XATTR);
        if (v && v.length === 1 && v[0] === 0x79) { // "y"
          yield [{
            name: join(rel, OPAQUE),
            type: "file",
            mode: (st.mode ?? 0) & 0o777,
            uid: st.uid ?? 0,
            gid: st.gid ?? 0,
            mtime,
          }];
        }
      }
    }
  }
  return tarStream(gen());
}
