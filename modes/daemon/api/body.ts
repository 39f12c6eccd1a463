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
 * import { VolumeCreate } from "./volumes.ts";
 * r.add("POST", "/volumes/create", jsonRoute(VolumeCreate, async (ctx, body) => {
 *   ctx.send(201, await vols(ctx).create(body));
 * }));
 * ```
 * @module
 */
import type { IncomingMessage } from "node:http";
import { InvalidArgument, TooLarge } from "../../../core/errdefs/mod.ts";
import { concatBytes } from "../../../core/bytes.ts";
import { decodeBody, type Infer, type Schema } from "./schema.ts";
import type { Ctx } from "../context.ts";

/** The largest JSON request body accepted (bytes). */
export const MAX_JSON_BODY = 4 << 20;

function tooLarge(limit: number): TooLarge {
  return new TooLarge(`request body too large: the limit is ${limit} bytes`);
}

/** All of a request's body, refusing more than `limit` bytes (TooLarge). */
export async function readLimited(
  req: IncomingMessage,
  limit = MAX_JSON_BODY,
): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of req) {
    total += (c as Uint8Array).length;
    if (total > limit) throw tooLarge(limit);
    chunks.push(c as Uint8Array);
  }
  return concatBytes(...chunks);
}

/** What an empty body means for a route. */
export type EmptyBody = "required" | "optional";

/**
 * Decode body bytes: `required` answers an empty body with Docker's 400
 * "got EOF while reading request body"; `optional` gives `{}`. A body of
 * `null` is `{}` (Go leaves the struct as it was).
 */
export function decodeBytes<S extends Schema<unknown>>(
  schema: S,
  bytes: Uint8Array,
  empty: EmptyBody = "required",
): Infer<S> {
  const text = new TextDecoder().decode(bytes);
  if (/^[ \t\r\n]*$/.test(text)) {
    if (empty === "optional") return {} as Infer<S>;
    throw new InvalidArgument("got EOF while reading request body");
  }
  return (decodeBody(schema, text) ?? {}) as Infer<S>;
}

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
