/**
 * The Dockerfile parser: parser directives (`# syntax`, `# escape`, `# check`),
 * comments, line continuations, heredocs (`<<EOF`, `<<-EOF`, quoted
 * delimiters, several per line) and each instruction's argument shape
 * (JSON or shell form, key=value lists, whitespace lists), with line numbers.
 * Semantic checks live in instructions.ts.
 *
 * @example
 * ```ts
 * import { parseDockerfile } from "./parser.ts";
 * const df = parseDockerfile("FROM busybox\nRUN echo \\\n  hi\n");
 * console.assert(df.nodes[1].args[0] === "echo   hi" && df.nodes[1].line === 2);
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { processWord, processWords } from "./shell_lex.ts";
import { extractBuilderFlags, NOT_STRING_ARRAY, parseJsonArray, parseWords } from "./_words.ts";

export interface Heredoc {
  /** The delimiter word (quotes removed). */
  name: string;
  /** Body: every line up to the delimiter, each followed by "\n". */
  content: string;
  /** Unquoted delimiter: the builder may expand variables (COPY/ADD). */
  expand: boolean;
  /** `<<-`: leading tabs stripped. */
  chomp: boolean;
  fd: number;
}

export interface KeyValue {
  key: string;
  /** undefined for `ARG name` without a default. */
  value?: string;
}

export interface Node {
  /** Lowercase instruction. */
  cmd: string;
  /** The logical line as written (continuations joined). */
  original: string;
  line: number;
  endLine: number;
  /** Builder flags as written, without the leading `--` stripped (`--from=x`). */
  flags: string[];
  /** Arguments: JSON array items, the shell-form string, or whitespace words. */
  args: string[];
  /** JSON (exec) form. */
  json: boolean;
  /** ENV, LABEL, ARG pairs (quotes still in). */
  kv: KeyValue[];
  heredocs: Heredoc[];
  /** ONBUILD's trigger. */
  sub?: Node;
}

export interface Dockerfile {
  nodes: Node[];
  escape: string;
  directives: Record<string, string>;
  warnings: string[];
}

