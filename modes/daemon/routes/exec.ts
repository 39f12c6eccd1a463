/**
 * Engine API: exec create/start/resize/inspect.
 * @module
 */
import type { ApiRouter } from "../server.ts";
import type { Ctx } from "../context.ts";
import type { ExecService } from "../containers/exec.ts";

function execs(ctx: Ctx): ExecService {
  return ctx.services.execs as ExecService;
}

export function register(r: ApiRouter): void {
  r.add("POST", "/containers/{id}/exec", async (ctx) => {
    const id = execs(ctx).create(ctx.params.id, await ctx.json());
    ctx.send(201, { Id: id });
  });

  r.add("POST", "/exec/{id}/start", async (ctx) => {
    const body = await ctx.json<{ Detach?: boolean; Tty?: boolean }>();
    const ex = execs(ctx);
    const e = ex.get(ctx.params.id);
    if (body.Detach) {
      await ex.startDetached(e.ID);
      ctx.noContent(200);
      return;
    }
    const sock = ctx.hijack(false);
    await ex.startAttached(e.ID, sock, ctx.upgradeHead, !!body.Tty);
  });

  r.add("POST", "/exec/{id}/resize", async (ctx) => {
    await execs(ctx).resize(ctx.params.id, ctx.int("h", 0)!, ctx.int("w", 0)!);
    ctx.noContent(200);
  });

  r.add("GET", "/exec/{id}/json", (ctx) => {
    ctx.send(200, execs(ctx).inspect(ctx.params.id));
  });
}
