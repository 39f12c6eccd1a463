/**
 * Who may reach the daemon's directories (the CVE-2021-41091 class): image
 * layers, containers' root filesystems, volumes and build dirs hold files an
 * image chose, setuid-root programs included, so no host user but root may
 * reach anything below the root or the exec-root. The two tops stay 0711 (a
 * socket group may traverse to the API socket); every entry directly below
 * them is 0700, or 0710 for a root-group dir (Docker's containers/), so the
 * dirs deeper down may keep the modes the container needs (a rootfs is 0755).
 *
 * New dirs are made with {@link PRIVATE_DIR}; `lockDown` mends a root made by
 * an older berth at daemon start.
 *
 * @example
 * ```ts
 * import { lockDown } from "./perms.ts";
 * for (const m of await lockDown("/var/lib/berth")) console.log(m.line);
 * ```
 * @module
 */

/** Mode of a dir directly below the root or the exec-root. */
export const PRIVATE_DIR = 0o700;
/** Mode of the root and the exec-root themselves (at most). */
export const TOP_DIR = 0o711;

/** The mode `lockDown` leaves on an entry directly below a top dir. */
export function privateMode(mode: number, gid: number | null, isDir: boolean): number {
  // setuid/setgid/sticky have no business this high up: dropped
  return mode & (isDir ? (gid === 0 ? 0o710 : 0o700) : (gid === 0 ? 0o740 : 0o700));
}

/**
 * Make `top` at most 0711 and every entry directly below it private
 * ({@link privateMode}), except the names in `skip` (the API socket's dir)
 * and symlinks, sockets and fifos (chmod would follow a link; a socket's mode
 * is its own concern). Returns one entry per change, for the log; a chmod
 * that fails (a read-only mount point below the top) is reported with its
 * error rather than keeping the daemon from starting.
 */
export async function lockDown(top: string, skip: string[] = []): Promise<ModeChange[]> {
  const changed: ModeChange[] = [];
  const fix = async (path: string, want: number, had: number) => {
    if (want === had) return;
    try {
      await Deno.chmod(path, want);
      changed.push({ path, line: `${path}: mode ${oct(had)} -> ${oct(want)}` });
    } catch (e) {
      if (path === top) throw e;
      changed.push({ path, line: `${path}: mode ${oct(had)} kept: ${e}`, error: true });
    }
  };
  const st = await Deno.stat(top);
  await fix(top, (st.mode ?? 0) & 0o7777 & TOP_DIR, (st.mode ?? 0) & 0o7777);
  for await (const e of Deno.readDir(top)) {
    if (skip.includes(e.name) || !(e.isDirectory || e.isFile)) continue;
    const path = `${top}/${e.name}`;
    let s: Deno.FileInfo;
    try {
      s = await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // removed meanwhile: nothing to guard
      throw err;
    }
    if (!(s.isDirectory || s.isFile)) continue;
    const had = (s.mode ?? 0) & 0o7777;
    await fix(path, privateMode(had, s.gid, s.isDirectory), had);
  }
  return changed;
}

export interface ModeChange {
  path: string;
  /** what was done, for the log */
  line: string;
  /** the chmod failed: the entry keeps its mode */
  error?: boolean;
}

function oct(m: number): string {
  return "0" + m.toString(8).padStart(3, "0");
}
