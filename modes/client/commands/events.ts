/**
 * `berth events [--since] [--until] [-f KEY=VALUE]… [--format]`: the daemon's
 * events as the docker CLI prints them (time, type, action, actor, sorted
 * attributes), or through a Go template / `json`. Times are given as the
 * docker CLI takes them (unix seconds, RFC3339 dates, or a duration ago such
 * as `10m`) and sent as `seconds.nanoseconds`.
 * @module
 */
import { command, filterFlag, filtersOf, type Globals, out, parse } from "../cli.ts";
import { renderTemplate } from "../format.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { tryParseDuration } from "../../../core/units.ts";

import type { EventsMessage } from "../../../core/api/types.ts";

type Event = EventsMessage;

/** docker's timetypes.GetTimestamp: the value as "seconds.nanoseconds". */
export function timestamp(v: string, nowMs = Date.now()): string {
  if (/^-?\d+(\.\d{1,9})?$/.test(v)) return v;
  const ns = tryParseDuration(v);
  if (ns !== undefined) {
    const t = BigInt(nowMs) * 1_000_000n - BigInt(ns); // ns since the epoch: more than a double holds
    return `${t / 1_000_000_000n}.${String(t % 1_000_000_000n).padStart(9, "0")}`;
  }
  // a date without a zone is local time, as the docker CLI reads it
  const ms = Date.parse(/^\d{4}-\d\d-\d\d$/.test(v) ? `${v}T00:00:00` : v);
  if (!/^\d{4}-\d\d-\d\d/.test(v) || !Number.isFinite(ms)) {
    throw new InvalidArgument(`failed to parse value as time or duration: "${v}"`);
  }
  const frac = /T[\d:]+\.(\d{1,9})/.exec(v)?.[1] ?? "";
  return `${Math.floor(ms / 1000)}.${frac.padEnd(9, "0")}`;
}

/** docker's rfc3339NanoFixed in local time ("Z" when local is UTC). */
export function fixedTime(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const off = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + off * 60_000).toISOString().slice(0, 19);
  const frac = String(timeNano % 1_000_000_000n).padStart(9, "0");
  const p = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const zone = off === 0 ? "Z" : `${off < 0 ? "-" : "+"}${p(off / 60)}:${p(off % 60)}`;
  return `${local}.${frac}${zone}`;
}

/** One event as `docker events` prints it. */
export function prettyEvent(e: Event, timeNano?: bigint): string {
  let s = "";
  if (timeNano) s += `${fixedTime(timeNano)} `;
  else if (e.time) s += `${fixedTime(BigInt(e.time) * 1_000_000_000n)} `;
  s += `${e.Type} ${e.Action} ${e.Actor?.ID ?? ""}`;
  const attrs: Record<string, string> = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(", ")})`;
  return s + "\n";
}

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "Get real time events from the server")
    .option("-f, --filter <filter>", "Filter output based on conditions provided", filterFlag)
    .option("--format <string>", "Format the output using the given Go template")
    .option("--since <string>", "Show all events created since timestamp")
    .option("--until <string>", "Stream events until this timestamp");
  const { opts } = parse(c, args, name);
  const filters: Record<string, Record<string, boolean>> = {};
  for (const [k, vs] of Object.entries(filtersOf(opts.filter))) {
    for (const v of vs) (filters[k] ??= {})[v] = true;
  }
  const res = await g.api().request("GET", "/events", {
    query: {
      since: opts.since ? timestamp(opts.since) : undefined,
      until: opts.until ? timestamp(opts.until) : undefined,
      filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
    },
  });
  // Read the lines ourselves: timeNano is beyond a double's precision.
  const dec = new TextDecoder();
  let buf = "";
  const emit = (line: string) => {
    if (!line.trim()) return;
    const e = JSON.parse(line) as Event;
    const nano = /"timeNano":(\d+)/.exec(line)?.[1];
    if (opts.format === "json") out(line.trim() + "\n");
    else if (opts.format) out(renderTemplate(opts.format, e) + "\n");
    else out(prettyEvent(e, nano ? BigInt(nano) : undefined));
  };
  for await (const chunk of res.body ?? []) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      emit(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  emit(buf);
  return 0;
}
