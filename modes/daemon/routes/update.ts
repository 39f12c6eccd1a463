/**
 * Engine API: `POST /containers/{id}/update` (containers/update.ts); the
 * body goes through the validation layer (core/api/containers.ts ContainerUpdate).
 * @module
 */
import type { ApiRouter } from "../server.ts";
import { updateContainer } from "../containers/update.ts";
import { jsonRoute } from "../api/body.ts";
import { ContainerUpdate } from "../../../core/api/containers.ts";
import { cmpVersion } from "../api_version.ts";

export function register(r: ApiRouter): void {
  r.add(
    "POST",
    "/containers/{id}/update",
    jsonRoute(ContainerUpdate, async (ctx, body) => {
      const svc = ctx.daemon.containers;
      // postContainerUpdate: callers below 1.40 cannot change PidsLimit
      if (cmpVersion(ctx.apiVersion, "1.40") < 0) delete body.PidsLimit;
      const warnings = await updateContainer(svc, ctx.params.id, body);
      ctx.send(200, { Warnings: warnings });
    }),
  );
}
