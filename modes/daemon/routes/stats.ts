/**
 * Engine API: `GET /containers/{id}/stats` (stream, `stream=false`,
 * `one-shot=true`); the work is in containers/stats.ts.
 * @module
 */
import type { ApiRouter } from "../server.ts";
import type { Ctx } from "../context.ts";
import { serveStats } from "../containers/stats.ts";

export function register(r: ApiRouter): void {
  r.add("GET", "/containers/{id}/stats", async (ctx: Ctx) => {
    const svc = ctx.daemon.containers;
    const rec = svc.resolve(ctx.params.id);
    const stream = ctx.flag("stream", true);
    const oneShot = ctx.flag("one-shot");
    const out = ctx.startStream("application/json");
    const res = out.raw;
    const closed = new Promise<void>((resolve) => {
      res.once("close", () => resolve());
      res.socket?.once("close", () => resolve());
    });
    let gone = false;
    closed.then(() => gone = true);
    await serveStats(svc, rec, {
      stream,
      oneShot,
      alive: () => !gone && !res.destroyed,
      // json.Encoder's framing: one object per line; a gone client ends the write
      write: (obj) => Promise.race([out.writeRaw(JSON.stringify(obj) + "\n"), closed]),
      closed,
    });
    if (!res.destroyed) out.end();
  });
}
