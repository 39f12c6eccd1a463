/**
 * Registry error responses → berth error kinds, with Docker's wording
 * ("manifest unknown: manifest unknown", "unauthorized: authentication required").
 *
 * @example
 * ```ts
 * import { responseError } from "./errors.ts";
 * const e = await responseError(new Response('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', { status: 404 }));
 * console.assert(e.kind === "NotFound");
 * ```
 * @module
 */
import {
  type BerthError,
  Conflict,
  Forbidden,
  InvalidArgument,
  NotFound,
  Unauthorized,
  Unavailable,
} from "../errdefs/mod.ts";

export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

/** Read a failed response (consuming its body) into an error of the right kind. */
export async function responseError(res: Response, context?: string): Promise<BerthError> {
  let entries: RegistryErrorEntry[] = [];
  try {
    const text = await res.text();
    const j = JSON.parse(text);
    if (Array.isArray(j?.errors)) entries = j.errors;
  } catch { /* not JSON */ }
  const first = entries[0];
  let msg = first
    ? entries.map((e) => `${e.code.toLowerCase().replaceAll("_", " ")}: ${e.message ?? ""}`).join(
      "; ",
    )
    : `${res.status} ${res.statusText}`.trim();
  if (context) msg = `${context}: ${msg}`;
  const code = first?.code;
  switch (res.status) {
    case 401:
      return new Unauthorized(
        first ? msg : `${context ? context + ": " : ""}unauthorized: authentication required`,
      );
    case 403:
      return new Forbidden(msg);
    case 404:
      return new NotFound(msg);
    case 409:
      return new Conflict(msg);
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return new Unavailable(msg);
    default:
      if (code === "UNAUTHORIZED") return new Unauthorized(msg);
      if (code === "DENIED") return new Forbidden(msg);
      return new InvalidArgument(msg);
  }
}
