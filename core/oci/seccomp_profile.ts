/**
 * Docker's seccomp profile format and its resolution into the OCI
 * `linux.seccomp` of one container, with Docker's rules (moby
 * profiles/seccomp setupSeccomp): the archMap entry of the native
 * architecture gives `architectures`; rules are kept or dropped by their
 * `includes`/`excludes` conditions on the architecture, the container's
 * bounding capabilities and the kernel version. Pure, given the environment.
 *
 * @example
 * ```ts
 * const oci = resolveProfile(defaultProfile(), { caps: DEFAULT_CAPS });
 * oci?.architectures; // ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] on x86_64
 * ```
 * @module
 */

import type { OciSeccomp, OciSeccompArg, OciSeccompValue, OciSyscall } from "./runtime_types.ts";
import { InvalidArgument } from "../errdefs/mod.ts";

/** Conditions of a Docker profile rule. */
export interface SeccompFilter {
  caps?: string[];
  /** libseccomp/Go names: amd64, x86, x32, arm64, arm, s390x, … */
  arches?: string[];
  /** "<kernel>.<major>", e.g. "4.8" */
  minKernel?: string;
}

/** One rule of a Docker profile (OCI's plus the old `name` and conditions). */
export interface DockerSyscallRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

/** The JSON that `--security-opt seccomp=<file>` takes. */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSyscallRule[] | null;
}

/** What a profile is resolved against. */
export interface SeccompEnv {
  /** the container's bounding capabilities */
  caps: readonly string[];
  /** Go/libseccomp name of the native architecture (default: this host's) */
  arch?: string;
  /** kernel release, e.g. "6.1.0-18-amd64" (default: this host's) */
  kernel?: string;
}

/** Go names of the architectures → OCI names. */
const SECCOMP_ARCH: Record<string, string> = {
  x86: "SCMP_ARCH_X86",
  amd64: "SCMP_ARCH_X86_64",
  x32: "SCMP_ARCH_X32",
  arm: "SCMP_ARCH_ARM",
  arm64: "SCMP_ARCH_AARCH64",
  loong64: "SCMP_ARCH_LOONGARCH64",
  mips64: "SCMP_ARCH_MIPS64",
  mips64n32: "SCMP_ARCH_MIPS64N32",
  mipsel64: "SCMP_ARCH_MIPSEL64",
  mipsel64n32: "SCMP_ARCH_MIPSEL64N32",
  mipsel: "SCMP_ARCH_MIPSEL",
  ppc: "SCMP_ARCH_PPC",
  ppc64: "SCMP_ARCH_PPC64",
  ppc64le: "SCMP_ARCH_PPC64LE",
  riscv64: "SCMP_ARCH_RISCV64",
  s390: "SCMP_ARCH_S390",
  s390x: "SCMP_ARCH_S390X",
};

/** This host's architecture in Go/libseccomp terms ("amd64", "arm64", …). */
export function nativeArch(): string {
  const a = Deno.build.arch as string;
  return a === "x86_64" ? "amd64" : a === "aarch64" ? "arm64" : a;
}

const bad = (m: string) => new InvalidArgument(`Decoding seccomp profile failed: ${m}`);

/**
 * JSON.parse that keeps integers beyond 2^53 exact (as bigint), the way Go's
 * decoder reads a uint64.
 */
export function parseExactJson(text: string): unknown {
  return JSON.parse(
    text,
    (_k, v, ctx?: { source?: string }) =>
      typeof v === "number" && !Number.isSafeInteger(v) && ctx?.source &&
        /^-?\d+$/.test(ctx.source)
        ? BigInt(ctx.source)
        : v,
  );
}

/** JSON.rawJSON (V8 has it; this TypeScript lib does not declare it yet). */
const rawJSON = (text: string): { rawJSON: string } =>
  (JSON as unknown as { rawJSON(t: string): { rawJSON: string } }).rawJSON(text);

function checkValue(v: unknown, what: string): OciSeccompValue {
  const ok = (typeof v === "number" && Number.isInteger(v) && v >= 0) ||
    (typeof v === "bigint" && v >= 0n && v < 1n << 64n);
  if (!ok) throw bad(`json: cannot unmarshal ${JSON.stringify(String(v))} into ${what} (uint64)`);
  // bigint does not survive JSON.stringify; rawJSON writes the digits as they are
  return typeof v === "bigint" ? rawJSON(String(v)) : v as number;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const strList = (v: unknown, what: string): string[] | undefined => {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw bad(`json: cannot unmarshal ${what}: want a list of strings`);
  }
  return v as string[];
};

