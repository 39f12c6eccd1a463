/**
 * The pod sandbox's holder process: berth's own `pause`, a 159-byte static
 * x86_64 ELF written by the daemon into a rootfs of its own, so a pod needs
 * no image (docs/cri.md). It sets SIGCHLD to SIG_IGN (as pid 1 of a shared
 * pid namespace the kernel then reaps the orphans reparented to it) and
 * sleeps in pause(2) forever. It has no handler for SIGTERM: as pid 1 of its
 * pid namespace it ignores everything but SIGKILL, which is how
 * StopPodSandbox ends it (as containerd kills the sandbox container).
 *
 * Source (GNU as, intel syntax):
 *
 *     xor eax, eax; push rax; push rax; push rax; push 1   # k_sigaction{SIG_IGN,0,0,0}
 *     mov eax, 13; mov edi, 17; mov rsi, rsp; xor edx, edx
 *     mov r10d, 8; syscall                                 # rt_sigaction(SIGCHLD, &act, 0, 8)
 *   1: mov eax, 34; syscall; jmp 1b                        # pause()
 * @module
 */
import { writeFileAtomic } from "../../../core/store/atomic.ts";

const CODE = "31c05050506a01b80d000000bf110000004889e631d241ba080000000f05b8220000000f05ebf7";

const BASE = 0x400000;
const HEADERS = 64 + 56;

/** The ELF file: one header, one PT_LOAD (R+X) segment mapping the whole file. */
export function pauseElf(): Uint8Array {
  const code = Uint8Array.from(CODE.match(/../g)!, (h) => parseInt(h, 16));
  const out = new Uint8Array(HEADERS + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELF, 64-bit, little endian, SysV
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true); // EV_CURRENT
  v.setBigUint64(24, BigInt(BASE + HEADERS), true); // e_entry
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, 1, true); // e_phnum
  v.setUint16(58, 64, true); // e_shentsize
  // program header
  v.setUint32(64, 1, true); // PT_LOAD
  v.setUint32(68, 5, true); // PF_R | PF_X
  v.setBigUint64(72, 0n, true); // p_offset
  v.setBigUint64(80, BigInt(BASE), true); // p_vaddr
  v.setBigUint64(88, BigInt(BASE), true); // p_paddr
  v.setBigUint64(96, BigInt(out.length), true); // p_filesz
  v.setBigUint64(104, BigInt(out.length), true); // p_memsz
  v.setBigUint64(112, 0x1000n, true); // p_align
  out.set(code, HEADERS);
  return out;
}

/**
 * The sandbox rootfs (`<root>/cri/pause/`): `/pause` and the mount points
 * the runtime needs (it is mounted read-only). Rewritten when it differs.
 */
export async function pauseRootfs(root: string): Promise<string> {
  if (Deno.build.arch !== "x86_64") {
    throw new Error(`berth's pod sandbox holder is x86_64 only (this is ${Deno.build.arch})`);
  }
  const dir = `${root}/cri/pause`;
  for (const d of ["proc", "dev", "sys", "etc", "tmp"]) {
    await Deno.mkdir(`${dir}/${d}`, { recursive: true });
  }
  const elf = pauseElf();
  let have: Uint8Array | undefined;
  try {
    have = await Deno.readFile(`${dir}/pause`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (!have || have.length !== elf.length || have.some((b, i) => b !== elf[i])) {
    await writeFileAtomic(`${dir}/pause`, elf, { mode: 0o755 });
  }
  return dir;
}
