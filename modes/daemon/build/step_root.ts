/**
 * Step root filesystems for the builder: an overlay of the parent state's
 * layer dirs (read-only lowers) with a fresh upper dir, so whatever a step
 * changes lands in the upper dir and `diffFromUpper` turns it into the step's
 * layer (whiteouts and opaque dirs included). Read-only views (COPY --from)
 * are the same overlay without an upper dir. mount(2) via FFI; lower lists
 * too long for one page go through mount(8) with relative paths.
 * @module
 */

const SYMBOLS = {
  __errno_location: { parameters: [], result: "pointer" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;
const libc = () => (lib ??= Deno.dlopen("libc.so.6", SYMBOLS).symbols);
const enc = new TextEncoder();
const cstr = (s: string) => {
  const b = new Uint8Array(enc.encode(s).length + 1);
  enc.encodeInto(s, b);
  return b;
};
const errno = () => {
  const p = libc().__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
};

const MS_RDONLY = 1;
const MNT_DETACH = 2;
const MAX_DATA = 4000;

export interface StepRoot {
  /** The merged view to work in. */
  merged: string;
  /**
   * The upper dir (undefined for read-only views): `<dir>/layer/diff`, so that
   * `<dir>/layer` can be adopted by the layer store as the new layer as is.
   */
  upper?: string;
  /** Unmount (the upper dir stays readable). */
  detach(): void;
  /** Unmount and remove the step's dirs. */
  release(): Promise<void>;
}

function commonParent(paths: string[]): string {
  let pre = paths[0];
  for (const p of paths) {
    while (pre && !p.startsWith(pre + "/")) pre = pre.slice(0, pre.lastIndexOf("/"));
  }
  return pre || "/";
}

async function mountOverlay(target: string, lowers: string[], upper?: string, work?: string) {
  const tail = upper ? `,upperdir=${upper},workdir=${work}` : "";
  const data = `lowerdir=${lowers.join(":")}${tail}`;
  if (data.length < MAX_DATA) {
    const rc = libc().mount(
      cstr("overlay"),
      cstr(target),
      cstr("overlay"),
      BigInt(upper ? 0 : MS_RDONLY),
      cstr(data),
    );
    if (rc !== 0) throw new Error(`mount overlay on ${target}: errno ${errno()}`);
    return;
  }
  const base = commonParent(lowers);
  const rel = lowers.map((l) => l.slice(base.length + 1));
  const out = await new Deno.Command("mount", {
    args: ["-t", "overlay", "overlay", "-o", `lowerdir=${rel.join(":")}${tail}`, target].concat(
      upper ? [] : ["-r"],
    ),
    cwd: base,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`mount overlay: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

export function unmount(target: string): void {
  const rc = libc().umount2(cstr(target), MNT_DETACH);
  if (rc !== 0) {
    const e = errno();
    if (e !== 22 && e !== 2) throw new Error(`umount ${target}: errno ${e}`);
  }
}

/**
 * Mount a step root in `dir` (created): lowers are layer dirs, bottom first.
 * `writable` adds upper/work dirs.
 */
export async function mountStepRoot(
  dir: string,
  lowersBottomFirst: string[],
  writable: boolean,
): Promise<StepRoot> {
  await Deno.mkdir(`${dir}/merged`, { recursive: true, mode: 0o755 });
  let lowers = [...lowersBottomFirst].reverse();
  if (lowers.length === 0) {
    await Deno.mkdir(`${dir}/empty`, { recursive: true, mode: 0o755 });
    lowers = [`${dir}/empty`];
  }
  if (lowers.length === 1 && !writable) {
    // Without an upper dir overlayfs wants two lowers: add an empty one below.
    await Deno.mkdir(`${dir}/empty2`, { recursive: true, mode: 0o755 });
    lowers = [lowers[0], `${dir}/empty2`];
  }
  let upper: string | undefined, work: string | undefined;
  if (writable) {
    upper = `${dir}/layer/diff`;
    work = `${dir}/work`;
    await Deno.mkdir(upper, { recursive: true, mode: 0o755 });
    await Deno.mkdir(work, { mode: 0o700 });
  }
  await mountOverlay(`${dir}/merged`, lowers, upper, work);
  let mounted = true;
  const detach = () => {
    if (!mounted) return;
    mounted = false;
    unmount(`${dir}/merged`);
  };
  return {
    merged: `${dir}/merged`,
    upper,
    detach,
    async release() {
      detach();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
