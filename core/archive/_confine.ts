/**
 * Path confinement for applying tars: lexical cleaning of entry names and
 * chroot-style resolution of parent directories under a root.
 *
 * Entry names are cleaned lexically (".", "" dropped, ".." pops) and refused
 * when absolute or when ".." would climb above the root. Parent directories
 * are then resolved one component at a time with lstat; a symlink met on the
 * way is followed as if the root were "/" (absolute targets restart at the
 * root, ".." never climbs above it) — like containerd's fs.RootPath or
 * Docker's chrooted untar. The final component is never followed.
 * @module
 */
import { InvalidArgument, NotFound } from "../errdefs/mod.ts";

/** Split a tar name into clean components; throws InvalidArgument when it escapes. */
export function cleanName(name: string, what = "entry"): string[] {
  if (name.includes("\0")) throw refuse(what, name, "name contains a NUL byte");
  if (name.startsWith("/")) throw refuse(what, name, "absolute path");
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) throw refuse(what, name, "path escapes the layer root");
      out.pop();
      continue;
    }
    out.push(c);
  }
  return out;
}

export function refuse(what: string, name: string, why: string): InvalidArgument {
  return new InvalidArgument(`refusing layer ${what} ${JSON.stringify(name)}: ${why}`);
}

const MAX_LINKS = 40;

/** Resolves directories under a root, chroot-style, with a cache of resolved prefixes. */
export class Confined {
  readonly root: string;
  #cache = new Map<string, string[]>();
  /** Called with the real relative path of each directory it had to create. */
  onCreate?: (rel: string) => void;

  constructor(root: string) {
    this.root = root;
  }

  /** Absolute path of a real relative path ("" is the root). */
  abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }

  /** Forget cached resolutions (after anything that may be a dir or symlink was removed). */
  invalidate(): void {
    this.#cache.clear();
  }

  /**
   * Resolve directory components to a real path relative to the root.
   * Missing directories are created (0755) when `create`, else NotFound.
   * A non-directory on the way is refused.
   */
  resolveDir(parts: string[], create: boolean, entry: string): string {
    let i = parts.length;
    let real: string[] | undefined;
    while (i > 0 && !(real = this.#cache.get(parts.slice(0, i).join("/")))) i--;
    real = real ? [...real] : [];
    let links = 0;
    for (; i < parts.length; i++) {
      const stack = [parts[i]];
      while (stack.length) {
        const c = stack.pop()!;
        if (c === "" || c === ".") continue;
        if (c === "..") {
          real.pop();
          continue;
        }
        const rel = real.length ? `${real.join("/")}/${c}` : c;
        const p = this.abs(rel);
        let st: Deno.FileInfo;
        try {
          st = Deno.lstatSync(p);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
          if (!create) throw new NotFound(`layer entry ${JSON.stringify(entry)}: ${rel} not found`);
          Deno.mkdirSync(p, { mode: 0o755 });
          this.onCreate?.(rel);
          real.push(c);
          continue;
        }
        if (st.isSymlink) {
          if (++links > MAX_LINKS) {
            throw refuse("entry", entry, "too many levels of symbolic links");
          }
          const target = Deno.readLinkSync(p);
          if (target.startsWith("/")) real = [];
          const comps = target.split("/");
          for (let j = comps.length - 1; j >= 0; j--) stack.push(comps[j]);
          continue;
        }
        if (!st.isDirectory) throw refuse("entry", entry, `${rel} is not a directory`);
        real.push(c);
      }
      this.#cache.set(parts.slice(0, i + 1).join("/"), [...real]);
    }
    return real.join("/");
  }
}
