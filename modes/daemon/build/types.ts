/**
 * What the build's parts share: the options of one build, its output, the
 * stores and daemon settings the build service uses ({@link BuildDeps}), and
 * {@link StepHost}, what a step (steps.ts, run_step.ts) may ask of the
 * builder — so the steps depend on this module, not on builder.ts, which
 * dispatches to them.
 * @module
 */
import type { StageArgs } from "../../../core/dockerfile/args.ts";
import type { Plan, Stage } from "../../../core/dockerfile/instructions.ts";
import type { BuildCache } from "./cache.ts";
import type { BuildContext } from "./context.ts";
import type { StepNetwork, StepRunner } from "./runner.ts";
import type { BuildState, BuildStores } from "./state.ts";

export interface BuildOptions {
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  labels: Record<string, string>;
  /** RUN network: "default" | "none" | "host" | "bridge". */
  network: string;
  /** `--add-host` entries ("name:ip") for RUN steps' /etc/hosts. */
  extraHosts?: string[];
  /**
   * `--cache-from`: when given, a cache hit counts only if it is one of
   * these images or an ancestor of one (moby's image/cache ImageCache).
   */
  cacheFrom?: string[];
}

export interface BuildOutput {
  /** A `{"stream": …}` message (already newline-terminated where it should be). */
  stream(text: string): Promise<void>;
  aux(value: unknown): Promise<void>;
}

/** A failed RUN: the error line carries the exit code. */
export class StepFailed extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

export type { BuildStores };

/** Pulls a missing base image, when the daemon can. */
export type Puller = (ref: string, out: BuildOutput) => Promise<void>;

/** The daemon settings the build service uses. */
export interface BuildConfig {
  /** cache, scratch dirs, journal and init layer live under `<root>/build-*` */
  root: string;
  /** the RUN steps' runtime state: `<execRoot>/build-runtime` */
  execRoot: string;
  /** the daemon's own API socket (self-pull of missing base images) */
  socket: string;
  /** name → path of the OCI runtime CLIs (--add-runtime) */
  runtimes: Record<string, string>;
  /** RUN steps run with it ("berth" = the built-in runtime) */
  defaultRuntime: string;
  /** cgroupfs parent of the steps' cgroups */
  cgroupParent: string;
}

/** Everything the build service uses of the daemon: wiring it is one line. */
export interface BuildDeps {
  config: BuildConfig;
  stores: BuildStores;
  /** RUN on the bridge or a user network (the network area); none: host networking only */
  network?: StepNetwork;
  /** How missing base images are pulled (default: the daemon's own `POST /images/create`). */
  pull?: Puller;
  /** The RUN step runner (default: OciStepRunner with the default runtime). */
  runner?: StepRunner;
}

/** One build's plan and surroundings, as the builder gets them. */
export interface BuilderDeps {
  plan: Plan;
  context: BuildContext;
  options: BuildOptions;
  out: BuildOutput;
  runner: StepRunner;
  cache: BuildCache;
  /** Scratch space for step dirs. */
  workRoot: string;
  pull?: Puller;
  signal?: AbortSignal;
}

/** A stage being built: its current state and args. */
export interface StageRun {
  stage: Stage;
  state: BuildState;
  args: StageArgs;
  cmdSet: boolean;
}

/** What a step asks of the builder (implemented by builder.ts's Builder). */
export interface StepHost {
  readonly stores: BuildStores;
  readonly d: BuilderDeps;
  readonly out: BuildOutput;
  /** Variables for expansion: build args in effect, overlaid by ENV. */
  env(sr: StageRun): Map<string, string>;
  /** Try the cache; on a hit the state moves on and true is returned. */
  cached(sr: StageRun, key: string): Promise<boolean>;
  /** After a step ran: record and print the new state. */
  done(sr: StageRun, key: string, next: BuildState): Promise<void>;
  parentKey(sr: StageRun): string;
  shellOf(sr: StageRun): string[];
  checkAbort(): void;
  /** Stage referenced by `name` (stage name or index) before stage `before`, if any. */
  stageRef(name: string, before: number): Stage | undefined;
  /** Build a stage (also on demand). */
  stageResult(st: Stage): Promise<BuildState>;
  /** An image by reference, pulled when missing (or always with --pull). */
  imageByName(name: string): Promise<BuildState>;
}
