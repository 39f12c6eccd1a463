/**
 * The process half of init: rlimits, command lookup in the container's PATH,
 * then (after start) session/tty, groups/uid/gid, capabilities,
 * no_new_privs, fds and execve(2). Synchronous calls only.
 * @module
 */

import type { OciProcess } from "../oci/runtime_types.ts";
import type { InitSeccomp } from "./init_config.ts";
import { capMask } from "../oci/caps.ts";
import * as c from "../sys/libc_proc.ts";
import { decodeSeccomp, loadSeccomp } from "./seccomp_load.ts";

const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** An error with the Docker exit code class (127 not found, 126 not executable). */
export class ExecError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

const lim = (v: number): bigint => v >= 2 ** 63 || v < 0 ? c.RLIM_INFINITY : BigInt(v);

/**
 * Apply rlimits. Raising a hard limit needs CAP_SYS_RESOURCE; without it the
 * value is clamped to the current hard limit and a warning is returned.
 */
export function applyRlimits(p: OciProcess, warn: (m: string) => void): void {
  for (const r of p.rlimits ?? []) {
    const res = RLIMITS[r.type];
    if (res === undefined) throw new Error(`unknown rlimit ${r.type}`);
    let hard = lim(r.hard), soft = lim(r.soft);
    try {
      c.prlimit(res, [soft, hard]);
      continue;
    } catch (e) {
      if (!(e instanceof c.SysError) || e.code !== "EPERM") throw e;
    }
    const [, curHard] = c.prlimit(res, null);
    hard = hard > curHard ? curHard : hard;
    soft = soft > hard ? hard : soft;
    try {
      c.prlimit(res, [soft, hard]);
      warn(`${r.type} clamped to ${soft}:${hard} (raising it needs CAP_SYS_RESOURCE)`);
    } catch (e) {
      warn(`${r.type} not set: ${(e as Error).message}`);
    }
  }
  if (p.oomScoreAdj !== undefined) {
    try {
      Deno.writeTextFileSync("/proc/self/oom_score_adj", String(p.oomScoreAdj));
    } catch {
      // lowering it needs CAP_SYS_RESOURCE: keep the inherited value
    }
  }
}

function isExecutable(path: string): "ok" | "missing" | "denied" {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory
      ? "missing"
      : "denied";
  }
  if (st.isDirectory || ((st.mode ?? 0) & 0o111) === 0) return "denied";
  return "ok";
}

/** Find the command like Go's exec.LookPath in the container (call after pivot_root). */
export function lookPath(file: string, env: string[] | undefined, cwd: string): string {
  if (file === "") throw new ExecError(`exec: "": executable file not found in $PATH`, 127);
  if (file.includes("/")) {
    const abs = file.startsWith("/") ? file : `${cwd.replace(/\/$/, "")}/${file}`;
    const r = isExecutable(abs);
    if (r === "ok") return abs;
    if (r === "missing") {
      throw new ExecError(`exec: "${file}": stat ${file}: no such file or directory`, 127);
    }
    throw new ExecError(`exec: "${file}": permission denied`, 126);
  }
  const pathVar = env?.findLast((e) => e.startsWith("PATH="))?.slice(5) ??
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const dir of pathVar.split(":")) {
    const d = dir === "" ? "." : dir;
    const cand = d.startsWith("/") ? `${d}/${file}` : `${cwd.replace(/\/$/, "")}/${d}/${file}`;
    if (isExecutable(cand) === "ok") return cand;
  }
  throw new ExecError(`exec: "${file}": executable file not found in $PATH`, 127);
}

/** Highest capability number the kernel knows. */
export function lastCap(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  } catch {
    return 40;
  }
}

export interface FinalizeOptions {
  ttyFd?: number;
  lastCap: number;
  warn: (m: string) => void;
  /** compiled seccomp filter (seccomp_prepare.ts) */
  seccomp?: InitSeccomp;
  /**
   * Start the process another way than execve of this one (the exec helper
   * forks it into the pid namespace: init_exec.ts). The child makes its own
   * session, so setsid is skipped here.
   */
  launch?: (path: string, argv: string[], env: string[]) => never;
}

/**
 * Drop into the process's identity and execve it. Throws on failure (the
 * caller reports it); never returns otherwise.
 */
export function finalizeAndExec(p: OciProcess, path: string, o: FinalizeOptions): never {
  const filter = o.seccomp ? decodeSeccomp(o.seccomp) : undefined;
  if (!o.launch) {
    try {
      c.setsid();
    } catch { /* already a session leader */ }
  }
  if (o.ttyFd !== undefined) {
    c.setControllingTty(o.ttyFd);
    if (p.consoleSize) c.setWinsize(o.ttyFd, p.consoleSize.height, p.consoleSize.width);
    for (const fd of [0, 1, 2]) c.dup2(o.ttyFd, fd);
    if (o.ttyFd > 2) c.close(o.ttyFd);
  }
  // without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it while
  // init still has it (runc's order); with it, as late as possible
  if (filter && !p.noNewPrivileges) loadSeccomp(filter);
  const caps = p.capabilities ?? {};
  const have = c.capget();
  const pick = (names: string[] | undefined, what: string) => {
    const { mask, unknown } = capMask(names);
    if (unknown.length) o.warn(`unknown capabilities ignored: ${unknown.join(", ")}`);
    const missing = mask & ~have.permitted;
    if (missing) {
      o.warn(`${what}: capabilities this host lacks were dropped: 0x${missing.toString(16)}`);
    }
    return mask & have.permitted;
  };
  const bounding = pick(caps.bounding, "bounding");
  const sets = {
    effective: pick(caps.effective, "effective"),
    permitted: pick(caps.permitted, "permitted"),
    inheritable: pick(caps.inheritable, "inheritable") & bounding,
  };
  c.prctl(c.PR_SET_KEEPCAPS, 1);
  for (let i = 0; i <= o.lastCap; i++) {
    if (!(bounding & (1n << BigInt(i)))) c.prctl(c.PR_CAPBSET_DROP, i);
  }
  const u = p.user ?? { uid: 0, gid: 0 };
  c.setgroups(u.additionalGids ?? []);
  c.setresgid(u.gid);
  c.setresuid(u.uid);
  c.prctl(c.PR_SET_KEEPCAPS, 0);
  c.capset(sets);
  const { mask: ambient } = capMask(caps.ambient);
  for (let i = 0; i <= o.lastCap; i++) {
    if (ambient & sets.permitted & sets.inheritable & (1n << BigInt(i))) {
      c.prctl(c.PR_CAP_AMBIENT, c.PR_CAP_AMBIENT_RAISE, i);
    }
  }
  if (p.noNewPrivileges) c.prctl(c.PR_SET_NO_NEW_PRIVS, 1);
  c.umask(u.umask ?? 0o022);
  try {
    c.chdir(p.cwd || "/");
  } catch (e) {
    throw new ExecError(
      `chdir to cwd ("${p.cwd}") set in config.json failed: ${(e as Error).message}`,
      126,
    );
  }
  c.resetSignals();
  c.cloexecFrom(3);
  if (filter && p.noNewPrivileges) loadSeccomp(filter);
  if (o.launch) return o.launch(path, p.args, p.env ?? []);
  try {
    c.execve(path, p.args, p.env ?? []);
  } catch (e) {
    const code = e instanceof c.SysError && e.code === "ENOENT" ? 127 : 126;
    throw new ExecError(
      `exec: "${p.args[0]}": ${(e as Error).message.replace(/^execve \S+: /, "")}`,
      code,
    );
  }
}
