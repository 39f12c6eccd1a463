/**
 * Shared set-up for the container end-to-end tests: a daemon on a temp root
 * with runc registered, the busybox fixture loaded, and small helpers.
 * @module
 */
import { busyboxArchive } from "./fixtures/busybox.ts";
import {
  cgroupDirs as cgroupDirsOf,
  type RunResult,
  startDaemon,
  type TestDaemon,
} from "./fixtures/daemon.ts";

export const RUNTIMES = ["berth", "runc"] as const;

export async function containerDaemon(
  opts: { args?: string[]; defaultRuntime?: string } = {},
): Promise<TestDaemon> {
  const img = await busyboxArchive();
  const args = ["--add-runtime", "runc=/usr/bin/runc", ...(opts.args ?? [])];
  if (opts.defaultRuntime) args.push("--default-runtime", opts.defaultRuntime);
  const d = await startDaemon({ args });
  try {
    const r = await d.berth(["load", "-i", img.path]);
    if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}

/** Fail with the command's output when the exit code is not `want`. */
export function expectCode(r: RunResult, want: number, what = ""): RunResult {
  if (r.code !== want) {
    throw new Error(
      `${what} exit ${r.code}, want ${want}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
  }
  return r;
}

/** Poll until `fn` returns true (or fail after `ms`). */
export async function eventually(fn: () => Promise<boolean>, ms = 10000, what = "condition") {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** PIDs of shim processes (adopted warm ones included) whose argv mentions `dir`. */
export async function shimPids(dir: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = (await Deno.readTextFile(`/proc/${e.name}/cmdline`)).split("\0");
      const i = cmd.findIndex((a) => a === "shim" || /\/core\/shim\/entry\.[jt]s$/.test(a));
      if (i > 0 && cmd.slice(i + 1).some((a) => a.startsWith(dir))) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

/** Mount points under `base`. */
export async function mountsUnder(base: string): Promise<string[]> {
  return (await Deno.readTextFile("/proc/self/mounts")).split("\n")
    .map((l) => l.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((m): m is string => !!m && (m === base || m.startsWith(base + "/")));
}

/** Entries of a directory (none if missing). */
export async function entries(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
  } catch {
    return [];
  }
}

/** cgroup directories (v1 controllers and the v2 mount) left for any of `ids`. */
export async function cgroupDirs(d: TestDaemon, ids: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const id of ids) found.push(...await cgroupDirsOf(d.cgroupParent, id.trim()));
  return found;
}

/**
 * Remove every container (so no shim outlives the test), stop the daemon,
 * remove its tree, and SIGKILL any container process a shim still holds.
 */
export async function teardown(d: TestDaemon): Promise<void> {
  try {
    const ids = (await d.berth(["ps", "-aq", "--no-trunc"], { timeoutMs: 20000 })).stdout.trim()
      .split("\n").filter(Boolean);
    if (ids.length) await d.berth(["rm", "-f", "-v", ...ids], { timeoutMs: 60000 });
  } catch { /* daemon gone: handled below */ }
  const left = await shimPids(d.execRoot);
  for (const p of left) {
    try {
      for (const k of (await Deno.readTextFile(`/proc/${p}/task/${p}/children`)).split(" ")) {
        if (k.trim()) Deno.kill(Number(k), "SIGKILL");
      }
      Deno.kill(p, "SIGKILL");
    } catch { /* gone */ }
  }
  await d.stop();
}
