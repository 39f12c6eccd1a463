/**
 * Dockerfile word processing: quotes, escapes and variable substitution as
 * Docker's builder does it (`$V`, `${V}`, `${V:-w}`, `${V:+w}`, `${V-w}`,
 * `${V+w}`, `${V:?msg}`, `${V?msg}`, `${V#p}`, `${V%p}`, `${V/p/r}`).
 * Only the instructions Docker expands go through here (see dispatch).
 *
 * @example
 * ```ts
 * import { processWord, processWords } from "./shell_lex.ts";
 * const env = new Map([["A", "x y"]]);
 * console.assert(processWord('"$A" ${B:-def}', env) === "x y def");
 * console.assert(processWords("$A z", env).length === 3);
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { replacePattern, trimPattern } from "./_pattern.ts";

/** Variables visible to an instruction: name → value (present = "set"). */
export type Env = Map<string, string>;

export interface LexOptions {
  /** The escape character (`\` or the `# escape=` directive's). */
  escape?: string;
  /** Keep quotes in the output (heredoc detection). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output (heredoc detection). */
  rawEscapes?: boolean;
  /** Leave unset variables as written (`$X`, `${X}`). */
  skipUnset?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). */
  skipQuotes?: boolean;
}

const EOF = "";

class Words {
  word = "";
  words: string[] = [];
  inWord = false;
  addChar(ch: string): void {
    if (/\s/.test(ch)) {
      if (this.inWord && this.word.length) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else this.addRawChar(ch);
  }
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.word.length) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}

function fail(msg: string): never {
  throw new InvalidArgument(msg);
}

class Lexer {
  #chars: string[];
  #pos = 0;
  #env: Env;
  #o: Required<LexOptions>;

