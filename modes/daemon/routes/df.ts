/**
 * Engine API: GET /system/df (`docker system df [-v]`, docker-py `df()`).
 * @module
 */
import type { ApiRouter } from "../server.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { type DfType, diskUsage } from "../containers/df.ts";

const TYPES: DfType[] = ["container", "image", "volume", "build-cache"];

export function register(r: ApiRouter): void {
  r.add("GET", "/system/df", async (ctx) => {
    const types = ctx.query.getAll("type");
    for (const t of types) {
      if (!TYPES.includes(t as DfType)) {
        throw new InvalidArgument(`unknown object type: ${t}`);
      }
    }
    ctx.send(200, await diskUsage(ctx.daemon, types as DfType[]));
  });
}
