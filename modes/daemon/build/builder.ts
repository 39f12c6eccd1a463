/**
 * The build: run every stage up to the target (the classic builder), each stage's steps
 * in order — FROM (image, scratch or an earlier stage, then the base's
 * ONBUILD triggers), metadata steps, WORKDIR, COPY/ADD and RUN — printing
 * Docker's legacy step lines and keeping every step in the build cache.
 * Filesystem steps live in steps.ts.
 *
 * @example
 * ```ts ignore
 * const b = new Builder(stores, { plan, context, options, out, runner, cache, workRoot });
 * const { id } = await b.build();
 * ```
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { type Digest, shortId } from "../../../core/oci/digest.ts";
import { hostPlatform } from "../../../core/oci/platform.ts";
import { log } from "../log.ts";
import { BuildArgs } from "../../../core/dockerfile/args.ts";
import { stepKey } from "./cache.ts";
import { applyMeta, DEFAULT_SHELL } from "../../../core/dockerfile/dispatch.ts";
import {
  type Instruction,
  InstructionParser,
  type Stage,
} from "../../../core/dockerfile/instructions.ts";
import { neededStages, stageRef, targetStage } from "../../../core/dockerfile/plan.ts";
import { DockerfileError, parseDockerfile } from "../../../core/dockerfile/parser.ts";
import { envMap, processWord } from "../../../core/dockerfile/shell_lex.ts";
import { baseOf, type BuildState, commitState, imageState, scratchState } from "./state.ts";
import { copyStep, workdirStep } from "./steps.ts";
import { runStep } from "./run_step.ts";
import {
  type BuilderDeps,
  type BuildOutput,
  type BuildStores,
  type StageRun,
  StepFailed,
  type StepHost,
} from "./types.ts";

export class Builder implements StepHost {
  readonly stores: BuildStores;
  readonly d: BuilderDeps;
  readonly args: BuildArgs;
  readonly results = new Map<number, BuildState>();
  #step = 0;
  #total = 0;
  #ip: InstructionParser;

  constructor(stores: BuildStores, d: BuilderDeps) {
    this.stores = stores;
    this.d = d;
    this.args = new BuildArgs(d.options.buildArgs, hostPlatform(), d.plan.escape);
    this.#ip = new InstructionParser(d.options.dockerfile);
  }

  get out(): BuildOutput {
    return this.d.out;
  }

  err(ins: Instruction, e: unknown): Error {
    if (e instanceof DockerfileError || e instanceof StepFailed) return e;
    const msg = e instanceof Error ? e.message : String(e);
    return new DockerfileError(this.d.options.dockerfile, ins.node.line, msg);
  }

  checkAbort(): void {
    if (this.d.signal?.aborted) throw new InvalidArgument("build canceled");
  }

  /** Run the build; returns the final image ID. */
  async build(): Promise<{ id: Digest }> {
    const { plan, options } = this.d;
    const target = targetStage(plan, options.target);
    for (const a of plan.metaArgs) {
      for (const kv of a.args) {
        try {
          this.args.declareMeta(kv.key, kv.value);
        } catch (e) {
          throw this.err(a, e);
        }
      }
    }
    const needed = neededStages(plan, target);
    const labels = Object.keys(options.labels);
    this.#total = plan.metaArgs.length +
      needed.reduce((n, st) => n + 1 + st.instructions.length, 0) + (labels.length ? 1 : 0);
    for (const a of plan.metaArgs) await this.#header(a);
    for (const st of needed) {
      if (this.results.has(st.index)) continue;
      await this.#stage(st, st === target);
    }
    const final = this.results.get(target.index)!;
    const unused = this.args.unused();
    if (unused.length) {
      await this.out.stream(
        `[Warning] One or more build-args [${unused.join(" ")}] were not consumed\n`,
      );
    }
    if (!final.id) throw new InvalidArgument("No image was generated. Is your Dockerfile empty?");
    return { id: final.id };
  }

  /** Stage referenced by `name` (stage name or index) before stage `before`, if any. */
  stageRef(name: string, before: number): Stage | undefined {
    return stageRef(this.d.plan, name, before);
  }

  async #header(ins: Instruction): Promise<void> {
    this.#step++;
    await this.out.stream(`Step ${this.#step}/${this.#total} : ${ins.node.original}\n`);
  }

  /** Build a stage (also on demand, for a reference the planner could not see). */
  async stageResult(st: Stage): Promise<BuildState> {
    const r = this.results.get(st.index);
    if (r) return r;
    await this.#stage(st, false);
    return this.results.get(st.index)!;
  }

  async #stage(st: Stage, isTarget: boolean): Promise<void> {
    this.checkAbort();
    const from = st.from;
    await this.#header(from);
    let state: BuildState;
    try {
      state = await this.#base(st);
    } catch (e) {
      throw this.err(from, e);
    }
    await this.out.stream(state.id ? ` ---> ${shortId(state.id)}\n` : "");
    const sr: StageRun = {
      stage: st,
      state: baseOf(state),
      args: this.args.stage(),
      cmdSet: false,
    };
    const triggers = sr.state.config.config?.OnBuild ?? [];
    if (triggers.length) {
      sr.state.config.config!.OnBuild = null;
      await this.out.stream(
        `# Executing ${triggers.length} build trigger${triggers.length > 1 ? "s" : ""}\n`,
      );
      for (const t of triggers) {
        let ins: Instruction;
        try {
          const df = parseDockerfile(t, { file: this.d.options.dockerfile });
          if (df.nodes.length !== 1) throw new Error(`bad ONBUILD trigger ${JSON.stringify(t)}`);
          const node = { ...df.nodes[0], line: from.node.line, endLine: from.node.line };
          ins = this.#ip.parse(node);
        } catch (e) {
          throw this.err(from, e);
        }
        await this.#dispatch(sr, ins);
      }
    }
    for (const ins of st.instructions) {
      this.checkAbort();
      await this.#header(ins);
      await this.#dispatch(sr, ins);
    }
    if (isTarget && Object.keys(this.d.options.labels).length) {
      const labels = Object.entries(this.d.options.labels).sort(([a], [b]) => (a < b ? -1 : 1));
      const original = "LABEL " + labels.map(([k, v]) => `${JSON.stringify(k)}='${v}'`).join(" ");
      const ins: Instruction = {
        kind: "LABEL",
        node: { ...from.node, cmd: "label", original, args: [], kv: [], flags: [] },
        flags: {},
        // Single-quoted: expansion leaves the values as given.
        pairs: labels.map(([key, value]) => ({ key: singleQuote(key), value: singleQuote(value) })),
      };
      await this.#header(ins);
      await this.#dispatch(sr, ins);
    }
    // moby's classic builder emits each stage's image ID as it ends
    // (builder/dockerfile/builder.go emitImageID); the last one is the build's.
    if (sr.state.id) await this.out.aux({ ID: sr.state.id });
    this.results.set(st.index, sr.state);
  }

  async #base(st: Stage): Promise<BuildState> {
    const esc = { escape: this.d.plan.escape };
    const name = processWord(st.from.image, this.args.metaEnv(), esc);
    if (name === "") throw new InvalidArgument(`base name (${st.from.image}) should not be blank`);
    if (st.from.platform) {
      const p = processWord(st.from.platform, this.args.metaEnv(), esc);
      const h = hostPlatform();
      const [os, arch] = p.split("/");
      if (os !== h.os || (arch && arch !== h.architecture)) {
        await this.out.stream(
          `[Warning] The requested image's platform (${p}) does not match the detected host platform (${h.os}/${h.architecture}); building for the host\n`,
        );
      }
    }
    const ref = this.stageRef(name, st.index);
    if (ref && ref.index < st.index) return structuredClone(await this.stageResult(ref));
    if (name.toLowerCase() === "scratch") return scratchState();
    return await this.imageByName(name);
  }

  /** An image by reference, pulled when missing (or always with --pull). */
  async imageByName(name: string): Promise<BuildState> {
    let rec = this.stores.images.tryResolve(name);
    if ((!rec || this.d.options.pull) && this.d.pull) {
      try {
        await this.d.pull(name, this.out);
      } catch (e) {
        if (!rec) throw e;
      }
      rec = this.stores.images.tryResolve(name);
    }
    if (!rec) {
      throw new InvalidArgument(
        `pull access denied for ${name}, repository does not exist or may require 'docker login': no such image here and no registry to pull it from`,
      );
    }
    return imageState(this.stores, rec.id);
  }

  /** Variables for expansion: build args in effect, overlaid by ENV. */
  env(sr: StageRun) {
    const m = sr.args.effective();
    for (const [k, v] of envMap(sr.state.config.config?.Env)) m.set(k, v);
    return m;
  }

  /** Try the cache; on a hit the state moves on and true is returned. */
  async cached(sr: StageRun, key: string): Promise<boolean> {
    if (this.d.options.noCache) return false;
    const entry = await this.d.cache.get(key);
    const hit = [entry?.image, ...(entry?.older ?? [])].find((i) =>
      i && this.stores.images.getById(i) && this.#cacheSource(i)
    );
    if (!hit) return false;
    try {
      sr.state = await imageState(this.stores, hit);
    } catch {
      return false;
    }
    await this.out.stream(` ---> Using cache\n ---> ${shortId(hit)}\n`);
    return true;
  }

  #sources?: Set<string>;

  /**
   * Whether a local cache hit may be used. Without `--cache-from` any; with
   * it, only one of the listed images or an ancestor of one (moby's
   * image/cache `ImageCache.GetCache`: a local hit must have a source as
   * descendant). Names that do not resolve are skipped, as moby warns and
   * skips them: with none left there is no cache at all.
   */
  #cacheSource(id: string): boolean {
    const from = this.d.options.cacheFrom;
    if (!from?.length) return true;
    if (!this.#sources) {
      this.#sources = new Set();
      for (const ref of from) {
        let cur;
        try {
          cur = this.stores.images.resolve(ref);
        } catch {
          log.debug(`build: could not look up ${ref} for cache resolution, skipping`);
          continue;
        }
        for (let n = 0; cur && n < 10000; n++) {
          this.#sources.add(cur.id);
          cur = cur.parent ? this.stores.images.getById(cur.parent) : undefined;
        }
      }
    }
    return this.#sources.has(id);
  }

  /** After a step ran: record and print the new state. */
  async done(sr: StageRun, key: string, next: BuildState): Promise<void> {
    sr.state = next;
    await this.d.cache.put(key, next.id!);
    await this.out.stream(` ---> ${shortId(next.id!)}\n`);
  }

  parentKey(sr: StageRun): string {
    return sr.state.id ?? `scratch:${sr.state.config.os}/${sr.state.config.architecture}`;
  }

  shellOf(sr: StageRun): string[] {
    const sh = sr.state.config.config?.Shell;
    return sh?.length ? sh : DEFAULT_SHELL;
  }

  async #dispatch(sr: StageRun, ins: Instruction): Promise<void> {
    try {
      switch (ins.kind) {
        case "FROM":
          throw new InvalidArgument("FROM is not allowed here");
        case "RUN":
          return await runStep(this, sr, ins);
        case "COPY":
        case "ADD":
          return await copyStep(this, sr, ins);
        case "WORKDIR":
          return await workdirStep(this, sr, ins);
        case "ARG":
          return await this.#arg(sr, ins);
        default:
          return await this.#meta(sr, ins);
      }
    } catch (e) {
      throw this.err(ins, e);
    }
  }

  async #arg(sr: StageRun, ins: Extract<Instruction, { kind: "ARG" }>): Promise<void> {
    const shown: string[] = [];
    for (const kv of ins.args) {
      const key = processWord(kv.key, this.env(sr), { escape: this.d.plan.escape });
      const v = sr.args.declare(key, kv.value, this.env(sr));
      shown.push(v === undefined ? key : `${key}=${v}`);
    }
    const comment = `ARG ${shown.join(" ")}`;
    const key = stepKey(this.parentKey(sr), { ARG: shown });
    if (await this.cached(sr, key)) return;
    const next = await commitState(this.stores, sr.state, {
      runConfig: structuredClone(sr.state.config.config ?? {}),
      createdBy: `${this.shellOf(sr).join(" ")} #(nop)  ${comment}`,
    });
    await this.done(sr, key, next);
  }

  async #meta(sr: StageRun, ins: Instruction): Promise<void> {
    const rc = structuredClone(sr.state.config.config ?? {});
    const shell = this.shellOf(sr);
    const r = applyMeta(ins, rc, {
      env: this.env(sr),
      escape: this.d.plan.escape,
      cmdSet: sr.cmdSet,
    });
    if (r.cmdSet) sr.cmdSet = true;
    const key = stepKey(this.parentKey(sr), r.key);
    if (await this.cached(sr, key)) return;
    const next = await commitState(this.stores, sr.state, {
      runConfig: rc,
      createdBy: `${shell.join(" ")} #(nop)  ${r.comment}`,
      author: r.author,
    });
    await this.done(sr, key, next);
  }
}

function singleQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}
