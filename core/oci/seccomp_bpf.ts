/**
 * Compile an OCI `linux.seccomp` into a classic BPF program for
 * seccomp(SECCOMP_SET_MODE_FILTER) — what libseccomp does for runc, in pure
 * TypeScript, for x86_64 hosts (with their i386 and x32 ABIs).
 *
 * Semantics (those of runc + libseccomp): the architecture in seccomp_data is
 * checked first and an architecture not in the filter kills the thread; the
 * native one is always in. Per system call: an unconditional rule wins over
 * conditional ones; conditional rules are tried in order, their conditions
 * ANDed (but a rule with two conditions on one argument becomes one rule per
 * condition, as runc does); rules with the default action are dropped; names
 * unknown for an ABI are skipped. Arguments are compared as unsigned 64-bit
 * values (two 32-bit halves). Unless the default action allows, numbers above
 * the highest one the profile names get ENOSYS (runc's patchbpf stub), so
 * programs fall back from system calls newer than the profile.
 *
 * The syscall dispatch is a binary search over ranges of numbers with the
 * same outcome (a dozen compares for the default profile).
 *
 * @example
 * ```ts
 * const { program } = compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW",
 *   syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] });
 * program.length / 8; // instructions
 * ```
 * @module
 */

import type { OciSeccomp, OciSeccompValue } from "./runtime_types.ts";
import { type SyscallAbi, syscallTable, X32_SYSCALL_BIT } from "./seccomp_syscalls.ts";
import { InvalidArgument } from "../errdefs/mod.ts";

export const AUDIT_ARCH_X86_64 = 0xc000003e, AUDIT_ARCH_I386 = 0x40000003;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000,
  SECCOMP_RET_KILL_THREAD = 0,
  SECCOMP_RET_TRAP = 0x00030000,
  SECCOMP_RET_ERRNO = 0x00050000,
  SECCOMP_RET_TRACE = 0x7ff00000,
  SECCOMP_RET_LOG = 0x7ffc0000,
  SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_FILTER_FLAG_LOG = 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
const EPERM = 1, ENOSYS = 38;
/** What libseccomp does to a system call of an architecture not in the filter. */
const BAD_ARCH = SECCOMP_RET_KILL_THREAD;
const MAX_INSNS = 4096;

/** A compiled filter: `sock_filter` array (8 bytes each, host order) and seccomp(2) flags. */
export interface CompiledSeccomp {
  program: Uint8Array;
  flags: number;
}

const fail = (m: string) => new InvalidArgument(`seccomp: ${m}`);

/** The SECCOMP_RET_* value of an OCI action (errnoRet defaults to EPERM, as in runc). */
export function actionValue(action: string, errnoRet?: number): number {
  const data = errnoRet ?? EPERM;
  if (!Number.isInteger(data) || data < 0 || data > 0xffff) throw fail(`bad errnoRet ${errnoRet}`);
  switch (action) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET_KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET_KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET_TRAP;
    case "SCMP_ACT_ERRNO":
      return SECCOMP_RET_ERRNO | data;
    case "SCMP_ACT_TRACE":
      return SECCOMP_RET_TRACE | data;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET_LOG;
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET_ALLOW;
    case "SCMP_ACT_NOTIFY":
      throw fail("SCMP_ACT_NOTIFY is not supported by the built-in runtime");
  }
  throw fail(`invalid action ${JSON.stringify(action)}`);
}

const ABI_OF: Record<string, SyscallAbi | null> = {
  SCMP_ARCH_X86_64: "x86_64",
  SCMP_ARCH_X86: "i386",
  SCMP_ARCH_X32: "x32",
};
// valid names that can never reach an x86_64 kernel's filter: nothing to compile
for (
  const a
    of "ARM AARCH64 MIPS MIPS64 MIPS64N32 MIPSEL MIPSEL64 MIPSEL64N32 PPC PPC64 PPC64LE S390 S390X PARISC PARISC64 RISCV64 LOONGARCH64 M68K SH SHEB"
      .split(" ")
) ABI_OF[`SCMP_ARCH_${a}`] = null;

