/**
 * Engine API: GET /events (`docker events`, docker-py `events()`). Past
 * events from the ring since `since` (up to `until`), then live ones, one
 * JSON object per line, each written as it happens. An `until` in the past
 * ends the stream after the replay; one in the future ends it then.
 * @module
 */
import type { ApiRouter } from "../server.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { EventMessage } from "../events/log.ts";
import { eventFilter } from "../events/filter.ts";
import { nowNs } from "../../../core/shim/protocol.ts";

/** A subscriber that fell this far behind is dropped (Docker drops slow ones too). */
const MAX_BACKLOG = 1 << 20;

/**
 * The CLI and docker-py send `seconds[.nanoseconds]` (the CLI converts
 * durations and dates itself); RFC3339 is taken too. undefined when absent.
 */
export function eventTime(name: string, v: string | null): bigint | undefined {
  if (v === null || v === "") return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) {
    const frac = BigInt((m[2] ?? "").padEnd(9, "0"));
    return BigInt(m[1]) * 1_000_000_000n + (m[1].startsWith("-") ? -frac : frac);
  }
  const ms = Date.parse(v);
  if (/^\d{4}-\d\d-\d\d/.test(v) && Number.isFinite(ms)) {
    const frac = /\.(\d{1,9})/.exec(v)?.[1] ?? "";
    return BigInt(Math.floor(ms / 1000)) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
  }
  throw new InvalidArgument(`invalid value for ${name}: ${v}`);
}

export function register(r: ApiRouter): void {
  r.add("GET", "/events", (ctx) => {
    const since = eventTime("since", ctx.query.get("since"));
    const until = eventTime("until", ctx.query.get("until"));
    if (until !== undefined && since !== undefined && until < since) {
      throw new InvalidArgument(
        `\`since\` time (${ctx.query.get("since")}) cannot be after \`until\` time (${
          ctx.query.get("until")
        })`,
      );
    }
    const include = eventFilter(ctx.filters());
    const events = ctx.daemon.events;
    const stream = ctx.startStream("application/json");
    const res = stream.raw;
    const past = since !== undefined || until !== undefined
      ? events.since(since ?? 0n, until).filter(include)
      : [];
    for (const e of past) res.write(e.line + "\n");
    const now = nowNs();
    if (until !== undefined && until <= now) {
      res.end();
      return;
    }
    const { promise: done, resolve: finish } = Promise.withResolvers<void>();
    const unsubscribe = events.subscribe((e: EventMessage) => {
      if (!include(e)) return;
      if (res.writableLength > MAX_BACKLOG) return finish();
      res.write(e.line + "\n");
    });
    const timer = until !== undefined
      ? setTimeout(finish, Number((until - now) / 1_000_000n) + 1)
      : undefined;
    res.once("close", () => finish());
    return done.then(() => {
      unsubscribe();
      clearTimeout(timer);
      res.end();
    });
  });
}
