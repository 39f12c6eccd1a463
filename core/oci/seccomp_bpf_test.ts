/**
 * The seccomp compiler, run through the BPF interpreter (seccomp_vm.ts):
 * Docker's default profile on known system calls, then random profiles
 * against a direct evaluation of the OCI rules (a differential test).
 */
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  actionValue,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  compileSeccomp,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_THREAD,
} from "./seccomp_bpf.ts";
import { runFilter } from "./seccomp_vm.ts";
import { resolveProfile } from "./seccomp_profile.ts";
import { defaultProfile } from "./seccomp_default.ts";
import { DEFAULT_CAPS } from "./caps.ts";
import { type SyscallAbi, syscallTable, X32_SYSCALL_BIT } from "./seccomp_syscalls.ts";
import type { OciSeccomp, OciSeccompArg } from "./runtime_types.ts";

const ALLOW = SECCOMP_RET_ALLOW, EPERM = SECCOMP_RET_ERRNO | 1, ENOSYS = SECCOMP_RET_ERRNO | 38;
const env = { caps: DEFAULT_CAPS, arch: "amd64", kernel: "6.1.0" };
const nr = (abi: SyscallAbi, name: string) => syscallTable(abi).get(name)!;
const call = (prog: Uint8Array, abi: SyscallAbi, name: string | number, args: bigint[] = []) =>
  runFilter(prog, {
    nr: typeof name === "number" ? name : nr(abi, name),
    arch: abi === "i386" ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64,
    args,
  });

Deno.test("seccomp bpf: Docker's default profile, default capabilities", () => {
  const { program, flags } = compileSeccomp(resolveProfile(defaultProfile(), env)!, "x86_64");
  assertEquals(flags, 0);
  const x = (name: string | number, args: bigint[] = []) => call(program, "x86_64", name, args);
  for (const n of ["read", "write", "mkdir", "execve", "clone", "futex", "openat", "close_range"]) {
    assertEquals(x(n), ALLOW, n);
  }
  for (const n of ["mount", "umount2", "unshare", "setns", "keyctl", "add_key", "reboot", "bpf"]) {
    assertEquals(x(n), EPERM, n);
  }
  // clone: namespace flags need CAP_SYS_ADMIN; clone3 says ENOSYS so libcs fall back
  assertEquals(x("clone", [0x11n]), ALLOW);
  assertEquals(x("clone", [0x20000n]), EPERM); // CLONE_NEWNS
  assertEquals(x("clone", [0x10000000n | 0x11n]), EPERM); // CLONE_NEWUSER
  assertEquals(x("clone3"), ENOSYS);
  // socket: everything but AF_ALG (38) and AF_VSOCK (40)
  for (const [af, want] of [[1, ALLOW], [2, ALLOW], [10, ALLOW], [16, ALLOW], [17, ALLOW]]) {
    assertEquals(x("socket", [BigInt(af)]), want, `af ${af}`);
  }
  assertEquals(x("socket", [38n]), EPERM);
  assertEquals(x("socket", [39n]), ALLOW);
  assertEquals(x("socket", [40n]), EPERM);
  assertEquals(x("socket", [41n]), ALLOW);
  assertEquals(x("socket", [(1n << 32n) | 2n]), ALLOW); // > 40 as a 64-bit value
  // personality: only the listed values, compared on 64 bits
  assertEquals(x("personality", [0n]), ALLOW);
  assertEquals(x("personality", [0xffffffffn]), ALLOW);
  assertEquals(x("personality", [0x20008n]), ALLOW);
  assertEquals(x("personality", [1n]), EPERM);
  assertEquals(x("personality", [0x1_00000000n]), EPERM);
  // numbers the profile never names: EPERM in the table, ENOSYS above its highest one
  assertEquals(x(400), EPERM);
  assertEquals(x(nr("x86_64", "removexattrat")), ALLOW);
  assertEquals(x(nr("x86_64", "removexattrat") + 1), ENOSYS);
  assertEquals(x(0x3fffffff), ENOSYS);
  // i386 and x32 ABIs are in (Docker's archMap); other architectures are killed
  assertEquals(call(program, "i386", "mkdir"), ALLOW);
  assertEquals(call(program, "i386", "socketcall"), ALLOW);
  assertEquals(call(program, "i386", "socket", [38n]), EPERM);
  assertEquals(call(program, "i386", "mount"), EPERM);
  assertEquals(call(program, "i386", 999), ENOSYS);
  assertEquals(call(program, "x32", "mkdir"), ALLOW);
  assertEquals(call(program, "x32", "execve"), ALLOW);
  assertEquals(call(program, "x32", X32_SYSCALL_BIT | 13), EPERM); // 64-bit rt_sigaction
  assertEquals(call(program, "x32", "unshare"), EPERM);
  assertEquals(call(program, "x32", 0xffffffff), ENOSYS);
  assertEquals(runFilter(program, { nr: 83, arch: 0xc00000b7 }), SECCOMP_RET_KILL_THREAD);
});

