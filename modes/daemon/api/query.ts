/**
 * JSON carried in query parameters (build's buildargs, labels, cachefrom,
 * ulimits; every route's filters), decoded as dockerd decodes them
 * (json.Unmarshal): `null` is the same as absent, which is what Go clients
 * send for a nil map.
 * @module
 */
import { InvalidArgument, isKind } from "../../../core/errdefs/mod.ts";
import {
  bool,
  decodeBody,
  type Infer,
  map,
  ptr,
  type Schema,
  slice,
  str,
} from "../../../core/api/schema.ts";
import { Ulimit } from "../../../core/api/containers.ts";

/**
 * The parameter `name` of `query` decoded against `schema`; undefined when
 * absent, empty or null. Errors are InvalidArgument, prefixed with `what`
 * as Docker prefixes them ("error reading build args: ").
 */
export function jsonParam<S extends Schema<unknown>>(
  query: URLSearchParams,
  name: string,
  schema: S,
  what = "",
): Infer<S> | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  try {
    return decodeBody(schema, raw, { whole: true }) as Infer<S> | undefined;
  } catch (e) {
    if (what && isKind(e, "InvalidArgument")) {
      throw new InvalidArgument(`${what}${(e as Error).message}`);
    }
    throw e;
  }
}

/** `POST /build` parameters that are JSON. */
export const BuildArgs = map(ptr(str()), "map[string]*string");
export const BuildLabels = map(str());
export const CacheFrom = slice(str());
export const BuildUlimits = slice(Ulimit, "[]*units.Ulimit");

const FilterMap = map(map(bool()), "map[string]map[string]bool");
const LegacyFilters = map(slice(str()), "map[string][]string");

/**
 * Docker's filters parameter: `{"key":{"value":true}}`, or the legacy
 * `{"key":["value"]}`; `null` or absent is no filter.
 */
export function parseFilters(raw: string | null): Record<string, string[]> {
  if (!raw) return {};
  try {
    const m = decodeBody(FilterMap, raw, { whole: true }) ?? {};
    const out: Record<string, string[]> = {};
    for (const [k, vals] of Object.entries(m)) {
      out[k] = Object.entries(vals).filter(([, b]) => b).map(([v]) => v);
    }
    return out;
  } catch {
    // not the map form: the legacy list form, or invalid (the error below)
  }
  try {
    return (decodeBody(LegacyFilters, raw, { whole: true }) ?? {}) as Record<string, string[]>;
  } catch {
    throw new InvalidArgument(`invalid filter: ${raw}`);
  }
}
