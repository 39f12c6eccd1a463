/**
 * Probes of host capabilities for tests. A test that needs something the
 * host may lack (a kernel feature, a tool) probes for it by trying it, and is
 * skipped with the reason printed rather than failing for the host's sake:
 *
 * @example
 * ```ts ignore
 * Deno.test({ name: "i386 …", ignore: skipUnless("i386 …", await i386Missing()), fn });
 * ```
 * A probe returns undefined when the capability is there, else why not.
 * @module
 */

import { type CgroupLayout, layout } from "../runtime/cgroups.ts";

/**
 * `true` (skip) when `reason` is set, printing "SKIP <name>: <reason>" so the
 * suite's output says why. Use as Deno.test's or t.step's `ignore`.
 */
export function skipUnless(name: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  console.log(`SKIP ${name}: ${reason}`);
  return true;
}

/** A static i386 ELF that only does exit(42) through `int 0x80`. */
function i386Exit42(): Uint8Array {
  const base = 0x08048000, code = 84;
  const insns = [0xb8, 1, 0, 0, 0, 0xbb, 42, 0, 0, 0, 0xcd, 0x80]; // mov eax,1; mov ebx,42; int 0x80
  const out = new Uint8Array(code + insns.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]); // ELF, 32-bit, little-endian, v1
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 3, true); // EM_386
  v.setUint32(20, 1, true);
  v.setUint32(24, base + code, true); // entry
  v.setUint32(28, 52, true); // program header offset
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  [1, 0, base, base, out.length, out.length, 5, 0x1000].forEach((x, i) =>
    v.setUint32(52 + 4 * i, x, true)
  );
  out.set(insns, code);
  return out;
}

let i386: Promise<string | undefined> | undefined;
const noIa32 = "this kernel cannot run i386 programs (exec format error: no IA32 emulation)";

/** Can this kernel run i386 programs (IA32 emulation)? Tried by running one. */
export function i386Missing(): Promise<string | undefined> {
  i386 ??= (async () => {
    if (Deno.build.arch !== "x86_64") return `not an x86_64 host (${Deno.build.arch})`;
    const dir = await Deno.makeTempDir({ prefix: "berth-i386-probe-" });
    try {
      await Deno.writeFile(`${dir}/exit42`, i386Exit42(), { mode: 0o755 });
      // On ENOEXEC the spawn falls back to sh, which gives up with 126 or 127.
      const r = await new Deno.Command(`${dir}/exit42`, { stdout: "null", stderr: "null" })
        .output();
      return r.code === 42 ? undefined : noIa32;
    } catch (e) {
      return `${noIa32} (${(e as Error).message})`;
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  return i386;
}

/** Is `name` an executable in $PATH? */
export function binaryMissing(name: string): string | undefined {
  for (const d of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const st = Deno.statSync(`${d}/${name}`);
      if (st.isFile && (st.mode ?? 0) & 0o111) return undefined;
    } catch { /* not in this directory */ }
  }
  return `${name} not found in $PATH`;
}

/**
 * Can containers' cgroups use these controllers: v1, a hierarchy each; v2,
 * listed in the root's cgroup.controllers (a hybrid host's v2 has none).
 */
export function cgroupControllersMissing(ctrls: string[]): string | undefined {
  let l;
  try {
    l = layout();
  } catch (e) {
    return `no cgroup filesystem (${(e as Error).message})`;
  }
  let have: string[];
  if (l.kind === "v2") {
    const h = l.hierarchies.find((x) => x.v2);
    have = h ? Deno.readTextFileSync(`${h.mountpoint}/cgroup.controllers`).split(/\s+/) : [];
  } else {
    have = l.hierarchies.flatMap((h) => h.controllers);
  }
  const absent = ctrls.filter((c) => !have.includes(c));
  return absent.length
    ? `cgroup ${l.kind}: no ${absent.join(", ")} controller${absent.length > 1 ? "s" : ""} here`
    : undefined;
}

/** Root is needed (namespaces, mounts, cgroups). */
export function rootMissing(): string | undefined {
  return Deno.uid() === 0 ? undefined : "needs root";
}

/**
 * Can a cgroup2 hierarchy be mounted here, and which controllers does it
 * offer (none on a hybrid host, whose controllers are bound to v1)?
 */
export async function cgroup2Probe(): Promise<{ missing?: string; controllers: string[] }> {
  if (Deno.uid() !== 0) return { missing: "needs root", controllers: [] };
  const mnt = await Deno.makeTempDir({ prefix: "berth-cg2-probe-" });
  try {
    const m = await new Deno.Command("mount", {
      args: ["-t", "cgroup2", "none", mnt],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!m.success) {
      const why = new TextDecoder().decode(m.stderr).trim();
      return { missing: `cannot mount cgroup2 (${why})`, controllers: [] };
    }
    const text = await Deno.readTextFile(`${mnt}/cgroup.controllers`).catch(() => "");
    await new Deno.Command("umount", { args: [mnt], stdout: "null", stderr: "null" }).output();
    return { controllers: text.split(/\s+/).filter(Boolean) };
  } catch (e) {
    return { missing: `cannot mount cgroup2 (${(e as Error).message})`, controllers: [] };
  } finally {
    await Deno.remove(mnt).catch(() => {}); // still mounted only if umount failed: leave it be
  }
}

/**
 * A private cgroup2 mount for a test (after `cgroup2Probe()` said it can be
 * made): its layout as the runtime sees a pure v2 host, and `release()`,
 * which unmounts it and removes the directory (the test removes its own
 * cgroups first).
 */
export async function scratchCgroup2(prefix: string): Promise<
  { mnt: string; layout: CgroupLayout; release(): Promise<void> }
> {
  const mnt = await Deno.makeTempDir({ prefix });
  const sh = async (cmd: string, args: string[]) =>
    (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).code;
  if (await sh("mount", ["-t", "cgroup2", "none", mnt]) !== 0) {
    await Deno.remove(mnt);
    throw new Error("cgroup2 mounted in the probe but not now");
  }
  return {
    mnt,
    layout: {
      kind: "v2",
      hierarchies: [{ mountpoint: mnt, controllers: [], v2: true }],
      links: [],
    },
    async release() {
      await sh("umount", [mnt]);
      await Deno.remove(mnt).catch(() => {}); // still mounted only if umount failed: leave it be
    },
  };
}
