/**
 * init side of seccomp: install a compiled filter (seccomp_prepare.ts) on the
 * calling thread — the one that execs, so the container's process inherits
 * it — with seccomp(2) through the libc `syscall` FFI (libc_proc.ts).
 * Without no_new_privs this needs CAP_SYS_ADMIN (finalizeAndExec loads it
 * before dropping capabilities, as runc does).
 *
 * @example
 * ```ts
 * const f = decodeSeccomp(cfg.seccomp!);
 * c.prctl(c.PR_SET_NO_NEW_PRIVS, 1);
 * loadSeccomp(f);
 * ```
 * @module
 */

import type { InitSeccomp } from "./init_config.ts";
import * as c from "../sys/libc_proc.ts";

/** A filter ready to load. */
export interface SeccompFilter {
  program: Uint8Array;
  flags: number;
}

const SECCOMP_SET_MODE_FILTER = 1;
const NR_SECCOMP = Deno.build.arch === "x86_64" ? 317 : 277;

/** From the InitConfig form (base64 of the sock_filter array). */
export function decodeSeccomp(s: InitSeccomp): SeccompFilter {
  const program = Uint8Array.fromBase64(s.program);
  if (program.length === 0 || program.length % 8) throw new Error("seccomp: bad program");
  return { program, flags: s.flags };
}

/** seccomp(SECCOMP_SET_MODE_FILTER, flags, &sock_fprog) on this thread. */
export function loadSeccomp(f: SeccompFilter): void {
  const fprog = new BigUint64Array([BigInt(f.program.length / 8), c.ptr(f.program)]);
  const r = c.sys(NR_SECCOMP, SECCOMP_SET_MODE_FILTER, f.flags, new Uint8Array(fprog.buffer));
  if (r < 0) throw new c.SysError("error loading seccomp filter into kernel: seccomp", c.errno());
  void f.program; // referenced until after the call
}
