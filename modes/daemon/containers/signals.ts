/**
 * Signal names ↔ numbers (Linux x86-64/arm64), accepting Docker's forms:
 * "SIGTERM", "TERM", "15", "SIGRTMIN+3".
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";

export const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
  RTMIN: 34,
  RTMAX: 64,
};

/** Parse a signal; throws InvalidArgument like moby ("Invalid signal: X"). */
export function parseSignal(s: string | undefined | null, dflt = 9): number {
  if (s === undefined || s === null || s === "") return dflt;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new InvalidArgument(`Invalid signal: ${s}`);
    return n;
  }
  let name = s.toUpperCase();
  if (name.startsWith("SIG")) name = name.slice(3);
  const m = /^RTMIN\+(\d+)$/.exec(name) ?? /^RTMAX-(\d+)$/.exec(name);
  if (m) {
    const n = name.startsWith("RTMIN") ? 34 + Number(m[1]) : 64 - Number(m[1]);
    if (n >= 34 && n <= 64) return n;
  }
  const n = SIGNALS[name];
  if (n === undefined) throw new InvalidArgument(`Invalid signal: ${s}`);
  return n;
}
