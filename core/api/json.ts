/**
 * A JSON reader with the behaviour of Go's `json.Decoder.Decode`, which is
 * what dockerd reads request bodies with: the first value is read and what
 * follows it is ignored; syntax errors carry Go's words
 * (`invalid character 'i' looking for beginning of object key string`,
 * `unexpected EOF`, `EOF` for an empty body). The tree keeps what a typed
 * decode needs and JSON.parse loses: each number's literal text (Go refuses
 * `1.5` or `1e3` for an int64), and objects as ordered entries (duplicate
 * keys, keys matched case-insensitively by ./schema.ts).
 *
 * @example
 * ```ts
 * import { parseGoJson } from "./json.ts";
 * const v = parseGoJson('{"Memory": 1e300}');
 * // v is a JsonObject whose entry "Memory" holds JsonNumber { text: "1e300" }
 * ```
 * @module
 */

/** A number as written in the document. */
export class JsonNumber {
  constructor(readonly text: string) {}
  get value(): number {
    return Number(this.text);
  }
}

/** An object: its members in document order (duplicates kept). */
export class JsonObject {
  constructor(readonly entries: [string, JsonValue][]) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonObject | JsonValue[];

/** A syntax error, worded as Go's encoding/json scanner words it. */
export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

/** Go's nesting limit (encoding/json maxNestingDepth). */
const MAX_DEPTH = 10000;

/** Go's quoteChar: how a character is shown in a syntax error. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

const isSpace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";

/**
 * Read the first JSON value of `text` as Go's Decoder does (see the module
 * doc); with `whole`, as json.Unmarshal does: the text must be one value, and
 * a truncated one is "unexpected end of JSON input".
 */
export function parseGoJson(text: string, opts: { whole?: boolean } = {}): JsonValue {
  try {
    return new Parser(text).top(!!opts.whole);
  } catch (e) {
    // nesting deeper than the stack allows (Go's limit is 10000; the stack may end first)
    if (e instanceof RangeError) throw new JsonSyntaxError("exceeded max depth");
    if (opts.whole && e instanceof JsonSyntaxError && /^(unexpected )?EOF$/.test(e.message)) {
      throw new JsonSyntaxError("unexpected end of JSON input");
    }
    throw e;
  }
}

/** Plain JavaScript value of a tree (numbers as numbers; last duplicate key wins). */
export function toPlain(v: JsonValue): unknown {
  if (v instanceof JsonNumber) return v.value;
  if (v instanceof JsonObject) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.entries) setOwn(o, k, toPlain(x));
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}