Deno.test("seccomp bpf: capabilities open their groups, only x86_64 without archMap", () => {
  const caps = [...DEFAULT_CAPS, "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"];
  const { program } = compileSeccomp(resolveProfile(defaultProfile(), { ...env, caps })!);
  const x = (name: string, args: bigint[] = []) => call(program, "x86_64", name, args);
  for (const n of ["mount", "unshare", "setns", "clone3", "ptrace", "kcmp"]) {
    assertEquals(x(n), ALLOW, n);
  }
  assertEquals(x("clone", [0x20000n]), ALLOW);
  assertEquals(x("reboot"), EPERM);
  const only64 = compileSeccomp({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }],
  }).program;
  assertEquals(call(only64, "x86_64", "mkdir"), EPERM);
  assertEquals(call(only64, "x86_64", "rmdir"), ALLOW);
  assertEquals(call(only64, "x86_64", 999), ALLOW); // allow by default: no ENOSYS stub
  assertEquals(call(only64, "i386", "mkdir"), SECCOMP_RET_KILL_THREAD);
  assertEquals(call(only64, "x32", "mkdir"), SECCOMP_RET_KILL_THREAD);
});

Deno.test("seccomp bpf: actions, errors", () => {
  assertEquals(actionValue("SCMP_ACT_ERRNO", 13), SECCOMP_RET_ERRNO | 13);
  assertEquals(actionValue("SCMP_ACT_KILL_PROCESS"), 0x80000000);
  assertEquals(actionValue("SCMP_ACT_TRACE"), 0x7ff00001);
  const base = { defaultAction: "SCMP_ACT_ALLOW" };
  assertThrows(() => compileSeccomp({ defaultAction: "SCMP_ACT_NOPE" }), Error, "invalid action");
  assertThrows(() => compileSeccomp({ ...base, architectures: ["SCMP_ARCH_Z80"] }), Error, "arch");
  assertThrows(
    () =>
      compileSeccomp({
        ...base,
        syscalls: [{
          names: ["read"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }],
        }],
      }),
    Error,
    "index",
  );
  assertThrows(() => compileSeccomp(base, "aarch64"), Error, "x86_64 only");
  // foreign architectures are accepted (they never reach an x86_64 filter), flags map
  const c = compileSeccomp({
    ...base,
    architectures: ["SCMP_ARCH_AARCH64"],
    flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"],
  });
  assertEquals(c.flags, 2);
});

// ---- differential test: random profiles against a direct evaluation ----------

const EDGES = [
  0n,
  1n,
  2n,
  37n,
  38n,
  0x7fffffffn,
  0xffffffffn,
  1n << 32n,
  (1n << 32n) + 1n,
  1n << 63n,
];
EDGES.push((1n << 64n) - 1n, 0x7e020000n, 0x1234_5678_9abc_def0n);
const OPS = ["EQ", "NE", "LT", "LE", "GT", "GE", "MASKED_EQ"].map((o) => `SCMP_CMP_${o}`);
const ACTIONS: [string, number?][] = [["SCMP_ACT_ALLOW"], ["SCMP_ACT_ERRNO", 1], [
  "SCMP_ACT_ERRNO",
  13,
]];
ACTIONS.push(["SCMP_ACT_KILL_PROCESS"], ["SCMP_ACT_TRAP"], ["SCMP_ACT_LOG"]);

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function holds(op: string, arg: bigint, a: OciSeccompArg): boolean {
  const v = BigInt(a.value as number | bigint), v2 = BigInt((a.valueTwo ?? 0) as number | bigint);
  switch (op) {
    case "SCMP_CMP_EQ":
      return arg === v;
    case "SCMP_CMP_NE":
      return arg !== v;
    case "SCMP_CMP_LT":
      return arg < v;
    case "SCMP_CMP_LE":
      return arg <= v;
    case "SCMP_CMP_GT":
      return arg > v;
    case "SCMP_CMP_GE":
      return arg >= v;
    default:
      return (arg & v) === v2;
  }
}

