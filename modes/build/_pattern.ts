/**
 * Shell patterns for `${V#p}`, `${V%p}`, `${V/p/r}`: globs (`*`, `?`,
 * `[...]`, `\\x`) matched against parts of a value.
 * @module
 */

/** Shell glob (`*`, `?`, `[...]`, `\x`) → RegExp source (no anchors). */
function globSource(pat: string): string {
  let re = "";
  const cs = Array.from(pat);
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "\\" && i + 1 < cs.length) re += escapeRe(cs[++i]);
    else if (c === "[") {
      const end = cs.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = cs.slice(i + 1, end).join("");
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += escapeRe(c);
  }
  return re;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function trimPattern(value: string, pat: string, prefix: boolean, longest: boolean): string {
  const whole = new RegExp(`^(?:${globSource(pat)})$`, "u");
  const n = value.length;
  for (let k = 0; k <= n; k++) {
    // Try the shortest (or longest) candidate first.
    const len = longest ? n - k : k;
    if (prefix ? whole.test(value.slice(0, len)) : whole.test(value.slice(n - len))) {
      return prefix ? value.slice(len) : value.slice(0, n - len);
    }
  }
  return value;
}

export function replacePattern(value: string, pat: string, repl: string, all: boolean): string {
  if (pat === "") return value;
  const re = new RegExp(globSource(pat), all ? "gu" : "u");
  return value.replace(re, () => repl);
}