const OPS = [
  "SCMP_CMP_EQ",
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_GT",
  "SCMP_CMP_GE",
  "SCMP_CMP_MASKED_EQ",
];

interface Check {
  index: number;
  op: string;
  value: bigint;
  valueTwo: bigint;
}
interface Rule {
  ret: number;
  checks: Check[];
}
/** the outcome for one number range: a return, or rules then a fallback return */
interface Leaf {
  ret: number;
  rules?: Rule[];
}
interface Range {
  lo: number;
  hi: number;
  leaf: Leaf;
}

function u64(v: OciSeccompValue | undefined): bigint {
  if (v === undefined) return 0n;
  const b = typeof v === "object" ? BigInt(v.rawJSON) : BigInt(v);
  if (b < 0n || b >= 1n << 64n) throw fail(`argument value ${b} out of range`);
  return b;
}

/** The rules of one ABI per number, the highest number named, from the OCI rules. */
function collect(s: OciSeccomp, abi: SyscallAbi, def: number) {
  const table = syscallTable(abi);
  const byNr = new Map<number, { uncond?: number; rules: Rule[] }>();
  let max = -1;
  for (const sc of s.syscalls ?? []) {
    const ret = actionValue(sc.action, sc.errnoRet);
    const checks: Check[] = (sc.args ?? []).map((a) => {
      if (!OPS.includes(a.op)) throw fail(`invalid operator ${JSON.stringify(a.op)}`);
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
        throw fail(`invalid argument index ${a.index}`);
      }
      return { index: a.index, op: a.op, value: u64(a.value), valueTwo: u64(a.valueTwo) };
    });
    const perIndex = new Set(checks.map((c) => c.index));
    const rules: Rule[] = perIndex.size < checks.length
      ? checks.map((c) => ({ ret, checks: [c] }))
      : [{ ret, checks }];
    for (const name of sc.names ?? []) {
      const nr = table.get(name);
      if (nr === undefined) continue;
      if (nr > max) max = nr;
      if (ret === def) continue;
      let e = byNr.get(nr);
      if (!e) byNr.set(nr, e = { rules: [] });
      if (!checks.length) e.uncond ??= ret;
      else e.rules.push(...rules);
    }
  }
  return { byNr, max };
}

/** Ranges covering [lo, hi], adjacent ones with the same plain return merged. */
function ranges(
  s: OciSeccomp,
  abi: SyscallAbi,
  def: number,
  stub: boolean,
  lo: number,
  hi: number,
) {
  const { byNr, max } = collect(s, abi, def);
  const out: Range[] = [];
  const push = (a: number, b: number, leaf: Leaf) => {
    const last = out[out.length - 1];
    if (
      last && !last.leaf.rules && !leaf.rules && last.leaf.ret === leaf.ret && last.hi + 1 === a
    ) {
      last.hi = b;
    } else out.push({ lo: a, hi: b, leaf });
  };
  let cur = lo;
  for (const nr of [...byNr.keys()].sort((a, b) => a - b)) {
    const e = byNr.get(nr)!;
    if (nr > cur) push(cur, nr - 1, { ret: def });
    push(
      nr,
      nr,
      e.uncond !== undefined || !e.rules.length ? { ret: e.uncond ?? def } : {
        ret: def,
        rules: e.rules,
      },
    );
    cur = nr + 1;
  }
  if (stub && max >= 0) {
    if (max >= cur) push(cur, max, { ret: def });
    if (max < hi) push(Math.max(cur, max + 1), hi, { ret: SECCOMP_RET_ERRNO | ENOSYS });
  } else if (cur <= hi) push(cur, hi, { ret: def });
  return out;
}

// ---- assembler ----------------------------------------------------------------

