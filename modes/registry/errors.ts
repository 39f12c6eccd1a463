/**
 * OCI distribution error codes, each with its HTTP status, and the one
 * function that renders them. Handlers throw `RegistryError`; the server edge
 * turns it (or a berth error kind) into `{"errors":[{code,message,detail}]}`.
 *
 * @example
 * ```ts
 * import { RegistryError, errorResponse } from "./errors.ts";
 * const r = errorResponse(new RegistryError("BLOB_UNKNOWN", "no such blob"));
 * console.assert(r.status === 404);
 * ```
 * @module
 */
import { BerthError } from "../../core/errdefs/mod.ts";

export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: "blob unknown to registry" },
  BLOB_UPLOAD_INVALID: { status: 400, message: "blob upload invalid" },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: "blob upload unknown to registry" },
  DIGEST_INVALID: { status: 400, message: "provided digest did not match uploaded content" },
  MANIFEST_BLOB_UNKNOWN: {
    status: 400,
    message: "manifest references a manifest or blob unknown to registry",
  },
  MANIFEST_INVALID: { status: 400, message: "manifest invalid" },
  MANIFEST_UNKNOWN: { status: 404, message: "manifest unknown to registry" },
  NAME_INVALID: { status: 400, message: "invalid repository name" },
  NAME_UNKNOWN: { status: 404, message: "repository name not known to registry" },
  SIZE_INVALID: { status: 400, message: "provided length did not match content length" },
  UNAUTHORIZED: { status: 401, message: "authentication required" },
  DENIED: { status: 403, message: "requested access to the resource is denied" },
  UNSUPPORTED: { status: 405, message: "the operation is unsupported" },
  TOOMANYREQUESTS: { status: 429, message: "too many requests" },
  RANGE_INVALID: { status: 416, message: "invalid content range" },
  TAG_INVALID: { status: 400, message: "manifest tag did not match URI" },
  PAGINATION_NUMBER_INVALID: { status: 400, message: "invalid number of results requested" },
  UNKNOWN: { status: 500, message: "unknown error" },
  UNAVAILABLE: { status: 503, message: "service unavailable" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with an OCI code; `status` overrides the code's default. */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail?: unknown;
  readonly headers: Record<string, string>;
  constructor(
    code: ErrorCode,
    message?: string,
    opts: { status?: number; detail?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.code = code;
    this.status = opts.status ?? ERROR_CODES[code].status;
    this.detail = opts.detail;
    this.headers = opts.headers ?? {};
  }
}

const KIND_TO_CODE: Record<string, ErrorCode> = {
  NotFound: "NAME_UNKNOWN",
  InvalidArgument: "UNSUPPORTED",
  Unauthorized: "UNAUTHORIZED",
  Forbidden: "DENIED",
  Unavailable: "UNAVAILABLE",
};

/** Normalise anything thrown into a RegistryError. */
export function toRegistryError(e: unknown): RegistryError {
  if (e instanceof RegistryError) return e;
  if (e instanceof BerthError) {
    const code = KIND_TO_CODE[e.kind] ?? "UNKNOWN";
    return new RegistryError(code, e.message, code === "UNSUPPORTED" ? { status: 400 } : {});
  }
  return new RegistryError("UNKNOWN", e instanceof Error ? e.message : String(e));
}

/** The JSON error response, with the Docker API version header. */
export function errorResponse(e: unknown, method = "GET"): Response {
  const err = toRegistryError(e);
  const headers = new Headers(err.headers);
  headers.set("Docker-Distribution-API-Version", "registry/2.0");
  if (method === "HEAD") {
    return new Response(null, { status: err.status, headers });
  }
  headers.set("Content-Type", "application/json");
  const entry: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.detail !== undefined) entry.detail = err.detail;
  return new Response(JSON.stringify({ errors: [entry] }) + "\n", { status: err.status, headers });
}
