/**
 * go-units' human-readable sizes and durations, as Docker prints them, and
 * Go's time.ParseDuration, as Docker reads them. Pure; shared by the client
 * (images, ps, flags) and the daemon and builder (status text, HEALTHCHECK).
 *
 * @example
 * ```ts
 * import { humanDuration, humanSize } from "./units.ts";
 * console.assert(humanSize(4261376) === "4.26MB" && humanDuration(61_000) === "About a minute");
 * ```
 * @module
 */
import { InvalidArgument } from "./errdefs/mod.ts";

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/** go-units HumanSizeWithPrecision(size, 3): decimal units. */
export function humanSize(size: number): string {
  let i = 0;
  let s = size;
  while (s >= 1000 && i < UNITS.length - 1) {
    s /= 1000;
    i++;
  }
  return `${Number(s.toPrecision(3))}${UNITS[i]}`;
}

/** go-units BytesSize (binary, precision 4) used by e.g. `docker stats`. */
export function bytesSize(size: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let s = size;
  while (s >= 1024 && i < u.length - 1) {
    s /= 1024;
    i++;
  }
  return `${Number(s.toPrecision(4))}${u[i]}`;
}

/** go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3600000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(Math.floor(ms / 3600000) / 24 / 365)} years`;
}

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n, // micro sign
  "\u03bcs": 1_000n, // Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const INT64_LIMIT = 1n << 63n; // |math.MinInt64|; MaxInt64 is one less

/** Go's time.quote: `"…"`, the bytes of non-ASCII and control characters as \xNN. */
function goQuote(s: string): string {
  let out = '"';
  const enc = new TextEncoder();
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of enc.encode(ch)) out += `\\x${b.toString(16).padStart(2, "0")}`;
    } else out += ch === '"' || ch === "\\" ? `\\${ch}` : ch;
  }
  return `${out}"`;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/**
 * Go's time.ParseDuration to the nanosecond, as Go's int64 holds it: an
 * optional sign, then one or more decimal numbers (fraction allowed) each
 * with a unit (ns, us, µs, μs, ms, s, m, h); "0" alone needs no unit; more
 * than int64 holds is invalid. Errors are Go's words (InvalidArgument):
 * `time: invalid duration "x"`, `time: missing unit in duration "1"`,
 * `time: unknown unit "d" in duration "1d"`. Callers add their own policy
 * (a sign refused, a minimum) and their own words around these.
 */
export function parseDurationNs(orig: string): bigint {
  const invalid = () => new InvalidArgument(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  let d = 0n;
  while (s !== "") {
    if (s[0] !== "." && !isDigit(s[0])) throw invalid();
    // the integer part: more than int64 holds is an error
    let i = 0;
    let v = 0n;
    for (; isDigit(s[i]); i++) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > INT64_LIMIT) throw invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    // the fraction: digits past what int64 holds are dropped, not an error
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === ".") {
      s = s.slice(1);
      let overflow = false;
      for (i = 0; isDigit(s[i]); i++) {
        if (overflow) continue;
        const y = f * 10n + BigInt(s.charCodeAt(i) - 48);
        if (f > (INT64_LIMIT - 1n) / 10n || y > INT64_LIMIT) overflow = true;
        else {
          f = y;
          scale *= 10;
        }
      }
      post = i > 0;
      s = s.slice(i);
    }
    if (!pre && !post) throw invalid(); // ".s", "-."
    for (i = 0; i < s.length && s[i] !== "." && !isDigit(s[i]); i++);
    if (i === 0) throw new InvalidArgument(`time: missing unit in duration ${goQuote(orig)}`);
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = NS_PER_UNIT[u];
    if (unit === undefined) {
      throw new InvalidArgument(`time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`);
    }
    if (v > INT64_LIMIT / unit) throw invalid();
    v *= unit;
    // as Go: the fraction times the unit in float64 (exact to the ns for hours), truncated
    if (f > 0n) v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
    if (v > INT64_LIMIT) throw invalid();
    d += v;
    if (d > INT64_LIMIT) throw invalid();
  }
  if (neg) return -d;
  if (d > INT64_LIMIT - 1n) throw invalid();
  return d;
}

/**
 * {@link parseDurationNs} as a number of nanoseconds (exact up to 2^53 ns,
 * about 104 days; beyond, to a double's precision).
 */
export function parseDuration(s: string): number {
  return Number(parseDurationNs(s));
}

/**
 * {@link parseDuration}, or undefined where `s` is not a Go duration: for
 * values that may be a duration or a time (docker's GetTimestamp).
 */
export function tryParseDuration(s: string): number | undefined {
  try {
    return parseDuration(s);
  } catch {
    return undefined; // not a duration: the caller tries it as a time
  }
}
