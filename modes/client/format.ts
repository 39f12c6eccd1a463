/**
 * Output helpers that reproduce the docker CLI's: tabwriter tables
 * (minwidth 10, padding 3), go-units human sizes and durations, and a small
 * subset of Go templates for `--format` ({{.Field.Sub}}, {{json .}},
 * {{json .Field}}, {{index .Map "key"}}, {{upper}}/{{lower}}, `table` prefix).
 * @module
 */

/** Render rows like Go's text/tabwriter(minwidth=10, tabwidth=1, padding=3). */
export function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const cols = Math.max(...rows.map((r) => r.length));
  const width: number[] = [];
  for (let c = 0; c < cols - 1; c++) {
    width[c] = Math.max(10, ...rows.map((r) => (r[c] ?? "").length + 3));
  }
  return rows.map((r) =>
    r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(width[c]) : cell)).join("")
  ).join("\n") + "\n";
}

import { bytesSize, humanDuration, humanSize } from "../../core/units.ts";

export { bytesSize, humanDuration, humanSize };

/** "2 weeks ago" from a unix time in seconds. */
export function since(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

/** Go's time.Time String() form docker prints for CreatedAt: 2024-05-01 12:00:00 +0000 UTC */
export function goTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

// ---- templates ----

type Value = unknown;

function lookup(v: Value, path: string): Value {
  if (path === ".") return v;
  let cur = v;
  for (const k of path.split(".").filter(Boolean)) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function goString(v: Value): string {
  if (v === null || v === undefined) return "<no value>";
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (typeof v === "object") {
    return `map[${
      Object.keys(v as object).sort().map((k) =>
        `${k}:${goString((v as Record<string, unknown>)[k])}`
      )
        .join(" ")
    }]`;
  }
  return String(v);
}

/** An expression's words (a quoted string is one word). */
function words(expr: string): string[] {
  return expr.trim().match(/"[^"]*"|\S+/g) ?? [];
}

function evalExpr(expr: string, parts: string[], data: Value): Value {
  const arg = (t: string): Value => t.startsWith('"') ? t.slice(1, -1) : lookup(data, t);
  const [fn, ...rest] = parts;
  switch (fn) {
    case "json":
      return JSON.stringify(rest.length ? arg(rest[0]) : data);
    case "len": {
      const v = arg(rest[0]);
      if (Array.isArray(v) || typeof v === "string") return String(v.length);
      if (v && typeof v === "object") return String(Object.keys(v).length);
      return "0";
    }
    case "upper":
      return goString(arg(rest[0])).toUpperCase();
    case "lower":
      return goString(arg(rest[0])).toLowerCase();
    case "index": {
      let v = arg(rest[0]);
      for (const k of rest.slice(1)) {
        v = (v as Record<string, unknown> | undefined)?.[String(arg(k))];
      }
      return v;
    }
    case "join": {
      const v = arg(rest[0]);
      return Array.isArray(v) ? v.join(String(arg(rest[1]))) : goString(v);
    }
    default:
      if (fn?.startsWith(".")) return lookup(data, fn);
      throw new Error(`template: unsupported expression {{${expr}}}`);
  }
}

/**
 * Parse a Go-template-like format once: a function rendering it for one
 * value (a list command renders one format for every row).
 */
export function compileTemplate(fmt: string): (data: Value) => string {
  const text = fmt.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  const lits: string[] = [];
  const exprs: string[] = [];
  const parsed: string[][] = [];
  let last = 0;
  for (const m of text.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/g)) {
    lits.push(text.slice(last, m.index));
    exprs.push(m[1]);
    parsed.push(words(m[1]));
    last = m.index + m[0].length;
  }
  lits.push(text.slice(last));
  // `{{.A.B}}`, the common case: its keys, looked up without evalExpr
  const fields = parsed.map((w) =>
    w.length === 1 && w[0].startsWith(".") ? w[0].split(".").filter(Boolean) : undefined
  );
  return (data) => {
    let s = lits[0];
    for (let i = 0; i < exprs.length; i++) {
      let v: Value;
      const keys = fields[i];
      if (keys) {
        v = data;
        for (const k of keys) {
          if (v === null || v === undefined) break;
          v = (v as Record<string, unknown>)[k];
        }
      } else v = evalExpr(exprs[i], parsed[i], data);
      s += (typeof v === "string" ? v : goString(v)) + lits[i + 1];
    }
    return s;
  };
}

/** Render a Go-template-like format for one value. */
export function renderTemplate(fmt: string, data: Value): string {
  return compileTemplate(fmt)(data);
}

/** Does a --format ask for a table (`table …`)? Returns the body. */
export function tableFormat(fmt: string): string | undefined {
  return fmt.startsWith("table") ? fmt.slice(5).trimStart() : undefined;
}

/**
 * Print items with docker's --format rules: undefined → default table,
 * "json" → one JSON object per line, "table …" → tabwriter table with
 * headers, anything else → one rendered line per item.
 */
export function printFormatted<T>(
  items: T[],
  format: string | undefined,
  opts: {
    defaultTable: string;
    headers: Record<string, string>;
    toJson?: (x: T) => unknown;
  },
): string {
  const fmt = format ?? opts.defaultTable;
  if (fmt === "json") {
    return items.map((x) => JSON.stringify(opts.toJson ? opts.toJson(x) : x) + "\n").join("");
  }
  const body = tableFormat(fmt);
  if (body !== undefined) {
    const header = body.replace(
      /\{\{\s*\.(\w+)\s*\}\}/g,
      (_m, k) => opts.headers[k] ?? k.toUpperCase(),
    );
    const render = compileTemplate(body);
    const rows = [header, ...items.map(render)].map((l) => l.replace(/\\t/g, "\t").split("\t"));
    return table(rows);
  }
  const render = compileTemplate(fmt);
  return items.map((x) => render(x) + "\n").join("");
}