/** `o[k] = v` that also works for the key `__proto__` (never touches the prototype). */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") {
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  } else o[k] = v;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  #s: string;
  #i = 0;
  #depth = 0;
  constructor(s: string) {
    this.#s = s;
  }

  #fail(ctx: string): never {
    if (this.#i >= this.#s.length) throw new JsonSyntaxError("unexpected EOF");
    throw new JsonSyntaxError(`invalid character ${quoteChar(this.#s[this.#i])} ${ctx}`);
  }

  #skip(): void {
    while (this.#i < this.#s.length && isSpace(this.#s[this.#i])) this.#i++;
  }

  top(whole: boolean): JsonValue {
    this.#skip();
    if (this.#i >= this.#s.length) throw new JsonSyntaxError("EOF");
    const v = this.#value();
    // The Decoder stops after the first value, whatever follows it.
    if (whole) {
      this.#skip();
      if (this.#i < this.#s.length) this.#fail("after top-level value");
    }
    return v;
  }

  #value(): JsonValue {
    this.#skip();
    const c = this.#s[this.#i];
    switch (c) {
      case "{":
        return this.#object();
      case "[":
        return this.#array();
      case '"':
        return this.#string();
      case "t":
        return this.#literal("true", true);
      case "f":
        return this.#literal("false", false);
      case "n":
        return this.#literal("null", null);
    }
    if (c === "-" || (c >= "0" && c <= "9")) return this.#number();
    this.#fail("looking for beginning of value");
  }

  #enter(): void {
    if (++this.#depth > MAX_DEPTH) throw new JsonSyntaxError("exceeded max depth");
  }

  #object(): JsonObject {
    this.#enter();
    this.#i++; // {
    const entries: [string, JsonValue][] = [];
    this.#skip();
    if (this.#s[this.#i] === "}") {
      this.#i++;
      this.#depth--;
      return new JsonObject(entries);
    }
    for (;;) {
      this.#skip();
      if (this.#s[this.#i] !== '"') this.#fail("looking for beginning of object key string");
      const k = this.#string();
      this.#skip();
      if (this.#s[this.#i] !== ":") this.#fail("after object key");
      this.#i++;
      entries.push([k, this.#value()]);
      this.#skip();
      const d = this.#s[this.#i];
      if (d === ",") {
        this.#i++;
        continue;
      }
      if (d === "}") {
        this.#i++;
        this.#depth--;
        return new JsonObject(entries);
      }
      this.#fail("after object key:value pair");
    }
  }

  #array(): JsonValue[] {
    this.#enter();
    this.#i++; // [
    const out: JsonValue[] = [];
    this.#skip();
    if (this.#s[this.#i] === "]") {
      this.#i++;
      this.#depth--;
      return out;
    }
    for (;;) {
      out.push(this.#value());
      this.#skip();
      const d = this.#s[this.#i];
      if (d === ",") {
        this.#i++;
        continue;
      }
      if (d === "]") {
        this.#i++;
        this.#depth--;
        return out;
      }
      this.#fail("after array element");
    }
  }

  #string(): string {
    const s = this.#s;
    const start = ++this.#i; // after the opening quote
    let escaped = false;
    for (;;) {
      // jump to the next quote or backslash; check the span for control characters
      let j = this.#i;
      while (j < s.length) {
        const ch = s.charCodeAt(j);
        if (ch === 34 || ch === 92) break;
        if (ch < 0x20) {
          this.#i = j;
          this.#fail("in string literal");
        }
        j++;
      }
      this.#i = j;
      if (j >= s.length) this.#fail("in string literal");
      if (s[j] === '"') {
        this.#i = j + 1;
        const raw = s.slice(start, j);
        return escaped ? JSON.parse(`"${raw}"`) : raw;
      }
      // backslash
      escaped = true;
      this.#i = j + 1;
      const e = s[this.#i];
      if (e === "u") {
        for (let k = 1; k <= 4; k++) {
          this.#i = j + 1 + k;
          if (!/[0-9a-fA-F]/.test(s[this.#i] ?? "")) {
            this.#fail("in \\u hexadecimal character escape");
          }
        }
        this.#i++;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) this.#i++;
      else this.#fail("in string escape code");
    }
  }

  #literal<T>(word: string, v: T): T {
    for (let k = 1; k < word.length; k++) {
      this.#i++;
      if (this.#s[this.#i] !== word[k]) this.#fail(`in literal ${word} (expecting '${word[k]}')`);
    }
    this.#i++;
    return v;
  }

  #number(): JsonNumber {
    const s = this.#s;
    NUMBER.lastIndex = this.#i;
    const m = NUMBER.exec(s);
    if (!m) {
      // only "-" followed by a non-digit gets here
      this.#i++;
      this.#fail("in numeric literal");
    }
    const end = this.#i + m[0].length;
    // a "." or "e" the pattern could not take means a malformed fraction or exponent
    const next = s[end];
    if (next === "." && !/\./.test(m[0]) && !/[eE]/.test(m[0])) {
      this.#i = end + 1;
      this.#fail("after decimal point in numeric literal");
    }
    if ((next === "e" || next === "E") && !/[eE]/.test(m[0])) {
      this.#i = end + 1;
      if (s[this.#i] === "+" || s[this.#i] === "-") this.#i++;
      this.#fail("in exponent of numeric literal");
    }
    this.#i = end;
    return new JsonNumber(m[0]);
  }
}
