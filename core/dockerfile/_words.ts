/**
 * Word splitting helpers of the Dockerfile parser: builder flags
 * (`--from=x`), quote-preserving word splitting (ENV/LABEL/ARG) and the
 * JSON-array form.
 * @module
 */

const isSpace = (c: string) => /\s/.test(c);

/** Split leading `--flag[=value]` words off `line`. Returns [rest, flags]. */
export function extractBuilderFlags(line: string): [string, string[]] {
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let quote = "";
  let blankOK = false;
  const cs = Array.from(line);
  for (let pos = 0; pos <= cs.length; pos++) {
    const end = pos === cs.length;
    let ch = end ? "" : cs[pos];
    if (phase === "spaces") {
      if (end) break;
      if (isSpace(ch)) continue;
      if (ch !== "-" || pos + 1 === cs.length || cs[pos + 1] !== "-") {
        return [cs.slice(pos).join(""), words];
      }
      phase = "word";
    }
    if (end) {
      if (word !== "--" && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (word === "--") return [cs.slice(pos).join(""), words];
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
      if (ch === "\\") {
        if (pos + 1 === cs.length) continue;
        ch = cs[++pos];
      }
      word += ch;
      continue;
    }
    // in quote
    if (ch === quote) {
      phase = "word";
      continue;
    }
    if (ch === "\\") {
      if (pos + 1 === cs.length) {
        phase = "word";
        continue;
      }
      ch = cs[++pos];
    }
    word += ch;
  }
  return ["", words];
}

/** Split at unquoted whitespace, keeping quotes and escapes in the words. */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let quote = "";
  let blankOK = false;
  const cs = Array.from(rest);
  for (let pos = 0; pos <= cs.length; pos++) {
    const end = pos === cs.length;
    let ch = end ? "" : cs[pos];
    if (phase === "spaces") {
      if (end) break;
      if (isSpace(ch)) continue;
      phase = "word";
    }
    if (end) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
      }
      if (ch === escape) {
        if (pos + 1 === cs.length) continue;
        word += ch;
        ch = cs[++pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = "word";
    if (ch === escape && quote !== "'") {
      if (pos + 1 === cs.length) {
        phase = "word";
        continue;
      }
      word += ch;
      ch = cs[++pos];
    }
    word += ch;
  }
  return words;
}

export const NOT_STRING_ARRAY =
  "when using JSON array syntax, arrays must be comprised of strings only";

/**
 * The JSON form: a string array, or undefined when `rest` is not JSON.
 * Throws (with {@link NOT_STRING_ARRAY}) for a JSON array of non-strings.
 */
export function parseJsonArray(rest: string): string[] | undefined {
  const s = rest.trimStart();
  if (!s.startsWith("[")) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === "string")) throw new Error(NOT_STRING_ARRAY);
  return v as string[];
}
