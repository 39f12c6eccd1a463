/**
 * The filters of the prune endpoints, with moby's rules (v20.10.24
 * daemon/prune.go, daemon/images/image_prune.go, api/types/filters):
 * unknown keys are refused (`Invalid filter 'x'`); `label` entries must all
 * match (key, or key=value); an object is kept when every `label!` entry
 * matches it; `until` (one value: a Go duration back from now, or a
 * timestamp) keeps what was created after it.
 *
 * @example
 * ```ts
 * import { pruneFilter } from "./prune_filters.ts";
 * const f = pruneFilter({ label: ["x=1"] }, ["label", "label!", "until"]);
 * console.assert(f.labels({ x: "1" }) && !f.labels({}) && f.before(Date.now()));
 * ```
 * @module
 */
import { InvalidArgument } from "../../core/errdefs/mod.ts";
import { tryParseDuration } from "../../core/units.ts";

export interface PruneFilter {
  /** moby matchLabels: every `label` matches and (if any) not every `label!` */
  labels(labels: Record<string, string> | null | undefined): boolean;
  /** created no later than `until` (true without an until filter) */
  before(createdMs: number): boolean;
}

/** filters.MatchKVList: every entry matches; no labels never matches. */
function matchKV(want: string[], labels: Record<string, string>): boolean {
  if (Object.keys(labels).length === 0) return false;
  return want.every((w) => {
    const i = w.indexOf("=");
    if (i < 0) return w in labels;
    const k = w.slice(0, i);
    return k in labels && labels[k] === w.slice(i + 1);
  });
}

/** api/types/time GetTimestamp: a duration back from now, unix seconds, or a date. */
export function parseUntil(v: string, now = Date.now()): number {
  const d = v === "0" ? undefined : tryParseDuration(v);
  if (d !== undefined) return now - d / 1e6;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) {
    throw new InvalidArgument(`failed to parse value as time or duration: "${v}"`);
  }
  return t;
}

export function pruneFilter(f: Record<string, string[]>, accepted: string[]): PruneFilter {
  for (const k of Object.keys(f)) {
    if (!accepted.includes(k)) throw new InvalidArgument(`Invalid filter '${k}'`);
  }
  if ((f.until?.length ?? 0) > 1) throw new InvalidArgument("more than one until filter specified");
  const until = f.until?.length ? parseUntil(f.until[0]) : undefined;
  const want = f.label ?? [], not = f["label!"] ?? [];
  return {
    labels(labels) {
      const l = labels ?? {};
      if (want.length && !matchKV(want, l)) return false;
      if (not.length && matchKV(not, l)) return false;
      return true;
    },
    before(createdMs) {
      return until === undefined || createdMs <= until;
    },
  };
}
