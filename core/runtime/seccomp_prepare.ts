/**
 * Caller side of seccomp for the built-in runtime: compile the bundle's
 * `linux.seccomp` (core/oci/seccomp_bpf.ts) into the program init loads, and
 * keep it for the container's execs.
 *
 * Compiling costs ~3 ms in a fresh (unoptimised) JS process such as a shim,
 * which would sit on the path of every container start; so compiled programs
 * are cached under `<runtime root>/seccomp/`, named by a hash of the policy and
 * holding the policy's text, which is compared in full before a cached
 * program is used (the hash only picks the file). Most containers share
 * Docker's default profile: a start costs a hash and a small read.
 *
 * @example
 * ```ts
 * const s = prepareSeccomp(spec, { bundle, stateDir, cacheDir: `${root}/seccomp` });
 * // InitConfig.seccomp = s; exec() later: savedSeccomp(stateDir)
 * ```
 * @module
 */

import type { OciSeccomp, OciSpec } from "../oci/runtime_types.ts";
import type { InitSeccomp } from "./init_config.ts";
import { compileSeccomp } from "../oci/seccomp_bpf.ts";
import { parseExactJson } from "../oci/seccomp_profile.ts";

/** Two 32-bit FNV-style hashes of a string, as hex (picks a cache file; not a security check). */
function hash(s: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 0x01000193);
    h2 = Math.imul(h2 ^ ch, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}

function bigValues(s: OciSeccomp): boolean {
  return (s.syscalls ?? []).some((r) =>
    (r.args ?? []).some((a) =>
      (typeof a.value === "number" && !Number.isSafeInteger(a.value)) ||
      (typeof a.valueTwo === "number" && !Number.isSafeInteger(a.valueTwo))
    )
  );
}

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  Deno.writeTextFileSync(tmp, data, { mode: 0o600 });
  Deno.renameSync(tmp, path);
}

export interface PrepareSeccompOptions {
  /** the bundle (config.json is re-read exactly when it holds integers beyond 2^53) */
  bundle: string;
  /** the container's state directory: the program is kept there for exec() */
  stateDir: string;
  /** cache of compiled programs (created if missing) */
  cacheDir: string;
}

/**
 * The filter init loads for `spec`, or undefined when it has no
 * `linux.seccomp`. Throws InvalidArgument for a policy that does not compile.
 */
export function prepareSeccomp(spec: OciSpec, o: PrepareSeccompOptions): InitSeccomp | undefined {
  let policy = spec.linux?.seccomp;
  if (!policy) return undefined;
  if (bigValues(policy)) {
    // a plain JSON.parse rounded them: read the numbers as written
    const exact = parseExactJson(Deno.readTextFileSync(`${o.bundle}/config.json`)) as OciSpec;
    policy = exact.linux!.seccomp!;
  }
  const text = JSON.stringify(policy, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
  const file = `${o.cacheDir}/${hash(text)}`;
  let out: InitSeccomp | undefined;
  try {
    const [cached, flags, program] = Deno.readTextFileSync(file).split("\n");
    if (cached === text) out = { program, flags: Number(flags) };
  } catch { /* not cached yet */ }
  if (!out) {
    const c = compileSeccomp(policy);
    out = { program: c.program.toBase64(), flags: c.flags };
    try {
      Deno.mkdirSync(o.cacheDir, { recursive: true, mode: 0o700 });
      writeAtomic(file, `${text}\n${out.flags}\n${out.program}`);
    } catch { /* a cache only */ }
  }
  writeAtomic(`${o.stateDir}/seccomp`, `${out.flags}\n${out.program}`);
  return out;
}

/** The filter prepareSeccomp kept for a container (undefined: none). */
export function savedSeccomp(stateDir: string): InitSeccomp | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${stateDir}/seccomp`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const nl = text.indexOf("\n");
  return { flags: Number(text.slice(0, nl)), program: text.slice(nl + 1) };
}
