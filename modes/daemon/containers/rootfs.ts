/**
 * A container's root filesystem: overlayfs with the image's layer dirs as
 * lower dirs (top first) and upper/work dirs in the container's directory,
 * mounted on the bundle's rootfs/. Where overlayfs is not available, the
 * layers are copied (whiteouts applied) into the container's directory once.
 * @module
 */
import { mount, mountsUnder, MS_RDONLY, unmount } from "./mount_linux.ts";
import { lgetxattr, S_IFCHR, S_IFMT } from "../../../core/sys/libc_fs.ts";
import { removeIfExists } from "../../../core/errdefs/ignore.ts";

/** mount(2)'s data argument must fit in a page. */
const MAX_DATA = 4000;

export interface RootfsPlan {
  /** layer diff dirs, bottom first */
  lowers: string[];
  /** the container's directory (upper/, work/, or rootfs/ for the copy fallback) */
  containerDir: string;
  /** where to mount */
  target: string;
}

let overlayBroken = false;

/** Mount the rootfs; returns the path to use as the bundle's root.path. */
export async function mountRootfs(p: RootfsPlan): Promise<string> {
  if (!overlayBroken) {
    try {
      await mountContainerOverlay(p);
      return p.target;
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      // ENODEV (no overlay) / EINVAL (fs cannot be upper) → copy fallback
      if (errno !== 19 && errno !== 22 && errno !== 95) throw e;
      overlayBroken = true;
    }
  }
  return await copyRootfs(p);
}

async function mountContainerOverlay(p: RootfsPlan): Promise<void> {
  const upper = `${p.containerDir}/upper`, work = `${p.containerDir}/work`;
  await Deno.mkdir(upper, { recursive: true, mode: 0o755 });
  await Deno.mkdir(work, { recursive: true, mode: 0o700 });
  await Deno.mkdir(p.target, { recursive: true, mode: 0o755 });
  let lowers = [...p.lowers].reverse();
  if (lowers.length === 0) {
    const empty = `${p.containerDir}/empty`;
    await Deno.mkdir(empty, { recursive: true });
    lowers = [empty];
  }
  await mountOverlay(p.target, lowers, { upper, work });
}

/**
 * Mount overlayfs on `target` (containers' roots and build steps' roots):
 * `lowers` top first; with `rw` writable, else read-only. A lowerdir list
 * too long for mount(2)'s one-page data argument goes through mount(8) from
 * the layers' common parent dir with relative paths. mount(2) errors carry
 * the errno (mount_linux.ts).
 */
export async function mountOverlay(
  target: string,
  lowers: string[],
  rw?: { upper: string; work: string },
): Promise<void> {
  const tail = rw ? `,upperdir=${rw.upper},workdir=${rw.work}` : "";
  const data = `lowerdir=${lowers.join(":")}${tail}`;
  if (data.length < MAX_DATA) {
    mount("overlay", target, "overlay", rw ? 0 : MS_RDONLY, data);
    return;
  }
  const base = commonParent(lowers);
  const rel = lowers.map((l) => l.slice(base.length + 1));
  const out = await new Deno.Command("mount", {
    args: ["-t", "overlay", "overlay", "-o", `lowerdir=${rel.join(":")}${tail}`, target]
      .concat(rw ? [] : ["-r"]),
    cwd: base || "/",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`mount overlay: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** The deepest directory all `paths` are below ("" for /). */
function commonParent(paths: string[]): string {
  let pre = paths[0].slice(0, paths[0].lastIndexOf("/"));
  for (const p of paths) {
    while (pre && !p.startsWith(pre + "/")) pre = pre.slice(0, pre.lastIndexOf("/"));
  }
  return pre;
}

/** Unmount the rootfs (and anything a runtime left below it). */
export async function unmountRootfs(target: string): Promise<void> {
  for (const m of await mountsUnder(target).catch(() => [target])) unmount(m);
}

async function copyRootfs(p: RootfsPlan): Promise<string> {
  const dst = `${p.containerDir}/rootfs`;
  try {
    await Deno.stat(`${dst}/.berth-complete`);
    return dst;
  } catch { /* build it */ }
  await removeIfExists(dst, { recursive: true }); // an unfinished copy
  await Deno.mkdir(dst, { recursive: true, mode: 0o755 });
  for (const layer of p.lowers) {
    const whiteouts: string[] = [];
    await applyWhiteouts(layer, dst, "", whiteouts);
    const out = await new Deno.Command("cp", { args: ["-a", `${layer}/.`, `${dst}/`] }).output();
    if (!out.success) throw new Error(`copying layer ${layer}: cp failed`);
    for (const w of whiteouts) await removeIfExists(`${dst}/${w}`);
  }
  await Deno.writeTextFile(`${dst}/.berth-complete`, "");
  return dst;
}

async function applyWhiteouts(layer: string, dst: string, rel: string, wh: string[]) {
  for await (const e of Deno.readDir(`${layer}/${rel}`)) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const st = await Deno.lstat(`${layer}/${r}`);
    if (((st.mode ?? 0) & S_IFMT) === S_IFCHR && st.rdev === 0) {
      await removeIfExists(`${dst}/${r}`, { recursive: true });
      wh.push(r);
    } else if (e.isDirectory) {
      const opaque = lgetxattr(`${layer}/${r}`, "trusted.overlay.opaque");
      if (opaque && opaque[0] === 0x79) {
        await removeIfExists(`${dst}/${r}`, { recursive: true });
      }
      await applyWhiteouts(layer, dst, r, wh);
    }
  }
}