const LD_W_ABS = 0x20, JA = 0x05, JEQ = 0x15, JGT = 0x25, JGE = 0x35, AND_K = 0x54, RET_K = 0x06;
interface Label {
  at: number;
}
interface Ins {
  op: number;
  k: number;
  /** jump targets; undefined = the next instruction */
  jt?: Label;
  jf?: Label;
}
type Item = Ins | Label;
const isIns = (i: Item): i is Ins => "op" in i;

class Asm {
  items: Item[] = [];
  label = (): Label => ({ at: -1 });
  place(l: Label) {
    this.items.push(l);
  }
  emit(op: number, k: number, jt?: Label, jf?: Label) {
    this.items.push({ op, k: k >>> 0, jt, jf });
  }
  ld = (off: number) => this.emit(LD_W_ABS, off);
  ret = (k: number) => this.emit(RET_K, k);

  /** Resolve labels; far conditional jumps (> 255) go through `ja` trampolines. */
  assemble(): Uint8Array {
    let items = this.items;
    for (;;) {
      let pos = 0;
      const at: number[] = [];
      for (const it of items) {
        if (isIns(it)) at.push(pos++);
        else it.at = pos, at.push(-1);
      }
      const far = (i: number, l?: Label) => !!l && l.at - at[i] - 1 > 255;
      if (!items.some((it, i) => isIns(it) && it.op !== JA && (far(i, it.jt) || far(i, it.jf)))) {
        break;
      }
      const next: Item[] = [];
      items.forEach((it, i) => {
        next.push(it);
        if (!isIns(it) || it.op === JA || !(far(i, it.jt) || far(i, it.jf))) return;
        const after = this.label(), tramps: Item[] = [];
        for (const side of ["jt", "jf"] as const) {
          const target = it[side];
          if (!target) it[side] = after;
          else if (far(i, target)) {
            const t = this.label();
            tramps.push(t, { op: JA, k: 0, jt: target });
            it[side] = t;
          }
        }
        next.push(...tramps, after);
      });
      items = next;
    }
    const code = items.filter(isIns);
    if (code.length > MAX_INSNS) throw fail(`filter too long (${code.length} instructions)`);
    const out = new Uint8Array(code.length * 8);
    const dv = new DataView(out.buffer);
    code.forEach((ins, i) => {
      const rel = (l?: Label) => (l ? l.at - i - 1 : 0);
      dv.setUint16(i * 8, ins.op, true);
      if (ins.op === JA) dv.setUint32(i * 8 + 4, rel(ins.jt), true);
      else {
        dv.setUint8(i * 8 + 2, rel(ins.jt));
        dv.setUint8(i * 8 + 3, rel(ins.jf));
        dv.setUint32(i * 8 + 4, ins.k, true);
      }
    });
    return out;
  }
}

// ---- code generation ------------------------------------------------------------

const hi32 = (v: bigint) => Number(v >> 32n), lo32 = (v: bigint) => Number(v & 0xffffffffn);

/** Fall through when the check holds, else jump to `no`. */
function check(a: Asm, c: Check, no: Label) {
  const lo = 16 + 8 * c.index, hi = lo + 4; // seccomp_data.args[i], little-endian
  const yes = a.label();
  const v = c.value;
  switch (c.op) {
    case "SCMP_CMP_EQ":
      a.ld(hi), a.emit(JEQ, hi32(v), undefined, no), a.ld(lo), a.emit(JEQ, lo32(v), undefined, no);
      break;
    case "SCMP_CMP_NE":
      a.ld(hi), a.emit(JEQ, hi32(v), undefined, yes), a.ld(lo), a.emit(JEQ, lo32(v), no);
      break;
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE":
      a.ld(hi), a.emit(JGT, hi32(v), yes), a.emit(JEQ, hi32(v), undefined, no), a.ld(lo);
      a.emit(c.op === "SCMP_CMP_GT" ? JGT : JGE, lo32(v), undefined, no);
      break;
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE":
      a.ld(hi), a.emit(JGT, hi32(v), no), a.emit(JEQ, hi32(v), undefined, yes), a.ld(lo);
      a.emit(c.op === "SCMP_CMP_LT" ? JGE : JGT, lo32(v), no);
      break;
    case "SCMP_CMP_MASKED_EQ": {
      const d = c.valueTwo; // (arg & value) == valueTwo
      a.ld(hi), a.emit(AND_K, hi32(v)), a.emit(JEQ, hi32(d), undefined, no);
      a.ld(lo), a.emit(AND_K, lo32(v)), a.emit(JEQ, lo32(d), undefined, no);
      break;
    }
  }
  a.place(yes);
}

