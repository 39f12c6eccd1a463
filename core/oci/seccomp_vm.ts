/**
 * A small interpreter for the classic BPF subset seccomp_bpf.ts emits, to run
 * a compiled filter on a made-up `seccomp_data` (tests, debugging). It
 * checks what the kernel's verifier would: known opcodes, aligned loads
 * inside seccomp_data, jumps inside the program, a return at the end.
 *
 * @example
 * ```ts
 * const ret = runFilter(program, { nr: 83, arch: AUDIT_ARCH_X86_64 });
 * ret === SECCOMP_RET_ALLOW;
 * ```
 * @module
 */

/** What the kernel hands the filter (struct seccomp_data). */
export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  /** up to 6 unsigned 64-bit arguments */
  args?: bigint[];
}

/** Run the program; returns the SECCOMP_RET_* value (unsigned). */
export function runFilter(program: Uint8Array, d: SeccompData): number {
  const n = program.length / 8;
  if (!Number.isInteger(n) || n === 0 || n > 4096) throw new Error(`bad program length ${n}`);
  const data = new DataView(new ArrayBuffer(64));
  data.setUint32(0, d.nr >>> 0, true);
  data.setUint32(4, d.arch >>> 0, true);
  data.setBigUint64(8, d.ip ?? 0n, true);
  (d.args ?? []).forEach((v, i) => data.setBigUint64(16 + 8 * i, BigInt.asUintN(64, v), true));
  const p = new DataView(program.buffer, program.byteOffset, program.byteLength);
  let A = 0;
  for (let pc = 0; pc < n;) {
    const op = p.getUint16(pc * 8, true), jt = p.getUint8(pc * 8 + 2);
    const jf = p.getUint8(pc * 8 + 3), k = p.getUint32(pc * 8 + 4, true);
    pc++;
    const jump = (cond: boolean) => {
      pc += cond ? jt : jf;
    };
    switch (op) {
      case 0x20: // ld [k]
        if (k % 4 || k > 60) throw new Error(`bad load offset ${k}`);
        A = data.getUint32(k, true);
        break;
      case 0x54: // and #k
        A = (A & k) >>> 0;
        break;
      case 0x05: // ja
        pc += k;
        break;
      case 0x15: // jeq
        jump(A === k);
        break;
      case 0x25: // jgt
        jump(A > k);
        break;
      case 0x35: // jge
        jump(A >= k);
        break;
      case 0x45: // jset
        jump((A & k) !== 0);
        break;
      case 0x06: // ret #k
        return k;
      default:
        throw new Error(`unknown opcode 0x${op.toString(16)} at ${pc - 1}`);
    }
    if (pc > n) throw new Error(`jump out of the program at ${pc}`);
  }
  throw new Error("fell off the end of the program");
}

/** One line per instruction, like `bpf_dbg` prints them (for debugging). */
export function disassemble(program: Uint8Array): string {
  const p = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const names: Record<number, string> = {
    0x20: "ld",
    0x54: "and",
    0x05: "ja",
    0x15: "jeq",
    0x25: "jgt",
    0x35: "jge",
    0x45: "jset",
    0x06: "ret",
  };
  const lines: string[] = [];
  for (let i = 0; i < program.length / 8; i++) {
    const op = p.getUint16(i * 8, true), jt = p.getUint8(i * 8 + 2);
    const jf = p.getUint8(i * 8 + 3), k = p.getUint32(i * 8 + 4, true);
    const name = names[op] ?? `op${op.toString(16)}`;
    const hex = "0x" + k.toString(16);
    let text = `${name} ${hex}`;
    if (op === 0x20) text = `ld [${k}]`;
    else if (op === 0x05) text = `ja ${i + 1 + k}`;
    else if ((op & 7) === 5) {
      text = `${name} ${hex}, ${i + 1 + jt}, ${i + 1 + jf}`;
    }
    lines.push(`${String(i).padStart(4)}: ${text}`);
  }
  return lines.join("\n");
}
