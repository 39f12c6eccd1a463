/**
 * Engine API: GET/HEAD/PUT /containers/{id}/archive (`docker cp`) and
 * GET /containers/{id}/export.
 * @module
 */
import type { ServerResponse } from "node:http";
import type { ApiRouter } from "../server.ts";
import type { Ctx } from "../context.ts";
import type { ContainerService } from "../containers/service.ts";
import {
  archivePath,
  exportContainer,
  extractToDir,
  type PathStat,
  statPath,
} from "../containers/archive.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";

function svc(ctx: Ctx): ContainerService {
  return ctx.daemon.containers;
}

function statHeader(st: PathStat): string {
  const json = JSON.stringify(st);
  return btoa(String.fromCharCode(...new TextEncoder().encode(json)));
}

/** Stream a tar to the response; stops (cancelling the source) when the client goes away. */
async function pipeTar(res: ServerResponse, tar: ReadableStream<Uint8Array>): Promise<void> {
  const rd = tar.getReader();
  let gone = false;
  const onClose = () => gone = true;
  res.once("close", onClose);
  try {
    for (;;) {
      const { value, done } = await rd.read();
      if (done) break;
      if (gone) break;
      if (!res.write(value)) {
        await new Promise<void>((r) => {
          const go = () => {
            res.off("drain", go);
            res.off("close", go);
            r();
          };
          res.once("drain", go);
          res.once("close", go);
        });
      }
    }
    if (gone) await rd.cancel().catch(peerGone); // client left: nothing more to send
  } catch (e) {
    // headers are out: all we can do is cut the stream so the client sees a short tar
    res.destroy(e as Error);
    return;
  } finally {
    res.off("close", onClose);
  }
  res.end();
}

export function register(r: ApiRouter): void {
  r.add("GET", "/containers/{id}/archive", async (ctx) => {
    const res = ctx.res!;
    if (ctx.req.method === "HEAD") {
      const st = await statPath(svc(ctx), ctx.params.id, ctx.query.get("path"));
      res.writeHead(200, { "X-Docker-Container-Path-Stat": statHeader(st) });
      res.end();
      return;
    }
    const { stat, tar } = await archivePath(svc(ctx), ctx.params.id, ctx.query.get("path"));
    res.writeHead(200, {
      "Content-Type": "application/x-tar",
      "X-Docker-Container-Path-Stat": statHeader(stat),
    });
    await pipeTar(res, tar);
  });

  r.add("PUT", "/containers/{id}/archive", async (ctx) => {
    await extractToDir(svc(ctx), ctx.params.id, ctx.query.get("path"), ctx.body(), {
      copyUIDGID: ctx.flag("copyUIDGID"),
      noOverwriteDirNonDir: ctx.flag("noOverwriteDirNonDir"),
    });
    ctx.noContent(200);
  });

  r.add("GET", "/containers/{id}/export", async (ctx) => {
    const tar = await exportContainer(svc(ctx), ctx.params.id);
    ctx.res!.writeHead(200, { "Content-Type": "application/x-tar" });
    await pipeTar(ctx.res!, tar);
  });
}
