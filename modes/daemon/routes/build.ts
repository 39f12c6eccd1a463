/**
 * `POST /build` — Docker's legacy builder protocol: the context tar is the
 * body (or `remote=URL` of a tar), options are query parameters (t,
 * dockerfile, buildargs, target, nocache, pull, labels, q, networkmode, …),
 * and the answer is a JSON-lines stream of `stream` lines, the `aux` image
 * ID, and on failure `errorDetail` (code = a failed RUN's exit code).
 * Also `POST /build/prune` for the build cache.
 * @module
 */
import type { ApiRouter } from "../server.ts";
import type { Ctx } from "../context.ts";
import { InvalidArgument, messageOf } from "../../../core/errdefs/mod.ts";
import type { BuildService } from "../build/service.ts";
import type { BuildOutput } from "../build/types.ts";
import { BuildArgs, BuildLabels, CacheFrom, jsonParam } from "../api/query.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";
import { parsePlatformQuery } from "../api/platform.ts";
import { cmpVersion } from "../api_version.ts";

/** The build service, loaded on first use (keeps daemon start-up lean). */
async function service(
  ctx: Ctx,
): Promise<typeof import("../build/service.ts") & { svc: BuildService }> {
  const svc = await ctx.daemon.build();
  return { ...await import("../build/service.ts"), svc };
}

async function postBuild(ctx: Ctx): Promise<void> {
  const { svc, BuildService, StepFailed } = await service(ctx);
  const tags = BuildService.checkTags(ctx.query.getAll("t").filter((t) => t !== ""));
  const q = ctx.query;
  const buildArgs = jsonParam(q, "buildargs", BuildArgs, "error reading build args: ") ?? {};
  const labels = jsonParam(q, "labels", BuildLabels, "error reading labels: ") ?? {};
  const quiet = ctx.flag("q");
  // As dockerd: `cachefrom` is a JSON list; `extrahosts` a repeated parameter.
  const cacheFrom = jsonParam(q, "cachefrom", CacheFrom);
  const extraHosts = q.getAll("extrahosts").filter((h) => h);
  if (ctx.query.get("version") === "2") {
    throw new InvalidArgument(
      "the BuildKit builder (version=2) is not available: use the legacy builder (DOCKER_BUILDKIT=0)",
    );
  }
  // newImageBuildOptions parses `platform` (API 1.32+) before anything runs
  const platform = cmpVersion(ctx.apiVersion, "1.32") >= 0 ? q.get("platform") : null;
  if (platform) parsePlatformQuery(platform);
  const network = ctx.query.get("networkmode") || "default";
  if (!["default", "none", "host", "bridge"].includes(network)) {
    throw new InvalidArgument(`network mode ${network} is not supported for builds`);
  }
  let body = ctx.body();
  const remote = ctx.query.get("remote");
  if (remote) {
    if (!/^https?:\/\//.test(remote)) {
      throw new InvalidArgument(`unsupported remote context ${remote}: only http(s) URLs of a tar`);
    }
    await body.cancel().catch(peerGone);
    const r = await fetch(remote).catch((e) => {
      throw new InvalidArgument(`failed to fetch remote context ${remote}: ${messageOf(e)}`);
    });
    if (!r.ok || !r.body) {
      throw new InvalidArgument(`failed to fetch remote context ${remote}: status ${r.status}`);
    }
    body = r.body;
  }
  const abort = new AbortController();
  ctx.res?.on("close", () => {
    if (!ctx.res?.writableFinished) abort.abort();
  });
  // The answer starts with the first output line: an error before it (no
  // Dockerfile, an empty one, a parse error) is the HTTP status itself, as
  // dockerd answers while its output is not flushed yet.
  let started: ReturnType<typeof ctx.startStream> | undefined;
  const stream = () => (started ??= ctx.startStream());
  const out: BuildOutput = {
    stream: (text) => (quiet || !text ? Promise.resolve() : stream().write({ stream: text })),
    aux: (value) => stream().write({ aux: value }),
  };
  try {
    const id = await svc.build({
      body,
      dockerfile: ctx.query.get("dockerfile") || "Dockerfile",
      tags,
      buildArgs,
      target: ctx.query.get("target") || undefined,
      noCache: ctx.flag("nocache"),
      pull: ctx.flag("pull"),
      registryConfig: (ctx.req.headers["x-registry-config"] as string | undefined) ?? undefined,
      labels,
      network,
      extraHosts,
      cacheFrom: cacheFrom?.length ? cacheFrom : undefined,
      signal: abort.signal,
    }, out);
    if (quiet) await stream().write({ stream: id + "\n" });
  } catch (e) {
    if (!started && !abort.signal.aborted) throw e;
    if (!abort.signal.aborted) {
      await stream().error(messageOf(e), e instanceof StepFailed ? e.code : undefined);
    }
  }
  started?.end();
}

export function register(r: ApiRouter): void {
  r.add("POST", "/build", postBuild);
  r.add("POST", "/build/prune", async (ctx) => {
    const { svc } = await service(ctx);
    const n = await svc.cache.prune((id) => !!ctx.daemon.images.getById(id));
    ctx.send(200, { CachesDeleted: null, SpaceReclaimed: 0, Pruned: n });
  });
}
