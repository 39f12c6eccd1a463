/**
 * The bytes side of the schema layer (./body.ts): read a request body within
 * a size limit and decode JSON bytes against a schema. No dependency on the
 * request context (../context.ts uses these for its own body readers).
 * @module
 */
import type { IncomingMessage } from "node:http";
import { InvalidArgument, TooLarge } from "../../../core/errdefs/mod.ts";
import { concatBytes } from "../../../core/bytes.ts";
import { decodeBody, type Infer, type Schema } from "../../../core/api/schema.ts";

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
