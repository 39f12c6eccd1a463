/**
 * The registry's request handler: parse the route, check access, dispatch,
 * render errors. Independent of how it is served (see server.ts).
 *
 * @example
 * ```ts
 * import { createHandler } from "./handler.ts";
 * import { NoAuth } from "./auth.ts";
 * import { Storage } from "./storage.ts";
 * import { Uploads } from "./uploads.ts";
 * const storage = new Storage(await Deno.makeTempDir());
 * await storage.init();
 * const h = createHandler({ storage, uploads: new Uploads(storage), auth: new NoAuth(), readOnly: false, anonymousMount: true });
 * console.assert((await h(new Request("http://x/v2/"))).status === 200);
 * ```
 * @module
 */
import type { Access } from "./auth.ts";
import { deleteBlob, getBlob } from "./blobs.ts";
import type { Ctx } from "./context.ts";
import { errorResponse, RegistryError } from "./errors.ts";
import { catalog, listTags, referrers } from "./list_routes.ts";
import { deleteManifest, getManifest, putManifest } from "./manifest_routes.ts";
import { parseRoute, rawPath, type Route } from "./routes.ts";
import { deleteUpload, getUpload, patchUpload, postUpload, putUpload } from "./upload_routes.ts";
import { peerGone } from "../../core/errdefs/ignore.ts";

const API_VERSION = "registry/2.0";

function repo(name: string, ...actions: string[]): Access[] {
  return [{ type: "repository", name, actions }];
}

/** The access a request needs; throws UNSUPPORTED for a method the route lacks. */
export function accessFor(route: Route, method: string): Access[] {
  const read = method === "GET" || method === "HEAD";
  const bad = () => new RegistryError("UNSUPPORTED", `method ${method} not allowed here`);
  switch (route.kind) {
    case "base":
      if (!read) throw bad();
      return [];
    case "catalog":
      if (!read) throw bad();
      return [{ type: "registry", name: "catalog", actions: ["*"] }];
    case "tags":
    case "referrers":
      if (!read) throw bad();
      return repo(route.name, "pull");
    case "manifest":
    case "blob":
      if (read) return repo(route.name, "pull");
      if (method === "DELETE") return repo(route.name, "delete");
      if (method === "PUT" && route.kind === "manifest") return repo(route.name, "pull", "push");
      throw bad();
    case "uploads":
      if (method !== "POST") throw bad();
      return repo(route.name, "pull", "push");
    case "upload":
      if (!["GET", "PATCH", "PUT", "DELETE"].includes(method)) throw bad();
      return repo(route.name, "pull", "push");
    default:
      return [];
  }
}

function dispatch(ctx: Ctx, req: Request, route: Route): Promise<Response> {
  const m = req.method;
  switch (route.kind) {
    case "base":
      return Promise.resolve(
        new Response("{}", { headers: { "Content-Type": "application/json" } }),
      );
    case "catalog":
      return catalog(ctx, req);
    case "tags":
      return listTags(ctx, req, route.name);
    case "referrers":
      return referrers(ctx, req, route.name, route.digest);
    case "manifest":
      if (m === "PUT") return putManifest(ctx, req, route.name, route.ref);
      if (m === "DELETE") return deleteManifest(ctx, route.name, route.ref);
      return getManifest(ctx, req, route.name, route.ref);
    case "blob":
      if (m === "DELETE") return deleteBlob(ctx, route.name, route.digest);
      return getBlob(ctx, req, route.name, route.digest);
    case "uploads":
      return postUpload(ctx, req, route.name);
    case "upload":
      if (m === "PATCH") return patchUpload(ctx, req, route.name, route.uuid);
      if (m === "PUT") return putUpload(ctx, req, route.name, route.uuid);
      if (m === "DELETE") return deleteUpload(ctx, route.name, route.uuid);
      return getUpload(ctx, route.name, route.uuid);
    default:
      throw new RegistryError("NAME_UNKNOWN", "not found", { status: 404 });
  }
}

export type Handler = (req: Request) => Promise<Response>;

/** Build the handler. `onError` sees unexpected (5xx) failures. */
export function createHandler(ctx: Ctx, onError?: (e: unknown, req: Request) => void): Handler {
  return async (req: Request): Promise<Response> => {
    let res: Response;
    try {
      const route = parseRoute(rawPath(req.url), req.method);
      if (route.kind === "token") {
        if (!ctx.auth.token) throw new RegistryError("NAME_UNKNOWN", "not found", { status: 404 });
        res = await ctx.auth.token(req);
      } else {
        await ctx.auth.authorize(req, accessFor(route, req.method));
        res = await dispatch(ctx, req, route);
      }
    } catch (e) {
      if (!(e instanceof RegistryError) && onError) onError(e, req);
      if (req.body && !req.bodyUsed) await req.body.cancel().catch(peerGone);
      res = errorResponse(e, req.method);
    }
    res.headers.set("Docker-Distribution-API-Version", API_VERSION);
    return res;
  };
}
