/**
 * The Dockerfile language, pure (no I/O, no daemon): the parser (directives,
 * continuations, heredocs, JSON/shell forms), Docker's word processing
 * (`$V`, `${V:-w}`, quotes, escapes), typed instructions and stages, build-arg
 * scoping, metadata instructions as config transforms (also `commit --change`),
 * stage planning, `.dockerignore` matching (client and daemon) and the COPY
 * rules (destinations, globs, `--chmod`/`--chown`). The build service that
 * runs a Dockerfile lives with the daemon (modes/daemon/build/); decisions:
 * docs/build.md.
 *
 * @example
 * ```ts
 * import { parseDockerfile, toStages } from "./mod.ts";
 * const plan = toStages(parseDockerfile("FROM busybox\nRUN echo hi\n"), "Dockerfile");
 * console.assert(plan.stages[0].instructions[0].kind === "RUN");
 * ```
 * @module
 */
export {
  chompHeredoc,
  type Dockerfile,
  DockerfileError,
  type Heredoc,
  type KeyValue,
  type Node,
  parseDockerfile,
  parseHeredocWord,
} from "./parser.ts";
export { type Env, envMap, type LexOptions, processWord, processWords } from "./shell_lex.ts";
export {
  type Flags,
  type Instruction,
  InstructionParser,
  type Kind,
  type Plan,
  type Stage,
  toStages,
} from "./instructions.ts";
export { BuildArgs, platformArgs, PROXY_ARGS, type StageArgs } from "./args.ts";
export {
  applyMeta,
  DEFAULT_SHELL,
  type MetaContext,
  type MetaResult,
  normalizeWorkdir,
} from "./dispatch.ts";
export { neededStages, stageRef, targetStage } from "./plan.ts";
export { cleanPath, keepBuildFiles, PatternMatcher, readIgnoreFile } from "./dockerignore.ts";
export {
  checkMultiSource,
  cleanSource,
  type Dest,
  destPathFor,
  globMatch,
  hasWildcards,
  normalizeDest,
  parseChmod,
  splitChown,
} from "./copy_rules.ts";
