/**
 * Engine API: /containers/… (create, list, inspect, start, stop, restart,
 * kill, remove, wait, logs, attach, resize, rename, top, pause, unpause,
 * prune, changes).
 * @module
 */
import type { ApiRouter } from "../server.ts";
import type { Ctx } from "../context.ts";
import { InvalidArgument, isKind, NotFound } from "../../../core/errdefs/mod.ts";
import type { ContainerService } from "../containers/service.ts";
import { inspectView } from "../containers/views.ts";
import { linksView } from "../containers/links.ts";
import { changes, listContainers, prune, top } from "../containers/ops.ts";
import { attach } from "../containers/attach.ts";
import { fixedTime, parseUnixNs, readLogs } from "../containers/logs.ts";
import { frame } from "../../../core/shim/protocol.ts";
import { du } from "../containers/volumes.ts";
import { adaptCreateBody, adaptInspectView, cmpVersion } from "../api_version.ts";
import { jsonRoute } from "../api/body.ts";
import { ContainerCreate } from "../../../core/api/containers.ts";
import { checkCreate, checkRefs } from "../api/checks.ts";
import { formatPlatform, parsePlatformQuery, platformMatches } from "../api/platform.ts";

function svc(ctx: Ctx): ContainerService {
  return ctx.daemon.containers;
}

