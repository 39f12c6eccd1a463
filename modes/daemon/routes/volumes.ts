/**
 * Engine API: /volumes (create, list, inspect, remove, prune).
 * @module
 */
import type { ApiRouter } from "../server.ts";
import type { Ctx } from "../context.ts";
import { cmpVersion } from "../api_version.ts";
import { pruneFilter } from "../prune_filters.ts";
import { matchVolume, type Volume, type VolumeService } from "../containers/volumes.ts";
import { jsonRoute } from "../api/body.ts";
import { VolumeCreate } from "../../../core/api/volumes.ts";

function vols(ctx: Ctx): VolumeService {
  return ctx.daemon.volumes;
}

function view(v: Volume, usage?: { size: number; refs: number }) {
  const { Anonymous: _a, Populated: _p, ...out } = v;
  return usage ? { ...out, UsageData: { Size: usage.size, RefCount: usage.refs } } : out;
}

export function register(r: ApiRouter): void {
  r.add(
    "POST",
    "/volumes/create",
    jsonRoute(VolumeCreate, async (ctx, body) => {
      // No name: an anonymous volume, which a plain `volume prune` removes
      // (moby volume/service/service.go Create, Docker 23+).
      ctx.send(201, view(await vols(ctx).create(body, !body.Name)));
    }),
  );

  r.add("GET", "/volumes", (ctx) => {
    const vs = vols(ctx);
    const f = ctx.filters();
    const list = vs.list().filter((v) => matchVolume(v, f, vs.users(v.Name).length > 0));
    ctx.send(200, { Volumes: list.map((v) => view(v)), Warnings: null });
  });

  r.add("POST", "/volumes/prune", async (ctx) => {
    const vs = vols(ctx);
    const f = ctx.filters();
    const pf = pruneFilter(f, ["label", "label!", "all"]);
    // Callers below API 1.42 prune every unused volume, named ones too (as
    // Docker 20.10 did; moby api/server/router/volume/volume_routes.go).
    const all = f.all?.[0] === "true" || f.all?.[0] === "1" ||
      cmpVersion(ctx.apiVersion, "1.42") < 0;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of vs.list()) {
      if (vs.users(v.Name).length) continue;
      if (!all && !v.Anonymous) continue;
      if (!pf.labels(v.Labels)) continue;
      const size = await vs.size(v.Name).catch(() => 0);
      try {
        await vs.remove(v.Name);
        deleted.push(v.Name);
        reclaimed += size;
      } catch { /* in use meanwhile */ }
    }
    ctx.send(200, { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  r.add("GET", "/volumes/{name}", (ctx) => {
    ctx.send(200, view(vols(ctx).get(ctx.params.name)));
  });

  r.add("DELETE", "/volumes/{name}", async (ctx) => {
    await vols(ctx).remove(ctx.params.name, ctx.flag("force"));
    ctx.noContent(204);
  });
}