/** What the rules say for one call, written straight from the semantics in seccomp_bpf.ts. */
function evaluate(s: OciSeccomp, abi: SyscallAbi, n: number, args: bigint[]): number {
  const def = actionValue(s.defaultAction, s.defaultErrnoRet);
  const table = syscallTable(abi);
  let max = -1, uncond: number | undefined;
  const conditional: { ret: number; args: OciSeccompArg[] }[] = [];
  for (const r of s.syscalls ?? []) {
    const ret = actionValue(r.action, r.errnoRet);
    for (const name of r.names) {
      const m = table.get(name);
      if (m === undefined) continue;
      max = Math.max(max, m);
      if (m !== n || ret === def) continue;
      const as = r.args ?? [];
      if (!as.length) uncond ??= ret;
      else if (new Set(as.map((a) => a.index)).size < as.length) {
        for (const a of as) conditional.push({ ret, args: [a] });
      } else conditional.push({ ret, args: as });
    }
  }
  if (uncond !== undefined) return uncond;
  for (const c of conditional) {
    if (c.args.every((a) => holds(a.op, args[a.index] ?? 0n, a))) return c.ret;
  }
  const allowish = def === ALLOW || def === 0x7ffc0000 || def === ENOSYS;
  return !allowish && max >= 0 && n > max ? ENOSYS : def;
}

Deno.test("seccomp bpf: random profiles agree with a direct evaluation", () => {
  const r = rng(20260801);
  const names = [...syscallTable("x86_64").keys()];
  const pick = <T>(l: readonly T[]) => l[r(l.length)];
  const value = () => r(3) ? pick(EDGES) : BigInt(r(100));
  for (let round = 0; round < 40; round++) {
    const [defaultAction, defaultErrnoRet] = pick(
      ACTIONS.filter((a) => a[0] !== "SCMP_ACT_ALLOW" || r(2)),
    );
    const hot = Array.from({ length: 6 }, () => pick(names));
    const syscalls = Array.from({ length: 2 + r(30) }, () => {
      const [action, errnoRet] = pick(ACTIONS);
      const args: OciSeccompArg[] = Array.from({ length: r(3) }, () => {
        const v = value();
        return {
          index: r(3),
          op: pick(OPS),
          value: v < 1n << 53n ? Number(v) : v,
          ...(r(2) ? { valueTwo: r(50) } : {}),
        };
      });
      return {
        names: Array.from(
          { length: 1 + r(args.length ? 4 : 40) },
          () => r(2) ? pick(hot) : pick(names),
        ),
        action,
        ...(errnoRet ? { errnoRet } : {}),
        ...(args.length ? { args } : {}),
      };
    });
    const s: OciSeccomp = {
      defaultAction,
      ...(defaultErrnoRet ? { defaultErrnoRet } : {}),
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls,
    };
    const { program } = compileSeccomp(s);
    for (let i = 0; i < 300; i++) {
      const abi = pick(["x86_64", "x86_64", "i386", "x32"] as const);
      const t = syscallTable(abi);
      const name = r(4) ? pick(hot) : pick(names);
      const n = t.get(name) ?? (abi === "x32" ? X32_SYSCALL_BIT : 0) + r(600);
      const args = [value(), value(), value()];
      const want = evaluate(s, abi, n, args);
      const got = call(program, abi, n, args);
      assert(got === want, `round ${round} ${abi} nr ${n} args ${args}: got ${got}, want ${want}`);
    }
  }
});
