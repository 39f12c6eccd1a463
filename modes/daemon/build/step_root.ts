/**
 * Step root filesystems for the builder: an overlay of the parent state's
 * layer dirs (read-only lowers) with a fresh upper dir, so whatever a step
 * changes lands in the upper dir and `diffFromUpper` turns it into the step's
 * layer (whiteouts and opaque dirs included). Read-only views (COPY --from)
 * are the same overlay without an upper dir. The mount itself is the
 * containers' (../containers/rootfs.ts `mountOverlay`).
 * @module
 */

import { mountOverlay } from "../containers/rootfs.ts";
import { unmount } from "../containers/mount_linux.ts";
import { logFailure } from "../log.ts";

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
  await mountOverlay(`${dir}/merged`, lowers, upper && work ? { upper, work } : undefined);
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
      await Deno.remove(dir, { recursive: true }).catch(
        logFailure(`removing build step root ${dir}`),
      );
    },
  };
}