/** A Dockerfile error that names the file and line: "Dockerfile:3: …". */
export class DockerfileError extends InvalidArgument {
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`);
    this.line = line;
  }
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;
const HEREDOC_CMDS = new Set(["run", "copy", "add"]);

/** A heredoc delimiter word (`<<EOF`, `<<-"EOF"`), or undefined. */
export function parseHeredocWord(word: string): Omit<Heredoc, "content"> | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3] === "") return undefined;
  let name: string;
  try {
    name = processWord(m[3], new Map());
  } catch {
    return undefined;
  }
  if (name === "") return undefined;
  return {
    name,
    expand: !/["']/.test(m[3]),
    chomp: m[2] === "-",
    fd: m[1] ? Number(m[1]) : 0,
  };
}

/** Strip leading tabs of every line (`<<-`). */
export function chompHeredoc(content: string): string {
  return content.split("\n").map((l) => l.replace(/^\t+/, "")).join("\n");
}

interface Ctx {
  file: string;
  escape: string;
}

function contRe(escape: string): RegExp {
  return new RegExp(`${escape === "\\" ? "\\\\" : "`"}[ \\t]*$`);
}

const isComment = (l: string) => l.trimStart().startsWith("#");

function nodeFromLine(line: string, c: Ctx, lineNo: number, endLine: number): Node {
  const t = line.trim();
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(t)!;
  const cmd = m[1].toLowerCase();
  let rest = m[2] ?? "";
  let flags: string[] = [];
  if (rest) [rest, flags] = extractBuilderFlags(rest);
  const node: Node = {
    cmd,
    original: t,
    line: lineNo,
    endLine,
    flags,
    args: [],
    json: false,
    kv: [],
    heredocs: [],
  };
  const err = (msg: string) => new DockerfileError(c.file, lineNo, msg);
  const maybeJson = (s: string) => {
    if (s === "") return;
    let arr: string[] | undefined;
    try {
      arr = parseJsonArray(s);
    } catch {
      throw err(NOT_STRING_ARRAY);
    }
    if (arr) {
      node.args = arr;
      node.json = true;
    } else node.args = [s];
  };
  const whitespaceList = (s: string) => {
    node.args = s.trim() === "" ? [] : s.trim().split(/\s+/);
  };
  switch (cmd) {
    case "run":
    case "cmd":
    case "entrypoint":
    case "shell":
      maybeJson(rest);
      break;
    case "add":
    case "copy":
    case "volume": {
      let arr: string[] | undefined;
      try {
        arr = parseJsonArray(rest);
      } catch {
        throw err(NOT_STRING_ARRAY);
      }
      if (arr) {
        node.args = arr;
        node.json = true;
      } else whitespaceList(rest);
      break;
    }
    case "from":
    case "expose":
      whitespaceList(rest);
      break;
    case "maintainer":
    case "stopsignal":
    case "user":
    case "workdir":
      node.args = rest.trim() === "" ? [] : [rest.trim()];
      break;
    case "env":
    case "label":
      node.kv = parseNameVal(rest, cmd.toUpperCase(), c.escape, err);
      break;
    case "arg":
      for (const w of parseWords(rest, c.escape)) {
        const i = w.indexOf("=");
        if (i === 0) throw err("ARG names can not be blank");
        node.kv.push(i < 0 ? { key: w } : { key: w.slice(0, i), value: w.slice(i + 1) });
      }
      break;
    case "healthcheck": {
      const s = rest.trimStart();
      const sep = s.search(/\s/);
      if (s === "") break;
      const typ = sep < 0 ? s : s.slice(0, sep);
      node.args = [typ];
      const after = sep < 0 ? "" : s.slice(sep).trimStart();
      const save = node.args;
      maybeJson(after);
      node.args = after === "" ? save : [...save, ...node.args];
      break;
    }
    case "onbuild":
      if (rest.trim() !== "") node.sub = nodeFromLine(rest, c, lineNo, endLine);
      break;
    default:
      node.args = rest === "" ? [] : [rest];
  }
  return node;
}

function parseNameVal(
  rest: string,
  key: string,
  escape: string,
  err: (m: string) => Error,
): KeyValue[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes("=")) {
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 2 || rest.trim().slice(parts[0].length).trim() === "") {
      throw err(`${key} must have two arguments`);
    }
    return [{ key: parts[0], value: rest.trim().slice(parts[0].length).trim() }];
  }
  return words.map((w) => {
    const i = w.indexOf("=");
    if (i < 0) {
      throw err(
        `Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`,
      );
    }
    if (i === 0) throw err(`${key} names can not be blank`);
    return { key: w.slice(0, i), value: w.slice(i + 1) };
  });
}

/** Parse Dockerfile text. `file` names the file in error messages. */
export function parseDockerfile(text: string, opts: { file?: string } = {}): Dockerfile {
  const c: Ctx = { file: opts.file ?? "Dockerfile", escape: "\\" };
  const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  if (lines.length && lines[0].startsWith("\uFEFF")) lines[0] = lines[0].slice(1);
  if (lines.length && lines.at(-1) === "") lines.pop();
  const directives: Record<string, string> = {};
  const warnings: string[] = [];
  const nodes: Node[] = [];
  let directivesDone = false;
  let cont = contRe(c.escape);
  let i = 0;
  const trimCont = (l: string): [string, boolean] => {
    if (cont.test(l)) return [l.replace(cont, ""), false];
    return [l, true];
  };
  while (i < lines.length) {
    const lineNo = i + 1;
    const raw = lines[i++];
    if (!directivesDone) {
      const m = DIRECTIVE.exec(raw.trimStart());
      const key = m?.[1].toLowerCase();
      if (m && key && KNOWN_DIRECTIVES.has(key)) {
        if (key in directives) {
          throw new DockerfileError(
            c.file,
            lineNo,
            `only one ${key} parser directive can be used`,
          );
        }
        directives[key] = m[2];
        if (key === "escape") {
          if (m[2] !== "`" && m[2] !== "\\") {
            throw new DockerfileError(
              c.file,
              lineNo,
              `invalid escape token '${m[2]}' does not match \` or \\`,
            );
          }
          c.escape = m[2];
          cont = contRe(c.escape);
        }
        continue;
      }
      directivesDone = true;
    }
    const t = raw.trimStart();
    if (t.startsWith("#") || t.trim() === "") continue;
    let [line, ended] = trimCont(t);
    let emptyCont = false;
    while (!ended && i < lines.length) {
      const r = lines[i++];
      if (isComment(r)) continue;
      if (r.trim() === "") {
        emptyCont = true;
        continue;
      }
      const [l2, e2] = trimCont(r);
      line += l2;
      ended = e2;
    }
    if (emptyCont) {
      warnings.push(`${c.file}:${lineNo}: empty continuation line (deprecated)`);
    }
    if (line.trim() === "") continue;
    const node = nodeFromLine(line, c, lineNo, i);
    if (HEREDOC_CMDS.has(node.cmd) && line.includes("<<")) {
      let words: string[] = [];
      try {
        words = processWords(line, new Map(), {
          rawQuotes: true,
          rawEscapes: true,
          skipUnset: true,
        });
      } catch { /* not lexable: no heredocs */ }
      for (const w of words) {
        const h = parseHeredocWord(w);
        if (!h) continue;
        let content = "";
        let done = false;
        while (i < lines.length) {
          const r = lines[i++];
          const cand = h.chomp ? r.replace(/^\t+/, "") : r;
          if (cand === h.name) {
            done = true;
            break;
          }
          content += r + "\n";
        }
        if (!done) {
          throw new DockerfileError(c.file, lineNo, `unterminated heredoc ${h.name}`);
        }
        node.heredocs.push({ ...h, content });
      }
      node.endLine = i;
    }
    nodes.push(node);
  }
  return { nodes, escape: c.escape, directives, warnings };
}
