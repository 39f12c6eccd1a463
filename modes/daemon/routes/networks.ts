/**
 * Engine API network routes: list, inspect, create, remove, connect,
 * disconnect, prune (what `docker network …` sends).
 * @module
 */
import type { ApiRouter } from "../server.ts";
import type { Ctx } from "../context.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { NetworkService } from "../networks/service.ts";
import { jsonRoute } from "../api/body.ts";
import { NetworkConnect, NetworkCreate, NetworkDisconnect } from "../../../core/api/networks.ts";

function net(ctx: Ctx): NetworkService {
  return ctx.daemon.network;
}

export function register(r: ApiRouter): void {
  r.add("GET", "/networks", (ctx) => {
    ctx.send(200, net(ctx).list(ctx.filters()));
  });

  r.add(
    "POST",
    "/networks/create",
    jsonRoute(NetworkCreate, async (ctx, body) => {
      ctx.send(201, await net(ctx).create(body));
    }),
  );

  r.add("POST", "/networks/prune", async (ctx) => {
    ctx.send(200, await net(ctx).prune(ctx.filters()));
  });

  r.add("GET", "/networks/{id*}", (ctx) => {
    ctx.send(200, net(ctx).inspect(ctx.params.id));
  });

  r.add("DELETE", "/networks/{id*}", async (ctx) => {
    await net(ctx).remove(ctx.params.id);
    ctx.noContent();
  });

  r.add(
    "POST",
    "/networks/{id*}/connect",
    jsonRoute(NetworkConnect, async (ctx, body) => {
      if (!body.Container) throw new InvalidArgument("container is required");
      await net(ctx).connect(ctx.params.id, body.Container, body.EndpointConfig ?? {});
      ctx.noContent(200);
    }),
  );

  r.add(
    "POST",
    "/networks/{id*}/disconnect",
    jsonRoute(NetworkDisconnect, async (ctx, body) => {
      if (!body.Container) throw new InvalidArgument("container is required");
      await net(ctx).disconnect(ctx.params.id, body.Container, !!body.Force);
      ctx.noContent(200);
    }),
  );
}
