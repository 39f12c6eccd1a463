/**
 * A container's root filesystem: overlayfs with the image's layer dirs as
 * lower dirs (top first) and upper/work dirs in the container's directory,
 * mounted on the bundle's rootfs/. Where overlayfs is not available, the
 * layers are copied (whiteouts applied) into the container's directory once.
 * @module
 */
import { mount, mountsUnder, unmount } from "./mount_linux.ts";
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
      await mountOverlay(p);
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

async function mountOverlay(p: RootfsPlan): Promise<void> {
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
  const data = `lowerdir=${lowers.join(":")},upperdir=${upper},workdir=${work}`;
  if (data.length < MAX_DATA) {
    mount("overlay", p.target, "overlay", 0, data);
    return;
  }
  // Too long for one page: mount from the layers' parent dir with relative paths.
  const base = commonParent(lowers);
  const rel = lowers.map((l) => l.slice(base.length + 1));
  const short = `lowerdir=${rel.join(":")},upperdir=${upper},workdir=${work}`;
  const out = await new Deno.Command("mount", {
    args: ["-t", "overlay", "overlay", "-o", short, p.target],
    cwd: base,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`mount overlay: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

function commonParent(paths: string[]): string {
  let pre = paths[0].slice(0, paths[0].lastIndexOf("/"));
  for (const p of paths) while (!p.startsWith(pre + "/")) pre = pre.slice(0, pre.lastIndexOf("/"));
  return pre.slice(0, pre.lastIndexOf("/")) || pre;
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
