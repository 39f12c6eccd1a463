/**
 * mount(2)/umount2(2) for the container rootfs (overlayfs), bound once in
 * core/sys/libc.ts, and a check of what is mounted under a path
 * (/proc/self/mountinfo).
 * @module
 */

import { mount as sysMount, strerror, SysError, unmountDetached } from "../../../core/sys/libc.ts";

export { MNT_DETACH, MS_RDONLY } from "../../../core/sys/libc.ts";

/** mount(2); throws with the errno text and `errno`. */
export function mount(source: string, target: string, fstype: string, flags: number, data: string) {
  try {
    sysMount(source, target, fstype, flags, data);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    throw Object.assign(new Error(`mount ${fstype} on ${target}: ${strerror(e.errno)}`), {
      errno: e.errno,
    });
  }
}

/** umount2(2) with MNT_DETACH; a path that is not mounted is not an error. */
export const unmount: (target: string) => void = unmountDetached;

/** Mount points at or below `prefix` (decoded), deepest first. */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const t = await Deno.readTextFile("/proc/self/mountinfo");
  const out: string[] = [];
  for (const line of t.split("\n")) {
    const f = line.split(" ");
    if (f.length < 5) continue;
    const p = f[4].replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === prefix || p.startsWith(prefix.endsWith("/") ? prefix : prefix + "/")) out.push(p);
  }
  return out.sort((a, b) => b.length - a.length);
}
