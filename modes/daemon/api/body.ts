/**
 * The request side of the schema layer: read a JSON body within a size limit
 * and decode it against a route's schema before the handler runs, so handlers
 * and services only ever see validated, typed values.
 *
 * Limits: a JSON body may be at most {@link MAX_JSON_BODY} bytes (dockerd has
 * no limit; the largest real body is a create carrying a seccomp profile, ~60
 * KB). A larger Content-Length is refused before anything is read; a chunked
 * body is refused once it passes the limit (413, and the connection closes).
 * Streams (build context, load, import, archive) are not read here: their
 * routes stream them to the service without buffering.
 *
 * @example
 * ```ts
 * import { jsonRoute } from "./body.ts";
 * import { VolumeCreate } from "../../../core/api/volumes.ts";
 * r.add("POST", "/volumes/create", jsonRoute(VolumeCreate, async (ctx, body) => {
 *   ctx.send(201, await vols(ctx).create(body));
 * }));
 * ```
 * @module
 */
import type { Infer, Schema } from "../../../core/api/schema.ts";
import type { Ctx } from "../context.ts";
import { decodeBytes, type EmptyBody, readLimited } from "./decode.ts";
export { decodeBytes, type EmptyBody, MAX_JSON_BODY, readLimited } from "./decode.ts";

/** Read and decode a request's JSON body against `schema` (see decodeBytes). */
export async function readBody<S extends Schema<unknown>>(
  ctx: Ctx,
  schema: S,
  opts: { empty?: EmptyBody; limit?: number } = {},
): Promise<Infer<S>> {
  return decodeBytes(schema, await readLimited(ctx.req, opts.limit), opts.empty);
}

/**
 * A route handler whose JSON body is read and validated first (its type,
 * then `check`'s semantic rules): the handler gets the typed value, or never
 * runs (400/413 with Docker's words).
 */
export function jsonRoute<S extends Schema<unknown>>(
  schema: S,
  handler: (ctx: Ctx, body: Infer<S>) => Promise<void> | void,
  opts: { empty?: EmptyBody; limit?: number; check?: (body: Infer<S>) => void } = {},
): (ctx: Ctx) => Promise<void> {
  return async (ctx) => {
    const body = await readBody(ctx, schema, opts);
    opts.check?.(body);
    await handler(ctx, body);
  };
}
