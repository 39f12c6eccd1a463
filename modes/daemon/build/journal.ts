/**
 * The build journal: what a RUN step holds outside build-tmp, written
 * (atomically, fsynced) before the step takes it, removed once the step has
 * released it, so that a daemon killed mid-step can release it at its next
 * start ({@link reapBuilds}, run by the builds area before networking
 * starts). One file per step, `<root>/build-journal/<id>.json`:
 *
 * - the step's container (its runtime: name, binary, state root; its id) and
 *   its cgroup;
 * - the netns holder of a networked step: its pid file `<id>.holder`, written
 *   by the holder itself before it execs (so no window where it runs
 *   unrecorded);
 * - the step dir (overlay at `<dir>/merged`; all of build-tmp is unmounted and
 *   removed at start anyway).
 *
 * The network area releases the step's veth, endpoint record and IPAM lease
 * itself at start once the holder is dead (recover.ts `forget`: the recorded
 * netns no longer exists; a lease without a live owner is released).
 * @module
 */
import { writeFileAtomic } from "../../../core/store/atomic.ts";
import { PRIVATE_DIR } from "../../../core/store/perms.ts";
import { killCgroup, runtimeOf } from "../../../core/shim/reap.ts";
import { Cgroup } from "../../../core/runtime/cgroups.ts";
import { isKind } from "../../../core/errdefs/mod.ts";
import { existsSync } from "../../../core/errdefs/ignore.ts";
import { unmount } from "../containers/mount_linux.ts";

/** The OCI runtime of RUN steps: "berth" (built-in) or a runc-compatible CLI. */
export interface StepRuntime {
  name: string;
  /** the binary of an external runtime */
  path?: string;
  /** its state root: `<exec-root>/build-runtime/<name>` */
  root: string;
}

/** What one RUN step holds. */
export interface StepEntry {
  /** the step's container id (also the network area's endpoint owner id) */
  id: string;
  /** the step dir (bundle, overlay at merged/) */
  dir: string;
  /**
   * the runtime that runs the step; entries of older daemons hold the runc
   * binary here and its root in `stateRoot`
   */
  runtime?: StepRuntime | string;
  stateRoot?: string;
  /** absolute cgroupfs path of the step */
  cgroupsPath: string;
  /** the netns holder's pid file (networked steps) */
  holderPidFile?: string;
}

/** The argv of a netns holder (runner.ts): recovery kills only a process with exactly this argv. */
export const HOLDER_ARGV = ["sleep", "2147483647"];

export class StepJournal {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  holderPidFile(id: string): string {
    return `${this.dir}/${id}.holder`;
  }

  /** Record the step before it takes anything. */
  async begin(e: StepEntry): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR }); // below the root: perms.ts
    await writeFileAtomic(`${this.dir}/${e.id}.json`, JSON.stringify(e));
  }

  /** The step released everything. */
  async end(id: string): Promise<void> {
    await Deno.remove(`${this.dir}/${id}.json`).catch(() => {/* never begun */});
    await Deno.remove(this.holderPidFile(id)).catch(() => {/* no holder */});
  }

  entries(): StepEntry[] {
    const out: StepEntry[] = [];
    let names: string[];
    try {
      names = [...Deno.readDirSync(this.dir)].map((e) => e.name);
    } catch {
      return out; // no build ever ran a step
    }
    for (const n of names) {
      if (!n.endsWith(".json")) continue;
      try {
        out.push(JSON.parse(Deno.readTextFileSync(`${this.dir}/${n}`)));
      } catch {
        // a torn temp cannot be here (atomic writes); an unreadable entry has
        // nothing we could act on: drop it with a trace in the log (caller)
        out.push({ id: n.slice(0, -5), dir: "", cgroupsPath: "" });
      }
    }
    return out;
  }
}

