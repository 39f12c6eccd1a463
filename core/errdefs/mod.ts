/**
 * Error kinds shared by every part of berth. Backends throw these; only the
 * service edges (daemon HTTP, registry HTTP) map them to wire codes, and the
 * clients map wire codes back.
 *
 * @example
 * ```ts
 * import { NotFound, isKind } from "./mod.ts";
 * const e = new NotFound("No such image: foo");
 * console.assert(isKind(e, "NotFound"));
 * ```
 * @module
 */

export type ErrorKind =
  | "NotFound"
  | "AlreadyExists"
  | "InvalidArgument"
  | "Conflict"
  | "Unavailable"
  | "Unauthorized"
  | "Forbidden"
  | "NotModified"
  | "TooLarge"
  | "Internal";

/** Base class: an error with a kind and an optional cause. */
export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = kind;
  }
}

export class NotFound extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NotFound", message, options);
  }
}
export class AlreadyExists extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("AlreadyExists", message, options);
  }
}
export class InvalidArgument extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("InvalidArgument", message, options);
  }
}
export class Conflict extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("Conflict", message, options);
  }
}
export class Unavailable extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("Unavailable", message, options);
  }
}
export class Unauthorized extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("Unauthorized", message, options);
  }
}
export class Forbidden extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("Forbidden", message, options);
  }
}
export class NotModified extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NotModified", message, options);
  }
}

/** A request (body) over its limit: HTTP 413. */
export class TooLarge extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("TooLarge", message, options);
  }
}

/** True when `e` is a BerthError of the given kind. */
export function isKind(e: unknown, kind: ErrorKind): boolean {
  return e instanceof BerthError && e.kind === kind;
}

/** The message of any thrown value, without a stack. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
