/**
 * Small process helpers shared by the runtimes: liveness with pid-reuse
 * protection, signal names, exit statuses, and spawning a child into a pid
 * namespace without ever moving the calling (multi-threaded Deno) process.
 * @module
 */

import * as c from "../sys/libc_proc.ts";
import { CAPABILITIES } from "../oci/caps.ts";
import type { ExitStatus } from "./runtime.ts";

/** State letter and start time (clock ticks since boot) of a pid, or null if gone. */
export function procStat(pid: number): { state: string; startTime: number } | null {
  if (!(pid > 0)) return null;
  let s: string;
  try {
    s = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return { state: f[0], startTime: Number(f[19]) };
}

/** Alive (not a zombie), and the same process when startTime is given. */
export function isAlive(pid: number, startTime?: number): boolean {
  const st = procStat(pid);
  if (!st || st.state === "Z" || st.state === "X") return false;
  return startTime === undefined || st.startTime === startTime;
}

export const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** Deno's ChildStatus → ExitStatus (code 128+N when killed by signal N). */
export function exitStatus(s: Deno.CommandStatus): ExitStatus {
  if (s.signal) {
    const n = SIGNALS[s.signal] ?? (s.code > 128 ? s.code - 128 : 0);
    return { code: 128 + n, signal: n };
  }
  return { code: s.code };
}

export type PidNsMode = { kind: "host" } | { kind: "new" } | { kind: "join"; path: string };

/**
 * Spawn a child into a pid namespace. The calling thread's
 * pid_ns_for_children is switched (unshare or setns), the child is spawned
 * synchronously, and the thread is switched back at once, before Deno can
 * start any thread from it (a thread cannot be created while it differs).
 */
export function spawnInPidNs(
  cmd: string,
  options: Deno.CommandOptions,
  ns: PidNsMode,
): Deno.ChildProcess {
  if (ns.kind === "host") return new Deno.Command(cmd, options).spawn();
  const self = c.open("/proc/thread-self/ns/pid", c.O_RDONLY | c.O_CLOEXEC);
  try {
    if (ns.kind === "new") c.unshare(c.CLONE_NEWPID);
    else {
      const fd = c.open(ns.path, c.O_RDONLY | c.O_CLOEXEC);
      try {
        c.setns(fd, c.CLONE_NEWPID);
      } finally {
        c.close(fd);
      }
    }
    try {
      return new Deno.Command(cmd, options).spawn();
    } finally {
      c.setns(self, c.CLONE_NEWPID);
    }
  } finally {
    c.close(self);
  }
}

/** Wait until a pid is gone (or a zombie), polling. False on timeout. */
export async function waitGone(
  pid: number,
  startTime: number | undefined,
  ms: number,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (isAlive(pid, startTime)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Capabilities this process can hand out (its bounding set), for SpecInput.hostCaps. */
export function hostCapabilities(): string[] {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"));
  const mask = BigInt("0x" + (m?.[1] ?? "0"));
  return CAPABILITIES.filter((_, i) => mask & (1n << BigInt(i)));
}
