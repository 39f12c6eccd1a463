/**
 * Which stages a build runs: the target (`--target` or the last stage) and,
 * transitively, the stages it names in FROM or `COPY --from` (by name or
 * index), in Dockerfile order. References are expanded with the meta args
 * (and build args) for planning; one the planner cannot see is built on
 * demand by the builder.
 *
 * @example
 * ```ts
 * import { parseDockerfile } from "./parser.ts";
 * import { toStages } from "./instructions.ts";
 * import { BuildArgs } from "./args.ts";
 * import { neededStages, targetStage } from "./plan.ts";
 * const plan = toStages(parseDockerfile("FROM a AS x\nFROM b AS y\nFROM c\nCOPY --from=x / /\n"));
 * const args = new BuildArgs({}, { os: "linux", architecture: "amd64" });
 * const need = neededStages(plan, targetStage(plan), args);
 * console.assert(need.map((s) => s.index).join() === "0,2");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import type { BuildArgs } from "./args.ts";
import type { Plan, Stage } from "./instructions.ts";
import { processWord } from "./shell_lex.ts";

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

/** The stages `target` depends on (and itself), in Dockerfile order. */
export function neededStages(plan: Plan, target: Stage, args: BuildArgs): Stage[] {
  const meta = args.metaEnv();
  const env = new Map(meta);
  for (const [k, v] of args.given) if (v !== null && !env.has(k)) env.set(k, v);
  const esc = { escape: plan.escape };
  const want = new Set<number>();
  const visit = (st: Stage) => {
    if (want.has(st.index)) return;
    want.add(st.index);
    const refs: string[] = [];
    try {
      refs.push(processWord(st.from.image, meta, esc));
    } catch { /* reported when the stage runs */ }
    for (const ins of st.instructions) {
      if (ins.kind !== "COPY" || !ins.from) continue;
      try {
        refs.push(processWord(ins.from, env, esc));
      } catch { /* reported when the step runs */ }
    }
    for (const r of refs) {
      try {
        const dep = stageRef(plan, r, st.index);
        if (dep && dep.index < st.index) visit(dep);
      } catch { /* reported when the step runs */ }
    }
  };
  visit(target);
  return plan.stages.filter((s) => want.has(s.index));
}
