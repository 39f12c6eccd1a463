/**
 * Which stages a build runs: the target (`--target` or the last stage) and
 * every stage before it, in Dockerfile order (moby's classic builder); a
 * stage named by FROM or `COPY --from` is found by name or index.
 *
 * @example
 * ```ts
 * import { parseDockerfile } from "./parser.ts";
 * import { toStages } from "./instructions.ts";
 * import { neededStages, targetStage } from "./plan.ts";
 * const plan = toStages(parseDockerfile("FROM a AS x\nFROM b AS y\nFROM c\nCOPY --from=x / /\n"));
 * const need = neededStages(plan, targetStage(plan, "y"));
 * console.assert(need.map((s) => s.index).join() === "0,1");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import type { Plan, Stage } from "./instructions.ts";

/** The stage to build: `--target` (case-insensitive) or the last one. */
export function targetStage(plan: Plan, target?: string): Stage {
  if (!target) return plan.stages.at(-1)!;
  const t = plan.stages.find((s) => s.name === target.toLowerCase());
  if (!t) throw new InvalidArgument(`failed to reach build target ${target} in Dockerfile`);
  return t;
}

/** The stage `name` (a stage name, or an index below `before`) refers to, if any. */
export function stageRef(plan: Plan, name: string, before: number): Stage | undefined {
  const n = name.toLowerCase();
  const byName = plan.stages.find((s) => s.name === n && s.index !== before);
  if (byName) return byName;
  if (/^\d+$/.test(name)) {
    const i = Number(name);
    if (i >= before) {
      throw new InvalidArgument(
        `invalid from flag value ${name}: refers to current or future build stage`,
      );
    }
    return plan.stages[i];
  }
  return undefined;
}

/**
 * The stages a build runs for `target`: every stage up to it, in Dockerfile
 * order, as moby's classic builder (builder/dockerfile/builder.go: the stages
 * are cut after the target, none is skipped; BuildKit prunes, /build does not).
 */
export function neededStages(plan: Plan, target: Stage): Stage[] {
  return plan.stages.filter((s) => s.index <= target.index);
}
