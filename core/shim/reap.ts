/**
 * What the daemon does after a shim died without recording an exit (like
 * containerd running `<shim> delete` after a dead shim): kill everything the
 * shim supervised — every process of the container's cgroup, exec'd ones
 * included (frozen first, so nothing forks past the kill) — then make the
 * OCI runtime forget the container (`delete --force`: runc's state dir, the
 * built-in runtime's state) and remove the cgroup directories. The rootfs
 * mount, the network endpoint and the shim dir are the caller's (the
 * container service's ordinary clean-up after an exit).
 *
 * Also {@link sweepRuntimeState}: at daemon start, runtime state that no
 * running container owns (a crash between the runtime's create and the
 * record's update, a shim killed while the daemon was down) is deleted the
 * same way; and {@link finishRuntimeCleanup}: after an exit whose shim could
 * not delete the container (ExitInfo.cleanupError), the daemon does.
 * @module
 */
import type { OciSpec } from "../oci/runtime_types.ts";
import type { OciRuntime } from "../runtime/runtime.ts";
import { Cgroup } from "../runtime/cgroups.ts";
import { isKind } from "../errdefs/mod.ts";
import type { ExitInfo, ShimConfig } from "./protocol.ts";

export interface ReapResult {
  /** the shim dir still described a container (shim.json or config.json) */
  found: boolean;
  /** processes found alive in the container and killed */
  killed: number;
  /** what could not be cleaned (for the log) */
  problems: string[];
}

/** The runtime a shim config names (runc, crun, or the built-in one). */
export async function runtimeOf(r: ShimConfig["runtime"]): Promise<OciRuntime> {
  if (r.name === "berth") {
    const m = await import("../runtime/builtin.ts");
    return new m.BuiltinRuntime({ root: r.root, berthArgv: r.berthArgv });
  }
  const m = await import("../runtime/external.ts");
  return new m.ExternalRuntime({ name: r.name, path: r.path ?? r.name, root: r.root });
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch {
    return undefined;
  }
}

/** Host pids in any hierarchy of the cgroup. */
function cgroupPids(cg: Cgroup): number[] {
  const out = new Set<number>();
  for (const h of cg.layout.hierarchies) {
    try {
      const t = Deno.readTextFileSync(`${cg.dir(h)}/cgroup.procs`);
      for (const p of t.split("\n")) if (p) out.add(Number(p));
    } catch { /* this hierarchy has no dir for it */ }
  }
  return [...out];
}

/**
 * SIGKILL every process of a cgroup until it is empty (≤ `ms`): freeze,
 * kill, thaw (a frozen task only dies once thawed), as runc's
 * signalAllProcesses. Returns how many distinct pids were killed.
 */
export async function killCgroup(cgroupsPath: string, ms = 5000): Promise<number> {
  const cg = new Cgroup(cgroupsPath);
  const seen = new Set<number>();
  const end = Date.now() + ms;
  for (;;) {
    const pids = cgroupPids(cg);
    if (!pids.length) return seen.size;
    if (Date.now() > end) {
      throw new Error(`cgroup ${cgroupsPath}: processes ${pids.join(" ")} survive SIGKILL`);
    }
    const canFreeze = !!cg.find("freezer");
    if (canFreeze) await cg.freeze(true).catch(() => {/* kill anyway, then thaw */});
    for (const p of pids) {
      seen.add(p);
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* exited meanwhile */ }
    }
    if (canFreeze) await cg.freeze(false).catch(() => {/* retried next round */});
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Kill and forget the container of the shim dir `dir` (its bundle): the
 * shim is known dead. Never throws; what failed is in `problems`.
 */
export async function reapContainer(dir: string): Promise<ReapResult> {
  const cfg = readJson<ShimConfig>(`${dir}/shim.json`);
  const spec = readJson<OciSpec>(`${dir}/config.json`);
  const res: ReapResult = { found: !!(cfg || spec), killed: 0, problems: [] };
  const cgPath = spec?.linux?.cgroupsPath;
  if (cgPath?.startsWith("/")) {
    try {
      res.killed = await killCgroup(cgPath);
    } catch (e) {
      res.problems.push((e as Error).message);
    }
  }
  if (cfg) {
    try {
      await (await runtimeOf(cfg.runtime)).delete(cfg.id, true);
    } catch (e) {
      if (!isKind(e, "NotFound")) res.problems.push(`${cfg.runtime.name} delete: ${e}`);
    }
  }
  if (cgPath?.startsWith("/")) {
    await new Cgroup(cgPath).remove().catch((e) => res.problems.push(String(e)));
  }
  return res;
}

/**
 * After a recorded exit: when the shim could not make the runtime forget the
 * container (ExitInfo.cleanupError in `<dir>/exit.json`), do it as for a dead
 * shim ({@link reapContainer}: what is left in the cgroup killed, runtime
 * delete --force, cgroup removed). Call it before the shim dir goes (it
 * reads shim.json and config.json there). Returns lines for the caller's
 * log: none when the shim's own delete went through. Never throws.
 */
export async function finishRuntimeCleanup(dir: string): Promise<string[]> {
  const exit = readJson<ExitInfo>(`${dir}/exit.json`);
  if (!exit?.cleanupError) return [];
  const r = await reapContainer(dir);
  const said = `the shim could not clean up after the exit (${exit.cleanupError})`;
  if (!r.problems.length) return [`${said}; the daemon did`];
  return [`${said}; the daemon could not either`, ...r.problems];
}

/**
 * Delete runtime state under `<rtBase>/<runtime>/<id>` that `keep` (ids of
 * containers whose shim answers) does not hold: kills what still runs in it.
 * `paths` maps external runtime names to their binaries.
 */
export async function sweepRuntimeState(
  rtBase: string,
  keep: (id: string) => boolean,
  paths: Record<string, string>,
): Promise<string[]> {
  const done: string[] = [];
  let names: string[];
  try {
    names = [...Deno.readDirSync(rtBase)].filter((e) => e.isDirectory).map((e) => e.name);
  } catch {
    return done; // no runtime ever ran
  }
  for (const name of names) {
    const root = `${rtBase}/${name}`;
    let ids: string[] = [];
    try {
      ids = [...Deno.readDirSync(root)]
        .filter((e) => e.isDirectory && !e.name.startsWith(".") && !keep(e.name))
        .map((e) => e.name);
    } catch { /* gone meanwhile */ }
    if (!ids.length) continue;
    const rt = await runtimeOf({ name, root, path: paths[name] });
    for (const id of ids) {
      try {
        await rt.delete(id, true);
        done.push(`${name}/${id}`);
      } catch (e) {
        if (!isKind(e, "NotFound")) done.push(`${name}/${id}: ${e}`);
      }
    }
  }
  return done;
}