function isHolder(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`) === HOLDER_ARGV.join("\0") + "\0";
  } catch {
    return false;
  }
}

async function killHolder(pidFile: string): Promise<void> {
  let pid = 0;
  try {
    pid = Number(Deno.readTextFileSync(pidFile).trim());
  } catch {
    return; // never started
  }
  if (!(pid > 1) || !isHolder(pid)) return;
  Deno.kill(pid, "SIGKILL");
  for (let i = 0; i < 200 && isHolder(pid); i++) {
    const st = Deno.readTextFileSync(`/proc/${pid}/stat`);
    if (/\) [ZX] /.test(st)) break;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The entry's runtime (an older daemon's entry names the runc binary). */
function entryRuntime(e: StepEntry): StepRuntime | undefined {
  if (!e.runtime) return undefined;
  if (typeof e.runtime !== "string") return e.runtime;
  const name = e.runtime.slice(e.runtime.lastIndexOf("/") + 1);
  return { name, path: e.runtime, root: e.stateRoot ?? "" };
}

async function runtimeDelete(r: StepRuntime, id: string): Promise<void> {
  try {
    await (await runtimeOf(r)).delete(id, true);
  } catch (e) {
    if (!isKind(e, "NotFound")) throw e;
  }
}

/**
 * Daemon start: release what steps of a killed daemon hold — kill the step's
 * processes (cgroup-wide) and its netns holder, delete the runtime state and
 * the cgroup — then delete any runtime state left under `stateRoot` (one dir
 * per runtime name, paths of external ones from `runtimes`), unmount
 * everything under `tmpRoot` and remove it. Returns what was done, for the log.
 */
export async function reapBuilds(
  o: {
    journal: StepJournal;
    tmpRoot: string;
    stateRoot: string;
    runtimes: Record<string, string>;
  },
): Promise<string[]> {
  const done: string[] = [];
  for (const e of o.journal.entries()) {
    const what = `build step ${e.id.slice(0, 12)}`;
    try {
      let killed = 0;
      if (e.cgroupsPath) killed = await killCgroup(e.cgroupsPath);
      const rt = entryRuntime(e);
      if (rt) await runtimeDelete(rt, e.id);
      if (e.holderPidFile) await killHolder(e.holderPidFile);
      if (e.cgroupsPath) await new Cgroup(e.cgroupsPath).remove();
      done.push(`${what}: killed ${killed} process(es), released`);
    } catch (err) {
      done.push(`${what}: ${(err as Error).message}`);
    }
    await o.journal.end(e.id);
  }
  done.push(...await sweepRuntimeState(o.stateRoot, o.runtimes));
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((l) => l.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((m): m is string => !!m && m.startsWith(o.tmpRoot + "/"))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      unmount(m);
    } catch (err) {
      done.push(`${m}: ${(err as Error).message}`);
    }
  }
  let leftovers = 0;
  try {
    leftovers = [...Deno.readDirSync(o.tmpRoot)].length;
    await Deno.remove(o.tmpRoot, { recursive: true });
    if (leftovers) done.push(`removed ${leftovers} build dir(s) from ${o.tmpRoot}`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) done.push(`${o.tmpRoot}: ${err}`);
  }
  return done;
}

/** Runtime state no step owns any more: `<stateRoot>/<runtime name>/<id>`. */
async function sweepRuntimeState(
  stateRoot: string,
  runtimes: Record<string, string>,
): Promise<string[]> {
  const done: string[] = [];
  const dirs = (p: string) => {
    try {
      return [...Deno.readDirSync(p)].filter((e) => e.isDirectory).map((e) => e.name);
    } catch {
      return []; // no step ever ran (with this runtime)
    }
  };
  for (const name of dirs(stateRoot)) {
    const root = `${stateRoot}/${name}`;
    if (existsSync(`${root}/state.json`)) {
      // an older daemon's runc state, straight under stateRoot
      const runc = { name: "runc", path: runtimes.runc ?? "runc", root: stateRoot };
      await runtimeDelete(runc, name).then(
        () => done.push(`runtime state of build step ${name.slice(0, 12)} deleted`),
        (err) => done.push(`runtime state of build step ${name.slice(0, 12)}: ${err}`),
      );
      continue;
    }
    const rt = { name, path: name === "berth" ? undefined : runtimes[name] ?? name, root };
    let names: Deno.DirEntry[] = [];
    try {
      names = [...Deno.readDirSync(root)];
    } catch { /* gone meanwhile: nothing to sweep */ }
    for (const { name: id, isDirectory } of names) {
      // dot entries are the runtime's caches and sockets (the built-in one's
      // .seccomp, a build's warm init), not containers
      if (id.startsWith(".")) {
        await Deno.remove(`${root}/${id}`, { recursive: true }).catch((err) =>
          done.push(`${root}/${id}: ${err}`)
        );
        continue;
      }
      if (!isDirectory) continue;
      await runtimeDelete(rt, id).then(
        () => done.push(`runtime state of build step ${id.slice(0, 12)} deleted`),
        (err) => done.push(`runtime state of build step ${id.slice(0, 12)}: ${err}`),
      );
    }
    // empty once every step's state is gone; else kept for the next start
    await Deno.remove(root).catch(() => {/* not empty: swept again at the next start */});
  }
  return done;
}

/**
 * The runtime RUN steps use: the daemon's default one (--default-runtime),
 * with its state under `<stateRoot>/<name>`.
 */
export function stepRuntime(
  c: { defaultRuntime: string; runtimes: Record<string, string> },
  stateRoot: string,
): StepRuntime {
  const name = c.defaultRuntime;
  return {
    name,
    path: name === "berth" ? undefined : c.runtimes[name] ?? name,
    root: `${stateRoot}/${name}`,
  };
}
