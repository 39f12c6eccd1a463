/**
 * mount(2)/umount2(2) for the container rootfs (overlayfs), via FFI, and a
 * check of what is mounted under a path (/proc/self/mountinfo).
 * @module
 */

const SYMBOLS = {
  __errno_location: { parameters: [], result: "pointer" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;
function libc() {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

const enc = new TextEncoder();
function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(enc.encode(s).length + 1);
  enc.encodeInto(s, b);
  return b;
}

function lastError(): { errno: number; text: string } {
  const c = libc();
  const p = c.__errno_location();
  const errno = p ? new Deno.UnsafePointerView(p).getInt32() : 0;
  const s = c.strerror(errno);
  return { errno, text: s ? Deno.UnsafePointerView.getCString(s).toLowerCase() : `errno ${errno}` };
}

export const MNT_DETACH = 2;
export const EINVAL = 22;
export const ENOENT = 2;

/** mount(2); throws with the errno text. */
export function mount(source: string, target: string, fstype: string, flags: number, data: string) {
  const rc = libc().mount(cstr(source), cstr(target), cstr(fstype), BigInt(flags), cstr(data));
  if (rc !== 0) {
    const e = lastError();
    throw Object.assign(new Error(`mount ${fstype} on ${target}: ${e.text}`), { errno: e.errno });
  }
}

/** umount2(2) with MNT_DETACH; a path that is not mounted is not an error. */
export function unmount(target: string): void {
  const rc = libc().umount2(cstr(target), MNT_DETACH);
  if (rc !== 0) {
    const e = lastError();
    if (e.errno === EINVAL || e.errno === ENOENT) return;
    throw new Error(`umount ${target}: ${e.text}`);
  }
}

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
