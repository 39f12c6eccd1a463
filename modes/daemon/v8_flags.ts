/**
 * The daemon's V8 flags, in force however berth is run (`deno run main.ts`,
 * a bundle): when they are not set yet, the daemon re-executes itself —
 * execve(2) of the same argv, so the same pid, stdio and parent — with
 * DENO_V8_FLAGS extended. A marker variable stops a second exec; the exec'd
 * daemon puts the caller's DENO_V8_FLAGS back, so shims, builds and other
 * children do not inherit the daemon's flags. Under `deno run` the exec also
 * adds `--no-code-cache`.
 *
 * A compiled binary ignores DENO_V8_FLAGS (denoland/deno#19808): it is not
 * re-executed, and gets its `gc` from core/sys/memory.ts exposeGc instead.
 * @module
 */
import { execve } from "../../core/sys/libc_proc.ts";
import { isCompiled } from "../../core/sys/self.ts";
import { messageOf } from "../../core/errdefs/mod.ts";

/**
 * - `--max-semi-space-size=1`: young generation of 1 MB semi-spaces instead
 *   of growing to 16 MB ones under load (~8 MB less RSS right after a burst
 *   of requests; scavenges are more frequent but stay sub-millisecond);
 * - `--expose-gc`: the full, compacting collections of ./memory.ts;
 * - `--no-sparkplug`: no baseline machine code (~1 MB); hot code still gets
 *   Maglev/TurboFan, and request paths, load and build measured the same.
 * - `--enable-experimental-regexp-engine-on-excessive-backtracks`: a RegExp
 *   that backtracks past V8's limit finishes on the linear engine instead of
 *   running for minutes (`ps --filter name=^(a*)*b$` takes patterns from
 *   clients; Docker's are RE2, linear).
 * Measured and left out (docs/daemon-memory.md): `--no-opt --no-maglev`
 * (-2 MB, but +25% CPU in build), `--lite-mode`/`--jitless` (-4 MB, 2-4×
 * slower hot JS), `--optimize-for-size`, `--max-lazy` (nothing).
 */
export const DAEMON_V8_FLAGS = [
  "--max-semi-space-size=1",
  "--expose-gc",
  "--no-sparkplug",
  "--enable-experimental-regexp-engine-on-excessive-backtracks",
];

/** Set in the re-executed daemon: "" = DENO_V8_FLAGS was unset, "=X" = it was X. */
export const REEXEC_MARK = "BERTH_DAEMON_V8";

function sameArgs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Re-exec with DAEMON_V8_FLAGS unless already done (then restore the
 * caller's DENO_V8_FLAGS and return). `args` are the daemon's arguments; the
 * exec happens only when this process was started as `… daemon <args>`.
 * Returns when no exec is needed or possible (a failed execve is reported).
 */
export function reexecWithFlags(args: string[]): void {
  const mark = Deno.env.get(REEXEC_MARK);
  if (mark !== undefined) {
    Deno.env.delete(REEXEC_MARK);
    if (mark.startsWith("=")) Deno.env.set("DENO_V8_FLAGS", mark.slice(1));
    else Deno.env.delete("DENO_V8_FLAGS");
    return;
  }
  if (Deno.build.os !== "linux" || isCompiled()) return;
  if (Deno.args[0] !== "daemon" || !sameArgs(Deno.args.slice(1), args)) return;
  let argv: string[];
  try {
    argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0").slice(0, -1);
  } catch {
    return;
  }
  // The deno flags (--inspect, --config, …) and the script come before our args.
  if (!sameArgs(argv.slice(argv.length - Deno.args.length), Deno.args)) return;
  // No V8 code cache either: its sqlite mapping and page cache cost ~1 MB
  // (more right after start-up), and a daemon starts once.
  if (argv[1] === "run" && !argv.includes("--no-code-cache")) argv.splice(2, 0, "--no-code-cache");
  const env = Deno.env.toObject();
  const prior = env.DENO_V8_FLAGS;
  env[REEXEC_MARK] = prior === undefined ? "" : `=${prior}`;
  env.DENO_V8_FLAGS = [prior, ...DAEMON_V8_FLAGS].filter(Boolean).join(",");
  try {
    execve(Deno.execPath(), argv, Object.entries(env).map(([k, v]) => `${k}=${v}`));
  } catch (e) {
    console.error(`berth daemon: cannot re-exec with V8 flags (${messageOf(e)}); going on`);
  }
}