  constructor(src: string, env: Env, o: LexOptions) {
    this.#chars = Array.from(src);
    this.#env = env;
    this.#o = {
      escape: o.escape ?? "\\",
      rawQuotes: !!o.rawQuotes,
      rawEscapes: !!o.rawEscapes,
      skipUnset: !!o.skipUnset,
      skipQuotes: !!o.skipQuotes,
    };
  }

  peek(): string {
    return this.#pos < this.#chars.length ? this.#chars[this.#pos] : EOF;
  }
  next(): string {
    return this.#pos < this.#chars.length ? this.#chars[this.#pos++] : EOF;
  }

  /** Process up to `stop` (consumed) or the end. */
  processStopOn(stop: string): { word: string; words: string[] } {
    let result = "";
    const words = new Words();
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { word: result, words: words.get() };
      }
      if (ch === "$" || (!this.#o.skipQuotes && (ch === "'" || ch === '"'))) {
        const tmp = ch === "'"
          ? this.singleQuote()
          : ch === '"'
          ? this.doubleQuote()
          : this.dollar();
        result += tmp;
        if (ch === "$") words.addString(tmp);
        else words.addRawString(tmp);
        continue;
      }
      let c = this.next();
      if (c === this.#o.escape) {
        if (this.#o.rawEscapes) {
          words.addRawChar(c);
          result += c;
        }
        c = this.next();
        if (c === EOF) break;
        words.addRawChar(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stop !== EOF) {
      fail(`unexpected end of statement while looking for matching ${stop}`);
    }
    return { word: result, words: words.get() };
  }

  singleQuote(): string {
    let result = "";
    let ch = this.next();
    if (this.#o.rawQuotes) result += ch;
    for (;;) {
      ch = this.next();
      if (ch === EOF) fail("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") {
        if (this.#o.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  doubleQuote(): string {
    let result = "";
    let ch = this.next();
    if (this.#o.rawQuotes) result += ch;
    for (;;) {
      const p = this.peek();
      if (p === EOF) fail("unexpected end of statement while looking for matching double-quote");
      if (p === '"') {
        ch = this.next();
        if (this.#o.rawQuotes) result += ch;
        return result;
      }
      if (p === "$") {
        result += this.dollar();
        continue;
      }
      ch = this.next();
      if (ch === this.#o.escape) {
        if (this.#o.rawEscapes) result += ch;
        const n = this.peek();
        if (n === EOF) continue;
        if (n === '"' || n === "$" || n === this.#o.escape) ch = this.next();
      }
      result += ch;
    }
  }

  #get(name: string): { value: string; set: boolean } {
    const v = this.#env.get(name);
    return v === undefined ? { value: "", set: false } : { value: v, set: true };
  }

  dollar(): string {
    this.next(); // $
    if (this.peek() !== "{") {
      const name = this.name();
      if (name === "") return "$";
      const { value, set } = this.#get(name);
      if (!set && this.#o.skipUnset) return "$" + name;
      return value;
    }
    this.next(); // {
    const p = this.peek();
    if (p === EOF) fail("syntax error: missing '}'");
    if (p === "{" || p === "}" || p === ":") fail("syntax error: bad substitution");
    const name = this.name();
    const ch = this.next();
    const { value, set } = this.#get(name);
    const until = (): string => {
      try {
        return this.processStopOn("}").word;
      } catch (e) {
        if (this.peek() === EOF) fail("syntax error: missing '}'");
        throw e;
      }
    };
    switch (ch) {
      case "}":
        if (!set && this.#o.skipUnset) return `\${${name}}`;
        return value;
      case "?": {
        const word = until();
        if (!set) fail(`${name}: ${word || "is not allowed to be unset"}`);
        return value;
      }
      case ":": {
        const mod = this.next();
        const word = until();
        if (!set && this.#o.skipUnset) return `\${${name}:${mod}${word}}`;
        switch (mod) {
          case "+":
            return value !== "" ? word : value;
          case "-":
            return value === "" ? word : value;
          case "?":
            if (!set) fail(`${name}: ${word || "is not allowed to be unset"}`);
            if (value === "") fail(`${name}: ${word || "is not allowed to be empty"}`);
            return value;
          default:
            fail(`unsupported modifier (${mod}) in substitution`);
        }
        break;
      }
      case "+":
      case "-": {
        const word = until();
        if (!set && this.#o.skipUnset) return `\${${name}${ch}${word}}`;
        if (ch === "+") return set ? word : "";
        return set ? value : word;
      }
      case "#":
      case "%": {
        let longest = false;
        if (this.peek() === ch) {
          this.next();
          longest = true;
        }
        const pat = until();
        if (!set && this.#o.skipUnset) return `\${${name}${ch}${longest ? ch : ""}${pat}}`;
        return trimPattern(value, pat, ch === "#", longest);
      }
      case "/": {
        let all = false;
        if (this.peek() === "/") {
          this.next();
          all = true;
        }
        const pat = this.processStopOnEither();
        const repl = pat.stoppedAt === "/" ? until() : "";
        if (!set && this.#o.skipUnset) return `\${${name}/${pat.word}/${repl}}`;
        return replacePattern(value, pat.word, repl, all);
      }
      case EOF:
        fail("syntax error: missing '}'");
    }
    fail(`missing ':' in substitution`);
  }

  /** For ${V/pat/repl}: read the pattern up to '/' or '}'. */
  processStopOnEither(): { word: string; stoppedAt: string } {
    let word = "";
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (ch === "/" || ch === "}") {
        this.next();
        return { word, stoppedAt: ch };
      }
      if (ch === "$") {
        word += this.dollar();
        continue;
      }
      let c = this.next();
      if (c === this.#o.escape) {
        c = this.next();
        if (c === EOF) break;
        word += "\\" + c; // keep literal for the glob
        continue;
      }
      word += c;
    }
    fail("syntax error: missing '}'");
  }

  name(): string {
    let name = "";
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && /\d/.test(ch)) {
        while (this.peek() !== EOF && /\d/.test(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && "@*#?-$!0".includes(ch)) return this.next();
      if (!/[\p{L}\p{N}_]/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}

/** Expand one word (quotes removed, variables substituted). */
export function processWord(word: string, env: Env, opts: LexOptions = {}): string {
  try {
    return new Lexer(word, env, opts).processStopOn(EOF).word;
  } catch (e) {
    if (e instanceof InvalidArgument) {
      throw new InvalidArgument(`failed to process ${JSON.stringify(word)}: ${e.message}`);
    }
    throw e;
  }
}

/** Expand and split into words at unquoted whitespace (as EXPOSE does). */
export function processWords(word: string, env: Env, opts: LexOptions = {}): string[] {
  try {
    return new Lexer(word, env, opts).processStopOn(EOF).words;
  } catch (e) {
    if (e instanceof InvalidArgument) {
      throw new InvalidArgument(`failed to process ${JSON.stringify(word)}: ${e.message}`);
    }
    throw e;
  }
}

/** Env entries (`K=V` list) → a lookup map; later entries win. */
export function envMap(...lists: Array<string[] | undefined>): Env {
  const m: Env = new Map();
  for (const l of lists) {
    for (const kv of l ?? []) {
      const i = kv.indexOf("=");
      if (i < 0) m.set(kv, "");
      else m.set(kv.slice(0, i), kv.slice(i + 1));
    }
  }
  return m;
}
