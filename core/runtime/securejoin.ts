/**
 * Resolve a path inside a root directory the way the kernel would after a
 * chroot: symlinks (absolute or relative) and ".." never leave the root. Used
 * for mount destinations so that a crafted image symlink cannot make berth
 * mount over a host path.
 * @module
 */

/** Host path of `unsafe` (a path inside the container) under `root`. */
export function resolveInRoot(root: string, unsafe: string): string {
  const base = root.replace(/\/+$/, "");
  let rest = unsafe.split("/").filter((p) => p && p !== ".");
  const out: string[] = [];
  let links = 0;
  while (rest.length) {
    const p = rest.shift()!;
    if (p === "..") {
      out.pop();
      continue;
    }
    const cur = `${base}/${[...out, p].join("/")}`;
    let link: string | undefined;
    try {
      if (Deno.lstatSync(cur).isSymlink) link = Deno.readLinkSync(cur);
    } catch {
      // missing: the rest is taken literally
    }
    if (link === undefined) {
      out.push(p);
      continue;
    }
    if (++links > 255) throw new Error(`too many levels of symbolic links: ${unsafe}`);
    if (link.startsWith("/")) out.length = 0;
    rest = [...link.split("/").filter((x) => x && x !== "."), ...rest];
  }
  return out.length ? `${base}/${out.join("/")}` : base;
}
