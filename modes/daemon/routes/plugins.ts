/**
 * Engine API: /plugins. berth has no managed plugins: the list is empty and
 * every named plugin is not found, in moby's words (v20.10.24
 * plugin/errors.go errNotFound: `plugin "<name>" not found`).
 * @module
 */
import type { ApiRouter } from "../server.ts";
import { NotFound, Unavailable } from "../../../core/errdefs/mod.ts";

export function register(r: ApiRouter): void {
  r.add("GET", "/plugins", (ctx) => {
    ctx.send(200, []);
  });
  r.add("GET", "/plugins/privileges", () => {
    throw new Unavailable("berth does not support managed plugins");
  });
  for (const [method, path] of [["POST", "/plugins/pull"], ["POST", "/plugins/create"]]) {
    r.add(method, path, () => {
      throw new Unavailable("berth does not support managed plugins");
    });
  }
  const notFound = (name: string) => new NotFound(`plugin "${name}" not found`);
  r.add("GET", "/plugins/{name*}/json", (ctx) => {
    throw notFound(ctx.params.name);
  });
  for (const verb of ["enable", "disable", "push", "upgrade", "set"]) {
    r.add("POST", `/plugins/{name*}/${verb}`, (ctx) => {
      throw notFound(ctx.params.name);
    });
  }
  r.add("DELETE", "/plugins/{name*}", (ctx) => {
    throw notFound(ctx.params.name);
  });
}
