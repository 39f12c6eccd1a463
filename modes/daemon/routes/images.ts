/**
 * Engine API image routes: list, inspect, history, tag, remove, load, save,
 * import (POST /images/create?fromSrc=-). Pull/push are added by the
 * distribution area.
 * @module
 */
import type { ApiRouter } from "../server.ts";
import { InvalidArgument, messageOf } from "../../../core/errdefs/mod.ts";
import { parseNormalizedNamed } from "../../../core/oci/reference.ts";
import type { Ctx } from "../context.ts";

// load, save, import and the distribution client (pull, push, login) are
// loaded on first use: an idle daemon never needs them (docs/daemon-memory.md).
const distribution = () => import("../images/distribution.ts");

async function save(ctx: Ctx, names: string[]): Promise<void> {
  if (names.length === 0) throw new InvalidArgument("no image names given");
  const { saveArchive } = await import("../images/archive_save.ts");
  const stream = saveArchive(ctx.daemon, names);
  const res = ctx.res!;
  res.writeHead(200, { "Content-Type": "application/x-tar" });
  for await (const chunk of stream) {
    if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
  }
  res.end();
}

export function register(r: ApiRouter): void {
  r.add("GET", "/images/json", async (ctx) => {
    ctx.send(
      200,
      await ctx.daemon.imageService.list({ all: ctx.flag("all"), filters: ctx.filters() }),
    );
  });

  r.add("POST", "/images/load", async (ctx) => {
    const quiet = ctx.flag("quiet");
    const { loadArchive } = await import("../images/archive_load.ts");
    const out = ctx.startStream();
    try {
      const res = await loadArchive(ctx.daemon, ctx.body(), (msg) => {
        if (!quiet) out.write({ status: msg });
      });
      for (const m of res.messages) await out.write({ stream: m + "\n" });
    } catch (e) {
      await out.error(messageOf(e));
    }
    out.end();
  });

  r.add("GET", "/images/get", (ctx) => save(ctx, ctx.query.getAll("names")));

  r.add("POST", "/images/create", async (ctx) => {
    const fromSrc = ctx.query.get("fromSrc");
    const fromImage = ctx.query.get("fromImage");
    if (fromImage !== null) return (await distribution()).pullHandler(ctx);
    if (fromSrc === null) throw new InvalidArgument("either fromImage or fromSrc is required");
    if (fromSrc !== "-") {
      throw new InvalidArgument("importing from a URL is not supported; use fromSrc=-");
    }
    const repo = ctx.query.get("repo") ?? "";
    const tag = ctx.query.get("tag") ?? "";
    let ref: string | undefined;
    if (repo) {
      ref = tag ? `${repo}:${tag}` : repo;
      parseNormalizedNamed(ref); // validate before reading the body
    }
    const { importRootfs } = await import("../images/import.ts");
    const out = ctx.startStream();
    try {
      const rec = await importRootfs(ctx.daemon, ctx.body(), {
        ref,
        message: ctx.query.get("message") ?? undefined,
        changes: ctx.query.getAll("changes"),
      });
      await ctx.daemon.imageService.event("import", rec.id, rec.id);
      await out.write({ status: rec.id });
    } catch (e) {
      await out.error(messageOf(e));
    }
    out.end();
  });

  r.add("POST", "/images/{name*}/push", async (ctx) => (await distribution()).pushHandler(ctx));
  r.add("POST", "/auth", async (ctx) => (await distribution()).authHandler(ctx));
  r.add("GET", "/images/{name*}/json", async (ctx) => {
    ctx.send(200, await ctx.daemon.imageService.inspect(ctx.params.name));
  });
  r.add("GET", "/images/{name*}/history", async (ctx) => {
    ctx.send(200, await ctx.daemon.imageService.history(ctx.params.name));
  });
  r.add("GET", "/images/{name*}/get", (ctx) => save(ctx, [ctx.params.name]));
  r.add("POST", "/images/{name*}/tag", async (ctx) => {
    await ctx.daemon.imageService.tag(
      ctx.params.name,
      ctx.query.get("repo") ?? "",
      ctx.query.get("tag"),
    );
    ctx.noContent(201);
  });
  r.add("DELETE", "/images/{name*}", async (ctx) => {
    ctx.send(
      200,
      await ctx.daemon.imageService.remove(ctx.params.name, {
        force: ctx.flag("force"),
        noprune: ctx.flag("noprune"),
      }),
    );
  });
  r.add("POST", "/images/prune", async (ctx) => {
    const { pruneImages } = await import("../images/prune.ts");
    ctx.send(200, await pruneImages(ctx.daemon, ctx.filters()));
  });
}
