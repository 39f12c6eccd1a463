/**
 * fork + execve for a multi-threaded Deno process, without running any
 * JavaScript (or libc) in the child: a 204-byte x86_64 routine, called
 * through FFI, does `clone(SIGCHLD)` and, in the child only,
 * `close_range(closeFrom, ~0)`, `setsid`, the optional `TIOCSCTTY` on fd 0,
 * an optional wait (one byte read from `waitFd`; EOF: exit 1) and `execve`.
 * The child is a copy of the calling THREAD's view: its credentials, seccomp
 * filter, fs root and cwd, fd table, mount namespace and pid_ns_for_children
 * (which is how the built-in runtime puts a process into a container's pid
 * namespace only once that process holds nothing of the host). No CLONE_VM:
 * the child never shares memory with the helper it came from.
 *
 * A failure in the child is written as 8 bytes (errno, step: 1 TIOCSCTTY, 2
 * execve) to `errFd`, then it exits 127; `errFd` should be close-on-exec, so
 * EOF on its other end means exec'd.
 *
 * Source (GNU as, intel syntax); params in rdi: [0] path, [8] argv, [16] envp,
 * [24] errFd, [32] flags (1 = TIOCSCTTY), [40] closeFrom (0: none), [48] out,
 * [56] waitFd (-1: none).
 *
 *     mov r9, rdi; mov eax, 56; mov edi, 17; xor esi, esi; xor edx, edx
 *     xor r10d, r10d; xor r8d, r8d; syscall          # clone(SIGCHLD, 0, 0, 0, 0)
 *     test rax, rax; jz child; ret                   # parent: pid or -errno
 *   child:
 *     mov rdi, [r9+40]; test rdi, rdi; jle 1f
 *     mov eax, 436; mov esi, 0xffffffff; xor edx, edx; syscall   # close_range
 *   1: mov eax, 112; syscall                         # setsid
 *     test qword ptr [r9+32], 1; jz 2f
 *     mov eax, 16; xor edi, edi; mov esi, 0x540e; xor edx, edx; syscall
 *     mov dword ptr [r9+52], 1; test rax, rax; jnz fail
 *   2: mov rdi, [r9+56]; test rdi, rdi; js 3f
 *     xor eax, eax; lea rsi, [r9+48]; mov edx, 1; syscall       # read(waitFd, 1)
 *     test rax, rax; jg 3f; mov eax, 231; mov edi, 1; syscall
 *   3: mov dword ptr [r9+52], 2
 *     mov eax, 59; mov rdi, [r9]; mov rsi, [r9+8]; mov rdx, [r9+16]; syscall
 *   fail:
 *     neg eax; mov dword ptr [r9+48], eax
 *     mov eax, 1; mov rdi, [r9+24]; lea rsi, [r9+48]; mov edx, 8; syscall
 *     mov eax, 231; mov edi, 127; syscall; hlt
 * @module
 */

import { check, cstr, ptr, sys } from "./libc_proc.ts";

const CODE_X86_64 =
  "4989f9b838000000bf1100000031f631d24531d24531c00f054885c07401c3498b79284885ff7e0e" +
  "b8b4010000beffffffff31d20f05b8700000000f0549f7412001000000741db81000000031ffbe0e" +
  "54000031d20f0541c74134010000004885c07541498b79384885ff781e31c0498d7130ba01000000" +
  "0f054885c07f0cb8e7000000bf010000000f0541c7413402000000b83b000000498b39498b710849" +
  "8b51100f05f7d841894130b801000000498b7918498d7130ba080000000f05b8e7000000bf7f0000" +
  "000f05f4";

const DEF = { parameters: ["buffer"], result: "i64" } as const;
let fn: Deno.UnsafeFnPointer<typeof DEF> | undefined;

/** Map the routine (once per process, before any seccomp filter that would refuse mmap). */
export function prepareForkExec(): void {
  if (fn) return;
  if (Deno.build.arch !== "x86_64") {
    throw new Error(`the built-in runtime's exec needs x86_64 (this is ${Deno.build.arch})`);
  }
  const code = new Uint8Array(CODE_X86_64.length / 2);
  for (let i = 0; i < code.length; i++) code[i] = parseInt(CODE_X86_64.slice(2 * i, 2 * i + 2), 16);
  // mmap(NULL, 4096, RW, PRIVATE|ANONYMOUS), copy, mprotect(R|X): never writable and executable
  const addr = check(sys(9, 0, 4096, 3, 0x22, -1, 0), "mmap");
  const p = Deno.UnsafePointer.create(BigInt(addr))!;
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, 4096)).set(code);
  check(sys(10, addr, 4096, 5), "mprotect");
  fn = new Deno.UnsafeFnPointer(p as Deno.PointerObject<typeof DEF>, DEF);
}

export interface ForkExecOptions {
  path: string;
  argv: string[];
  env: string[];
  /** fd the child reports a failure on (make it close-on-exec) */
  errFd: number;
  /** make fd 0 (a tty) the controlling terminal of the child's new session */
  ctty?: boolean;
  /** close every fd from this one up, first thing in the child */
  closeFrom?: number;
  /** wait for one byte on this fd before execve (EOF: the child exits 1) */
  waitFd?: number;
}

/** Start the child; returns its pid (in the caller's pid namespace). */
export function forkExec(o: ForkExecOptions): number {
  prepareForkExec();
  const keep: Uint8Array[] = [];
  const vec = (list: string[]) => {
    const v = new BigUint64Array(list.length + 1);
    list.forEach((s, i) => {
      const b = cstr(s);
      keep.push(b);
      v[i] = ptr(b);
    });
    const b = new Uint8Array(v.buffer);
    keep.push(b);
    return ptr(b);
  };
  const path = cstr(o.path);
  const params = new BigInt64Array([
    ptr(path),
    vec(o.argv),
    vec(o.env),
    BigInt(o.errFd),
    o.ctty ? 1n : 0n,
    BigInt(o.closeFrom ?? 0),
    0n,
    BigInt(o.waitFd ?? -1),
  ]);
  const r = Number(fn!.call(new Uint8Array(params.buffer)));
  void keep, path;
  if (r < 0) {
    throw new Error(`clone: ${r === -11 ? "resource temporarily unavailable" : `errno ${-r}`}`);
  }
  return r;
}
