/**
 * The daemon's build service: owns the build cache, the RUN step runner and
 * the scratch directories, and runs one build from a request (context tar,
 * Dockerfile name, options) to an image, reporting through a
 * {@link BuildOutput}. Created lazily by the /build route.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import {
  familiarString,
  parseNormalizedNamed,
  referenceString,
} from "../../../core/oci/reference.ts";
import { shortId } from "../../../core/oci/digest.ts";
import { resolveInRoot } from "../../../core/runtime/securejoin.ts";
import { log, logFailure } from "../log.ts";
import { BuildCache } from "./cache.ts";
import { BuildContext } from "./context.ts";
import { PatternMatcher, readIgnoreFile } from "../../../core/dockerfile/dockerignore.ts";
import { toStages } from "../../../core/dockerfile/instructions.ts";
import { parseDockerfile } from "../../../core/dockerfile/parser.ts";
import { OciStepRunner, type StepRunner } from "./runner.ts";
import { Builder } from "./builder.ts";
import type { BuildDeps, BuildOptions, BuildOutput } from "./types.ts";
export { StepFailed } from "./types.ts";
import { StepJournal, stepRuntime } from "./journal.ts";
import { buildPaths } from "./area.ts";
import { selfPuller } from "./pull.ts";

export interface BuildRequest extends BuildOptions {
  /** The request's X-Registry-Config header (credentials for pulls). */
  registryConfig?: string;
  /** The context tar (plain or gzip). */
  body: ReadableStream<Uint8Array>;
  signal?: AbortSignal;
}

export class BuildService {
  readonly deps: BuildDeps;
  readonly cache: BuildCache;
  readonly runner: StepRunner;

  constructor(deps: BuildDeps) {
    this.deps = deps;
    const c = deps.config;
    this.cache = new BuildCache(`${c.root}/build-cache`);
    const p = buildPaths(c);
    this.runner = deps.runner ?? new OciStepRunner({
      runtime: stepRuntime(c, p.stateRoot),
      workRoot: p.tmpRoot,
      initDir: `${c.root}/build-init`,
      network: deps.network,
      cgroupParent: c.cgroupParent,
      journal: new StepJournal(p.journal),
    });
  }

  get tmpRoot(): string {
    return buildPaths(this.deps.config).tmpRoot;
  }

  /** Validate `-t` names before reading the body. */
  static checkTags(tags: string[]): string[] {
    return tags.map((t) => {
      const r = parseNormalizedNamed(t);
      if (r.digest) throw new InvalidArgument(`invalid reference format: ${t} has a digest`);
      return referenceString(r.tag ? r : { ...r, tag: "latest" });
    });
  }

  async build(req: BuildRequest, out: BuildOutput): Promise<string> {
    const work = `${this.tmpRoot}/${crypto.randomUUID()}`;
    await Deno.mkdir(work, { recursive: true, mode: 0o700 });
    try {
      const t0 = performance.now();
      const context = await BuildContext.extract(req.body, `${work}/context`);
      log.debug(
        `build context: ${context.entries.size} entries in ${
          (performance.now() - t0).toFixed(0)
        }ms`,
      );
      const dfName = req.dockerfile || "Dockerfile";
      const text = await readDockerfile(context, dfName);
      await dropIgnoredBuildFiles(context, dfName);
      const plan = toStages(parseDockerfile(text, { file: dfName }), dfName);
      const pull = this.deps.pull ?? selfPuller(this.deps.config.socket, req.registryConfig);
      const b = new Builder(this.deps.stores, {
        plan,
        context,
        options: req,
        out,
        runner: this.runner,
        cache: this.cache,
        workRoot: work,
        pull,
        signal: req.signal,
      });
      for (const w of plan.warnings) await out.stream(`[Warning] ${w}\n`);
      const runs = plan.stages.some((st) => st.instructions.some((i) => i.kind === "RUN"));
      if (runs) await this.runner.begin?.();
      let id;
      try {
        ({ id } = await b.build());
      } finally {
        if (runs) await this.runner.end?.();
      }
      await out.stream(`Successfully built ${shortId(id)}\n`);
      for (const t of req.tags) {
        await this.deps.stores.images.tag(id, t);
        await out.stream(`Successfully tagged ${familiarString(parseNormalizedNamed(t))}\n`);
      }
      return id;
    } finally {
      const t = performance.now();
      await Deno.remove(work, { recursive: true }).catch(logFailure(`removing build dir ${work}`));
      log.debug(`build cleanup: ${(performance.now() - t).toFixed(0)}ms`);
    }
  }
}

async function readDockerfile(ctx: BuildContext, name: string): Promise<string> {
  const tryRead = async (n: string) => {
    const abs = resolveInRoot(ctx.dir, "/" + n);
    const rel = abs === ctx.dir ? "" : abs.slice(ctx.dir.length + 1);
    if (ctx.get(rel)?.type !== "file") return undefined;
    try {
      return new TextDecoder().decode(await ctx.readFile(rel));
    } catch {
      return undefined;
    }
  };
  let text = await tryRead(name);
  if (text === undefined && name === "Dockerfile") text = await tryRead("dockerfile");
  if (text === undefined) throw new InvalidArgument(`Cannot locate specified Dockerfile: ${name}`);
  // readAndParseDockerfile: zero bytes is its own error
  if (text === "") throw new InvalidArgument(`the Dockerfile (${name}) cannot be empty`);
  return text;
}

/** The daemon half of Docker's rule: drop the Dockerfile/.dockerignore when ignored. */
async function dropIgnoredBuildFiles(ctx: BuildContext, dockerfile: string): Promise<void> {
  if (ctx.get(".dockerignore")?.type !== "file") return;
  const text = new TextDecoder().decode(await ctx.readFile(".dockerignore"));
  const pm = new PatternMatcher(readIgnoreFile(text));
  for (const f of [".dockerignore", dockerfile]) if (pm.matches(f)) await ctx.remove(f);
}
