/**
 * What every handler gets: storage, upload sessions, access control and the
 * server's modes. Kept separate so handlers do not import the server.
 * @module
 */
import type { Authorizer } from "./auth.ts";
import type { Storage } from "./storage.ts";
import type { Uploads } from "./uploads.ts";
import { RegistryError } from "./errors.ts";

/** A pull-through upstream (implemented in proxy.ts). */
export interface Upstream {
  /** Fetch a manifest by tag or digest from upstream and cache it; null if upstream lacks it. */
  manifest(name: string, ref: string): Promise<{ digest: string } | null>;
  /** Stream a blob from upstream while caching it; null if upstream lacks it. */
  blob(
    name: string,
    digest: string,
  ): Promise<{ size: number; body: ReadableStream<Uint8Array> } | null>;
  /** Upstream tags, or null. */
  tags(name: string): Promise<string[] | null>;
}

export interface Ctx {
  storage: Storage;
  uploads: Uploads;
  auth: Authorizer;
  readOnly: boolean;
  upstream?: Upstream;
  /** Allow `?mount=` without `from` (only when access control is off). */
  anonymousMount: boolean;
}

/** Refuse writes in read-only and proxy modes. */
export function checkWritable(ctx: Ctx): void {
  if (ctx.readOnly) throw new RegistryError("UNSUPPORTED", "registry is in read-only mode");
  if (ctx.upstream) throw new RegistryError("UNSUPPORTED", "registry is a pull-through cache");
}

export const JSON_HEADERS = { "Content-Type": "application/json" };
