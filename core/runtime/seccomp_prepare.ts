/**
 * Caller side of seccomp for the built-in runtime: compile the bundle's
 * `linux.seccomp` (core/oci/seccomp_bpf.ts) into the program init loads, and
 * keep it for the container's execs.
 *
 * Compiling costs ~3-9 ms in a fresh (unoptimised) JS process such as a
 * shim, on the path of every container start; so compiled programs are
 * cached under `<runtime root>/.seccomp/`, named by a hash of the policy and
 * holding the policy's text, which is compared in full before a cached
 * program is used (the hash only picks the file). Most containers share
 * Docker's default profile: a start then costs a hash, a small read and a
 * hard link (the container's copy, for exec) — ~0.3 ms.
 *
 * @example
 * ```ts
 * const s = prepareSeccomp(spec, { bundle, stateDir, cacheDir: `${root}/.seccomp` });
 * // InitConfig.seccomp = s; exec() later: savedSeccomp(stateDir)
 * ```
 * @module
 */

import type { OciSeccomp, OciSpec } from "../oci/runtime_types.ts";
import type { InitSeccomp } from "./init_config.ts";
import { compileSeccomp } from "../oci/seccomp_bpf.ts";
import { parseExactJson } from "../oci/seccomp_profile.ts";

/**
 * FNV-1a over every 4th 32-bit word of a string's UTF-8, and its length, as
 * hex: it only picks the cache file (the full text is compared), and a whole
 * pass costs ~0.3 ms in a fresh process's interpreter.
 */
function hash(s: string): string {
  const b = new TextEncoder().encode(s);
  const words = new Uint32Array(b.buffer, 0, b.length >> 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i += 4) h = Math.imul(h ^ words[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0") + b.length.toString(16);
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
  let text: string;
  if (bigValues(policy)) {
    // a plain JSON.parse rounded them: read the numbers as written
    const exact = parseExactJson(Deno.readTextFileSync(`${o.bundle}/config.json`)) as OciSpec;
    policy = exact.linux!.seccomp!;
    text = JSON.stringify(policy, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
  } else text = JSON.stringify(policy);
  const file = `${o.cacheDir}/${hash(text)}`;
  const kept = `${o.stateDir}/seccomp`;
  let cached: string | undefined;
  try {
    cached = Deno.readTextFileSync(file);
  } catch { /* not cached yet */ }
  if (cached?.startsWith(text + "\n")) {
    const [, flags, program] = cached.slice(text.length).split("\n");
    try {
      // a hard link keeps this content even if the cache entry is replaced later
      Deno.linkSync(file, kept);
    } catch {
      writeAtomic(kept, cached);
    }
    return { program, flags: Number(flags) };
  }
  const c = compileSeccomp(policy);
  const out = { program: c.program.toBase64(), flags: c.flags };
  const entry = `${text}\n${out.flags}\n${out.program}`;
  try {
    Deno.mkdirSync(o.cacheDir, { recursive: true, mode: 0o700 });
    writeAtomic(file, entry);
  } catch { /* a cache only */ }
  writeAtomic(kept, entry);
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
  const [, flags, program] = text.split("\n");
  return { flags: Number(flags), program };
}