export function register(r: ApiRouter): void {
  r.add(
    "POST",
    "/containers/create",
    jsonRoute(ContainerCreate, async (ctx, body) => {
      // postContainersCreate reads `platform` from API 1.41 on; an image of
      // another platform is then not found (daemon/images/image.go GetImage)
      const platform = cmpVersion(ctx.apiVersion, "1.41") >= 0 ? ctx.query.get("platform") : null;
      if (platform) {
        const want = parsePlatformQuery(platform);
        const img = body.Image ? ctx.daemon.images.tryResolve(body.Image) : undefined;
        if (img) {
          const cfg = await ctx.daemon.imageService.config(img.id);
          if (!platformMatches(want, cfg)) {
            throw new NotFound(
              `image with reference ${body.Image} was found but does not match the specified platform: wanted ${
                formatPlatform(want)
              }, actual: ${formatPlatform(cfg)}`,
            );
          }
        }
      }
      checkRefs(body, (ref) => svc(ctx).store.tryResolve(ref) !== undefined);
      adaptCreateBody(body, ctx.apiVersion);
      const rec = await svc(ctx).create(body, ctx.query.get("name") || undefined);
      ctx.send(201, { Id: rec.Id, Warnings: [] });
    }, { check: checkCreate }),
  );

  r.add("GET", "/containers/json", async (ctx) => {
    const list = await listContainers(svc(ctx), {
      all: ctx.flag("all"),
      limit: ctx.int("limit", -1) ?? -1,
      size: ctx.flag("size"),
      filters: ctx.filters(),
    });
    ctx.send(200, list);
  });

  r.add("POST", "/containers/prune", async (ctx) => {
    ctx.send(200, await prune(svc(ctx), ctx.filters()));
  });

  r.add("GET", "/containers/{id}/json", async (ctx) => {
    const s = svc(ctx);
    const rec = s.resolve(ctx.params.id);
    const execs = ctx.daemon.execs.idsOf(rec.Id);
    const extra: Parameters<typeof inspectView>[1] = {
      execIds: execs,
      upper: s.store.dirOf(rec.Id),
    };
    if (ctx.flag("size")) {
      extra.sizeRw = await du(`${s.store.dirOf(rec.Id)}/upper`);
      extra.sizeRootFs = extra.sizeRw + (ctx.daemon.images.getById(rec.Image)?.size ?? 0);
    }
    const links = linksView(rec, s.store);
    const view = inspectView({ ...rec, HostConfig: { ...rec.HostConfig, Links: links } }, extra);
    adaptInspectView(view as unknown as Record<string, unknown>, ctx.apiVersion);
    ctx.send(200, view);
  });

  r.add("POST", "/containers/{id}/start", async (ctx) => {
    const started = await svc(ctx).start(ctx.params.id);
    ctx.noContent(started ? 204 : 304);
  });

  r.add("POST", "/containers/{id}/stop", async (ctx) => {
    const t = ctx.int("t") ?? ctx.int("timeout");
    const done = await svc(ctx).stop(ctx.params.id, t, ctx.query.get("signal") || undefined);
    ctx.noContent(done ? 204 : 304);
  });

  r.add("POST", "/containers/{id}/restart", async (ctx) => {
    const t = ctx.int("t") ?? ctx.int("timeout");
    await svc(ctx).restart(ctx.params.id, t, ctx.query.get("signal") || undefined);
    ctx.noContent(204);
  });

  r.add("POST", "/containers/{id}/kill", async (ctx) => {
    try {
      await svc(ctx).kill(ctx.params.id, ctx.query.get("signal") || undefined);
    } catch (e) {
      // postContainersKill: below API 1.20 killing a stopped container is no error.
      if (!(isKind(e, "Conflict") && cmpVersion(ctx.apiVersion, "1.20") < 0)) throw e;
    }
    ctx.noContent(204);
  });

  r.add("DELETE", "/containers/{id}", async (ctx) => {
    if (ctx.flag("link")) {
      throw new InvalidArgument("Conflict, cannot remove the default link name of the container");
    }
    await svc(ctx).remove(ctx.params.id, { force: ctx.flag("force"), volumes: ctx.flag("v") });
    ctx.noContent(204);
  });

  r.add("POST", "/containers/{id}/wait", async (ctx) => {
    let stream: ReturnType<Ctx["startStream"]> | undefined;
    const code = await svc(ctx).wait(ctx.params.id, ctx.query.get("condition") ?? "", () => {
      stream = ctx.startStream("application/json");
    });
    await stream!.writeRaw(JSON.stringify({ Error: null, StatusCode: code }) + "\n");
    stream!.end();
  });

  r.add("GET", "/containers/{id}/logs", async (ctx) => {
    const s = svc(ctx);
    const rec = s.resolve(ctx.params.id);
    const stdout = ctx.flag("stdout"), stderr = ctx.flag("stderr");
    if (!stdout && !stderr) {
      throw new InvalidArgument("Bad parameters: you must choose at least one stream");
    }
    if (rec.HostConfig.LogConfig?.Type === "none" || !rec.LogPath) {
      throw new InvalidArgument(
        `configured logging driver does not support reading`,
      );
    }
    const tty = !!rec.Config.Tty;
    const ct = tty || cmpVersion(ctx.apiVersion, "1.42") < 0
      ? "application/vnd.docker.raw-stream"
      : "application/vnd.docker.multiplexed-stream";
    const tailStr = ctx.query.get("tail") ?? "all";
    // moby daemon/logs.go: a tail that is not an integer, or a negative one, means all.
    const tail = /^[+-]?\d+$/.test(tailStr) ? Math.max(-1, Number(tailStr)) : -1;
    const follow = ctx.flag("follow") && rec.State.Running;
    const live = s.live(rec.Id);
    const stopped = follow ? Promise.race([live.nextExit(), live.nextRemove()]) : undefined;
    const out = ctx.startStream(ct);
    const res = out.raw;
    const ts = ctx.flag("timestamps");
    const enc = new TextEncoder();
    await readLogs(
      rec.LogPath,
      {
        stdout,
        stderr,
        tail,
        since: parseUnixNs(ctx.query.get("since")),
        until: parseUnixNs(ctx.query.get("until")),
        follow,
      },
      async (e) => {
        if (res.destroyed) return false;
        const b = enc.encode(ts ? `${fixedTime(e.time)} ${e.log}` : e.log);
        await out.writeRaw(tty ? b : frame(e.stream === "stderr" ? 2 : 1, b));
        return !res.destroyed;
      },
      stopped,
      () => res.destroyed,
    );
    out.end();
  });

  r.add("POST", "/containers/{id}/attach", async (ctx) => {
    await attach(
      svc(ctx),
      ctx.params.id,
      {
        stream: ctx.flag("stream"),
        logs: ctx.flag("logs"),
        stdin: ctx.flag("stdin"),
        stdout: ctx.flag("stdout"),
        stderr: ctx.flag("stderr"),
        detachKeys: ctx.query.get("detachKeys") || undefined,
      },
      (m) => ctx.hijack(m && cmpVersion(ctx.apiVersion, "1.42") >= 0),
      ctx.upgradeHead,
    );
  });

  r.add("POST", "/containers/{id}/resize", async (ctx) => {
    const s = svc(ctx);
    const rec = s.resolve(ctx.params.id);
    const h = ctx.int("h", 0)!, w = ctx.int("w", 0)!;
    await s.shimOf(rec).call({ op: "resize", h, w });
    ctx.noContent(200);
  });

  r.add("POST", "/containers/{id}/rename", async (ctx) => {
    const name = ctx.query.get("name");
    if (!name) throw new InvalidArgument("Neither old nor new names may be empty");
    await svc(ctx).rename(ctx.params.id, name);
    ctx.noContent(204);
  });

  r.add("GET", "/containers/{id}/top", async (ctx) => {
    ctx.send(200, await top(svc(ctx), ctx.params.id, ctx.query.get("ps_args") ?? ""));
  });

  r.add("POST", "/containers/{id}/pause", async (ctx) => {
    await svc(ctx).pause(ctx.params.id);
    ctx.noContent(204);
  });

  r.add("POST", "/containers/{id}/unpause", async (ctx) => {
    await svc(ctx).unpause(ctx.params.id);
    ctx.noContent(204);
  });

  r.add("GET", "/containers/{id}/changes", async (ctx) => {
    ctx.send(200, await changes(svc(ctx), ctx.params.id));
  });
}