function leaf(a: Asm, l: Leaf) {
  for (const r of l.rules ?? []) {
    const next = a.label();
    for (const c of r.checks) check(a, c, next);
    a.ret(r.ret);
    a.place(next);
  }
  a.ret(l.ret);
}

/** Binary search over the ranges (the syscall number is in A). */
function tree(a: Asm, rs: Range[], i: number, j: number) {
  if (i === j) return leaf(a, rs[i].leaf);
  const mid = (i + j + 1) >> 1, right = a.label();
  a.emit(JGE, rs[mid].lo, right);
  tree(a, rs, i, mid - 1);
  a.place(right);
  tree(a, rs, mid, j);
}

/** Compile for this host (x86_64 only for now). Throws InvalidArgument on a bad profile. */
export function compileSeccomp(s: OciSeccomp, native = Deno.build.arch as string): CompiledSeccomp {
  if (native !== "x86_64") {
    throw fail(`the built-in runtime compiles filters for x86_64 only (this host: ${native})`);
  }
  const def = actionValue(s.defaultAction, s.defaultErrnoRet);
  const abis = new Set<SyscallAbi>(["x86_64"]);
  for (const name of s.architectures ?? []) {
    const abi = ABI_OF[name];
    if (abi === undefined) throw fail(`unknown architecture ${JSON.stringify(name)}`);
    if (abi) abis.add(abi);
  }
  let flags = 0;
  for (const f of s.flags ?? []) {
    if (f === "SECCOMP_FILTER_FLAG_LOG") flags |= SECCOMP_FILTER_FLAG_LOG;
    else if (f === "SECCOMP_FILTER_FLAG_SPEC_ALLOW") flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    else if (f !== "SECCOMP_FILTER_FLAG_TSYNC") throw fail(`unsupported flag ${f}`);
  }
  const allowish = def === SECCOMP_RET_ALLOW || def === SECCOMP_RET_LOG ||
    (def & 0xffff0000) >>> 0 === SECCOMP_RET_TRACE;
  const stub = !allowish && def !== (SECCOMP_RET_ERRNO | ENOSYS);
  const rangesOf = (abi: SyscallAbi, lo: number, hi: number) => ranges(s, abi, def, stub, lo, hi);

  const a = new Asm();
  const l64 = a.label(), l32 = a.label(), lx32 = a.label();
  a.ld(4); // seccomp_data.arch
  a.emit(JEQ, AUDIT_ARCH_X86_64, l64);
  if (abis.has("i386")) a.emit(JEQ, AUDIT_ARCH_I386, l32);
  a.ret(BAD_ARCH);
  a.place(l64);
  a.ld(0); // seccomp_data.nr
  a.emit(JGE, X32_SYSCALL_BIT, lx32);
  const r64 = rangesOf("x86_64", 0, X32_SYSCALL_BIT - 1);
  tree(a, r64, 0, r64.length - 1);
  a.place(lx32);
  if (abis.has("x32")) {
    const rx = rangesOf("x32", X32_SYSCALL_BIT, 0xffffffff);
    tree(a, rx, 0, rx.length - 1);
  } else a.ret(BAD_ARCH);
  if (abis.has("i386")) {
    a.place(l32);
    a.ld(0);
    const r32 = rangesOf("i386", 0, 0xffffffff);
    tree(a, r32, 0, r32.length - 1);
  }
  return { program: a.assemble(), flags };
}
