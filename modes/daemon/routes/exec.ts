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

/**
 * The JSON body of an upgrade request (exec start). Deno's node:http hands
 * the body to `req` only when it came with the head; when the client sent it
 * separately (the docker CLI does), Deno swallows it before the upgrade
 * completes and it is never seen. So: read it when complete, else `{}`
 * (the exec's Tty comes from exec create; a detached start is not upgraded).
 */
export async function upgradeBody<T = Record<string, unknown>>(ctx: Ctx): Promise<T> {
  const req = ctx.req as unknown as { complete?: boolean };
  if (!req.complete) return {} as T;
  return await ctx.json<T>();
}

export function register(r: ApiRouter): void {
  r.add("POST", "/containers/{id}/exec", async (ctx) => {
    const id = execs(ctx).create(ctx.params.id, await ctx.json());
    ctx.send(201, { Id: id });
  });

  r.add("POST", "/exec/{id}/start", async (ctx) => {
    type Start = { Detach?: boolean; Tty?: boolean };
    const body = ctx.upgradeSocket ? await upgradeBody<Start>(ctx) : await ctx.json<Start>();
    const head = ctx.upgradeHead;
    const ex = execs(ctx);
    const e = ex.get(ctx.params.id);
    if (body.Detach) {
      await ex.startDetached(e.ID);
      if (ctx.upgradeSocket) {
        ctx.upgradeSocket.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      } else ctx.noContent(200);
      return;
    }
    const sock = ctx.hijack(false);
    await ex.startAttached(e.ID, sock, head, !!body.Tty);
  });

  r.add("POST", "/exec/{id}/resize", async (ctx) => {
    await execs(ctx).resize(ctx.params.id, ctx.int("h", 0)!, ctx.int("w", 0)!);
    ctx.noContent(200);
  });

  r.add("GET", "/exec/{id}/json", (ctx) => {
    ctx.send(200, execs(ctx).inspect(ctx.params.id));
  });
}
