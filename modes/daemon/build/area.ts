/**
 * The builds area of the daemon. Its start releases what RUN steps of a
 * killed daemon still hold (journal.ts: step processes, netns holders, runc
 * state, cgroups, mounts and dirs under build-tmp). It starts before the
 * networks area, which then finds the steps' netns gone and drops their
 * veths, endpoint records and leases. The build service itself is built
 * on the first /build (../daemon.ts `build()`).
 * @module
 */
import { log } from "../log.ts";
import type { BuildConfig } from "./types.ts";
import { reapBuilds, StepJournal } from "./journal.ts";

/** Where the build service keeps its scratch dirs, journal and step runtime state. */
export function buildPaths(c: Pick<BuildConfig, "root" | "execRoot">) {
  return {
    tmpRoot: `${c.root}/build-tmp`,
    journal: `${c.root}/build-journal`,
    stateRoot: `${c.execRoot}/build-runtime`,
  };
}

export async function startBuilds(s: { config: BuildConfig }): Promise<void> {
  const p = buildPaths(s.config);
  try {
    const done = await reapBuilds({
      journal: new StepJournal(p.journal),
      tmpRoot: p.tmpRoot,
      stateRoot: p.stateRoot,
      runtimes: s.config.runtimes,
    });
    for (const d of done) log.warn(`builds: ${d}`);
  } catch (e) {
    log.error(`builds: releasing what a killed daemon's builds held: ${(e as Error).message}`);
  }
}
