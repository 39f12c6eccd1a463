/**
 * Shell patterns for `${V#p}`, `${V%p}`, `${V/p/r}`: globs (`*`, `?`,
 * `[...]`, `[!...]`, `\x`) matched against parts of a value.
 *
 * Matched by a small NFA over the pattern's tokens, not a RegExp: V8's
 * backtracking made `${V#*a*b*c*a*b*c*x}` on a 240-character value run for
 * minutes (the build runs in the daemon), and some brackets (`[z-a]`) do not
 * compile. One pass per match: linear in the value for each
 * replacement.
 * @module
 */

type Token = { star: true } | { star: false; test: (c: string) => boolean };

function bracket(body: string[]): (c: string) => boolean {
  const neg = body[0] === "!" || body[0] === "^";
  const cs = neg ? body.slice(1) : body;
  const ranges: [string, string][] = [];
  for (let i = 0; i < cs.length; i++) {
    if (cs[i + 1] === "-" && i + 2 < cs.length) {
      ranges.push([cs[i], cs[i + 2]]);
      i += 2;
    } else ranges.push([cs[i], cs[i]]);
  }
  return (c) => ranges.some(([lo, hi]) => lo <= c && c <= hi) !== neg;
}

/** Pattern → tokens (consecutive stars collapsed). */
function tokens(pat: string): Token[] {
  const out: Token[] = [];
  const cs = Array.from(pat);
  const lit = (x: string): Token => ({ star: false, test: (c) => c === x });
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c === "*") {
      if (!out.at(-1)?.star) out.push({ star: true });
    } else if (c === "?") out.push({ star: false, test: () => true });
    else if (c === "\\" && i + 1 < cs.length) out.push(lit(cs[++i]));
    else if (c === "[") {
      const end = cs.indexOf("]", i + 2);
      if (end < 0) out.push(lit("["));
      else {
        out.push({ star: false, test: bracket(cs.slice(i + 1, end)) });
        i = end;
      }
    } else out.push(lit(c));
  }
  return out;
}

/**
 * Follow `t` over `cs` from `from`: for each token position the earliest start
 * of a partial match reaching it (-1: none). New starts are seeded at every
 * position until a match is found, so one pass gives the leftmost match, and
 * the longest one from that start. `anchored` seeds only at `from`.
 * Returns every [start, end] found for the best start, shortest first.
 */
function scan(t: Token[], cs: string[], from: number, anchored: boolean): number[][] {
  const m = t.length;
  let cur = new Int32Array(m + 1).fill(-1), nxt = new Int32Array(m + 1);
  const add = (set: Int32Array, s: number, start: number) => {
    for (;;) {
      if (set[s] !== -1 && set[s] <= start) return;
      set[s] = start;
      if (s < m && t[s].star) s++;
      else return;
    }
  };
  let found: number[][] = [];
  for (let j = from;; j++) {
    if (found.length === 0 && (!anchored || j === from)) add(cur, 0, j);
    const a = cur[m];
    if (a !== -1) {
      if (found.length && a < found[0][0]) found = [];
      if (found.length === 0 || a === found[0][0]) found.push([a, j]);
    }
    if (j === cs.length) break;
    nxt.fill(-1);
    let alive = false;
    const best = found.length ? found[0][0] : Infinity;
    for (let s = 0; s < m; s++) {
      const st = cur[s];
      if (st === -1 || st > best) continue;
      const tk = t[s];
      if (tk.star) add(nxt, s, st);
      else if (tk.test(cs[j])) add(nxt, s + 1, st);
      else continue;
      alive = true;
    }
    [cur, nxt] = [nxt, cur];
    if (!alive && (anchored || found.length)) break;
  }
  return found;
}

export function trimPattern(value: string, pat: string, prefix: boolean, longest: boolean): string {
  const t = tokens(pat);
  const cs = Array.from(value);
  if (!prefix) {
    t.reverse();
    cs.reverse();
  }
  const found = scan(t, cs, 0, true);
  if (found.length === 0) return value;
  const n = longest ? found[found.length - 1][1] : found[0][1];
  if (!prefix) cs.reverse();
  return prefix ? cs.slice(n).join("") : cs.slice(0, cs.length - n).join("");
}

export function replacePattern(value: string, pat: string, repl: string, all: boolean): string {
  if (pat === "") return value;
  const t = tokens(pat);
  const cs = Array.from(value);
  let out = "";
  let i = 0;
  while (i <= cs.length) {
    const found = scan(t, cs, i, false);
    if (found.length === 0) {
      out += cs.slice(i).join("");
      break;
    }
    const [s, e] = found[found.length - 1]; // leftmost, longest
    out += cs.slice(i, s).join("") + repl;
    if (!all) {
      out += cs.slice(e).join("");
      break;
    }
    if (e > s) i = e;
    else {
      if (s < cs.length) out += cs[s];
      i = s + 1;
    }
  }
  return out;
}
