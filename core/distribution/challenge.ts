/**
 * `WWW-Authenticate` parsing (RFC 7235 auth-params, as registries send them).
 *
 * @example
 * ```ts
 * import { parseChallenge } from "./challenge.ts";
 * const c = parseChallenge('Bearer realm="https://a/token",service="reg",scope="repository:x:pull"');
 * console.assert(c?.scheme === "bearer" && c.params.service === "reg");
 * ```
 * @module
 */

export interface Challenge {
  /** Lower-cased scheme: "bearer", "basic", … */
  scheme: string;
  params: Record<string, string>;
}

/** Parse the first challenge of a WWW-Authenticate header. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s*/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  let i = m[0].length;
  const s = header;
  while (i < s.length) {
    const km = /^\s*,?\s*([A-Za-z0-9_.-]+)\s*=\s*/.exec(s.slice(i));
    if (!km) break;
    i += km[0].length;
    let value = "";
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        value += s[i++];
      }
      i++;
    } else {
      const vm = /^[^,\s]*/.exec(s.slice(i))!;
      value = vm[0];
      i += value.length;
    }
    params[km[1].toLowerCase()] = value;
  }
  return { scheme: m[1].toLowerCase(), params };
}