/** Read a Docker profile (JSON text); throws InvalidArgument with Docker's message. */
export function parseProfile(text: string): DockerSeccompProfile {
  let raw: unknown;
  try {
    raw = parseExactJson(text);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!isObj(raw)) throw bad("json: cannot unmarshal a non-object into seccomp.Seccomp");
  if (raw.defaultAction !== undefined && typeof raw.defaultAction !== "string") {
    throw bad("json: cannot unmarshal defaultAction: want a string");
  }
  if (raw.syscalls !== undefined && raw.syscalls !== null && !Array.isArray(raw.syscalls)) {
    throw bad("json: cannot unmarshal syscalls: want a list");
  }
  const rules = (raw.syscalls as unknown[] | null | undefined ?? []).map((r, i) => {
    if (!isObj(r)) throw bad(`json: syscalls[${i}] is not an object`);
    if (typeof r.action !== "string") throw bad(`json: syscalls[${i}].action: want a string`);
    const args = r.args === undefined || r.args === null ? undefined : r.args;
    if (args !== undefined && !Array.isArray(args)) {
      throw bad(`json: syscalls[${i}].args: want a list`);
    }
    return {
      ...r,
      names: strList(r.names, `syscalls[${i}].names`),
      args: (args as unknown[] | undefined)?.map((a) => {
        if (!isObj(a) || typeof a.op !== "string" || typeof a.index !== "number") {
          throw bad(`json: syscalls[${i}].args: want {index, value, valueTwo, op}`);
        }
        return {
          index: a.index,
          value: checkValue(a.value ?? 0, "Arg.value"),
          ...(a.valueTwo !== undefined ? { valueTwo: checkValue(a.valueTwo, "Arg.valueTwo") } : {}),
          op: a.op,
        };
      }),
    } as DockerSyscallRule;
  });
  strList(raw.architectures, "architectures");
  strList(raw.flags, "flags");
  return { ...(raw as unknown as DockerSeccompProfile), syscalls: rules };
}

/** [kernel, major] of a release string or a "<kernel>.<major>" condition. */
function kernelVersion(v: string, condition: boolean): [number, number] {
  const m = condition ? /^(\d+)\.(\d+)$/.exec(v) : /^(\d+)\.(\d+)/.exec(v);
  if (!m || (condition && m[1] === "0" && m[2] === "0")) {
    throw bad(`invalid kernel version: "${v}", expected "<kernel>.<major>"`);
  }
  return [Number(m[1]), Number(m[2])];
}

/**
 * The OCI `linux.seccomp` for one container, or null when the profile
 * disables seccomp (no default action and no rules), as Docker does.
 */
export function resolveProfile(p: DockerSeccompProfile, env: SeccompEnv): OciSeccomp | null {
  const rules = p.syscalls ?? [];
  if (!p.defaultAction && rules.length === 0) return null;
  if (p.architectures?.length && p.archMap?.length) {
    throw new InvalidArgument(
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  const arch = env.arch ?? nativeArch();
  let kernel: [number, number] | undefined;
  const kernelAtLeast = (min: string) => {
    const [k, m] = kernelVersion(min, true);
    kernel ??= kernelVersion(env.kernel ?? Deno.osRelease(), false);
    return kernel[0] > k || (kernel[0] === k && kernel[1] >= m);
  };
  const out: OciSeccomp = { defaultAction: p.defaultAction };
  if (p.defaultErrnoRet !== undefined) out.defaultErrnoRet = p.defaultErrnoRet;
  const archs = [...(p.architectures ?? [])];
  const native = SECCOMP_ARCH[arch];
  const entry = native ? p.archMap?.find((a) => a.architecture === native) : undefined;
  if (entry) archs.push(entry.architecture, ...(entry.subArchitectures ?? []));
  if (archs.length) out.architectures = archs;
  if (p.flags?.length) out.flags = [...p.flags];
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;
  const has = (c: string) => env.caps.includes(c);
  const syscalls: OciSyscall[] = [];
  for (const r of rules) {
    if (r.name && r.names?.length) {
      throw new InvalidArgument(
        "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'",
      );
    }
    const ex = r.excludes, inc = r.includes;
    if (ex?.arches?.includes(arch) || ex?.caps?.some(has)) continue;
    if (ex?.minKernel && kernelAtLeast(ex.minKernel)) continue;
    if (inc?.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc?.caps?.length && !inc.caps.every(has)) continue;
    if (inc?.minKernel && !kernelAtLeast(inc.minKernel)) continue;
    const s: OciSyscall = { names: r.name ? [r.name] : [...(r.names ?? [])], action: r.action };
    if (r.errnoRet !== undefined) s.errnoRet = r.errnoRet;
    if (r.args?.length) s.args = r.args.map((a) => ({ ...a }));
    syscalls.push(s);
  }
  out.syscalls = syscalls;
  return out;
}
