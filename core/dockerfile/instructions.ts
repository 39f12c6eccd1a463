/**
 * Parsed Dockerfile nodes → typed instructions grouped into stages, with the
 * checks Docker makes (argument counts, flags, JSON-only SHELL, stage names,
 * ONBUILD triggers). Every error names the file and line.
 *
 * @example
 * ```ts
 * import { parseDockerfile } from "./parser.ts";
 * import { toStages } from "./instructions.ts";
 * const p = toStages(parseDockerfile("ARG V=1\nFROM busybox AS a\nRUN true\n"));
 * console.assert(p.stages[0].name === "a" && p.metaArgs.length === 1);
 * ```
 * @module
 */
import {
  type Dockerfile,
  DockerfileError,
  type Heredoc,
  type KeyValue,
  type Node,
} from "./parser.ts";
import { InvalidArgument } from "../errdefs/mod.ts";

export interface Flags {
  [name: string]: string | true;
}

interface Base {
  node: Node;
  flags: Flags;
}

export type Instruction =
  | Base & { kind: "FROM"; image: string; name?: string; platform?: string }
  | Base & { kind: "RUN"; args: string[]; json: boolean; heredocs: Heredoc[]; network?: string }
  | Base & { kind: "CMD" | "ENTRYPOINT"; args: string[]; json: boolean }
  | Base & { kind: "SHELL"; args: string[] }
  | Base & { kind: "ENV" | "LABEL"; pairs: Array<{ key: string; value: string }> }
  | Base & { kind: "ARG"; args: KeyValue[] }
  | Base & { kind: "EXPOSE"; ports: string[] }
  | Base & { kind: "VOLUME"; volumes: string[] }
  | Base & { kind: "USER" | "WORKDIR" | "STOPSIGNAL" | "MAINTAINER"; value: string }
  | Base & {
    kind: "COPY" | "ADD";
    srcs: string[];
    dest: string;
    /** Heredoc sources, in order (their names are in `srcs` as `<<NAME`). */
    heredocs: Heredoc[];
    from?: string;
    chown?: string;
    chmod?: string;
  }
  | Base & {
    kind: "HEALTHCHECK";
    /** ["NONE"], ["CMD", …] or ["CMD-SHELL", cmd] */
    test: string[];
  }
  | Base & { kind: "ONBUILD"; expression: string };

export type Kind = Instruction["kind"];

export interface Stage {
  index: number;
  /** Lowercased `AS` name. */
  name?: string;
  from: Extract<Instruction, { kind: "FROM" }>;
  instructions: Instruction[];
}

export interface Plan {
  metaArgs: Extract<Instruction, { kind: "ARG" }>[];
  stages: Stage[];
  escape: string;
  warnings: string[];
}

const KNOWN = new Set([
  "from",
  "run",
  "cmd",
  "label",
  "maintainer",
  "expose",
  "env",
  "add",
  "copy",
  "entrypoint",
  "volume",
  "user",
  "workdir",
  "arg",
  "onbuild",
  "stopsignal",
  "healthcheck",
  "shell",
]);

const FLAGS: Record<string, Record<string, "string" | "bool">> = {
  from: { platform: "string" },
  run: { network: "string" },
  copy: { from: "string", chown: "string", chmod: "string", link: "bool" },
  add: { chown: "string", chmod: "string", link: "bool" },
  healthcheck: {
    interval: "string",
    timeout: "string",
    "start-period": "string",
    "start-interval": "string",
    retries: "string",
  },
};

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length][b.length];
}

export class InstructionParser {
  readonly file: string;
  constructor(file = "Dockerfile") {
    this.file = file;
  }

  err(node: Node, msg: string): DockerfileError {
    return new DockerfileError(this.file, node.line, msg);
  }

  flags(node: Node): Flags {
    const spec = FLAGS[node.cmd] ?? {};
    const out: Flags = {};
    for (const f of node.flags) {
      const raw = f.replace(/^--/, "");
      const i = raw.indexOf("=");
      const name = i < 0 ? raw : raw.slice(0, i);
      const type = spec[name];
      if (!type) {
        if (node.cmd === "run" && (name === "mount" || name === "security")) {
          throw this.err(node, `RUN --${name} requires BuildKit, which berth does not provide`);
        }
        throw this.err(node, `Unknown flag: ${name}`);
      }
      if (name in out) throw this.err(node, `Duplicate flag specified: ${name}`);
      if (type === "bool") {
        const v = i < 0 ? "true" : raw.slice(i + 1).toLowerCase();
        if (v !== "true" && v !== "false") {
          throw this.err(
            node,
            `expecting boolean value for flag ${name}, not: ${raw.slice(i + 1)}`,
          );
        }
        if (v === "true") out[name] = true;
      } else {
        if (i < 0) throw this.err(node, `Missing a value on flag: ${name}`);
        out[name] = raw.slice(i + 1);
      }
    }
    return out;
  }

  /** One node → instruction. */
  parse(node: Node): Instruction {
    const cmd = node.cmd;
    const up = cmd.toUpperCase();
    if (!KNOWN.has(cmd)) {
      // (lengths first: a long word's table would cost seconds and hundreds of MB)
      const near = [...KNOWN].find((k) =>
        cmd.length > 2 && Math.abs(k.length - cmd.length) <= 1 && levenshtein(k, cmd) <= 1
      );
      throw this.err(
        node,
        `unknown instruction: ${up}${near ? ` (did you mean ${near.toUpperCase()}?)` : ""}`,
      );
    }
    const flags = this.flags(node);
    const b = { node, flags };
    const a = node.args;
    const atLeast = (n: number) => {
      if (a.length < n) {
        throw this.err(
          node,
          `${up} requires at least ${n === 1 ? "one argument" : "two arguments"}`,
        );
      }
    };
    const exactlyOne = () => {
      if (a.length !== 1) throw this.err(node, `${up} requires exactly one argument`);
    };
    switch (cmd) {
      case "from": {
        if (a.length !== 1 && a.length !== 3) {
          throw this.err(node, "FROM requires either one or three arguments");
        }
        let name: string | undefined;
        if (a.length === 3) {
          if (a[1].toLowerCase() !== "as") {
            throw this.err(
              node,
              `FROM expects "AS" as second argument, got ${JSON.stringify(a[1])}`,
            );
          }
          name = a[2].toLowerCase();
          if (!STAGE_NAME.test(name)) {
            throw this.err(
              node,
              `invalid name for build stage: ${
                JSON.stringify(a[2])
              }, name can't start with a number or contain symbols`,
            );
          }
        }
        return { ...b, kind: "FROM", image: a[0], name, platform: flags.platform as string };
      }
      case "run":
        if (a.length === 0 || (a.length === 1 && a[0].trim() === "")) atLeast(1);
        if (node.json && node.heredocs.length) {
          throw this.err(node, "RUN with a heredoc needs the shell form");
        }
        return {
          ...b,
          kind: "RUN",
          args: a,
          json: node.json,
          heredocs: node.heredocs,
          network: flags.network as string | undefined,
        };
      case "cmd":
      case "entrypoint":
        if (!node.json && a.length === 0) atLeast(1);
        return { ...b, kind: up as "CMD" | "ENTRYPOINT", args: a, json: node.json };
      case "shell":
        if (!node.json) throw this.err(node, "SHELL requires the arguments to be in JSON form");
        if (a.length === 0) throw this.err(node, "SHELL requires at least one argument");
        return { ...b, kind: "SHELL", args: a };
      case "env":
      case "label":
        if (node.kv.length === 0) atLeast(1);
        return {
          ...b,
          kind: up as "ENV" | "LABEL",
          pairs: node.kv.map((p) => ({ key: p.key, value: p.value ?? "" })),
        };
      case "arg":
        if (node.kv.length === 0) throw this.err(node, "ARG requires at least one argument");
        return { ...b, kind: "ARG", args: node.kv };
      case "expose":
        atLeast(1);
        return { ...b, kind: "EXPOSE", ports: a };
      case "volume":
        atLeast(1);
        for (const v of a) {
          if (v.trim() === "") throw this.err(node, "VOLUME specified can not be an empty string");
        }
        return { ...b, kind: "VOLUME", volumes: a };
      case "user":
      case "workdir":
      case "stopsignal":
      case "maintainer":
        exactlyOne();
        return { ...b, kind: up as "USER", value: a[0] };
      case "copy":
      case "add": {
        if (a.length < 2) throw this.err(node, `${up} requires at least two arguments`);
        const dest = a[a.length - 1];
        const srcs = a.slice(0, -1);
        if (node.heredocs.some((h) => `<<${h.chomp ? "-" : ""}${h.name}` === dest)) {
          throw this.err(node, `${up} cannot accept a heredoc as a destination`);
        }
        if (cmd === "add" && flags.from !== undefined) throw this.err(node, "Unknown flag: from");
        return {
          ...b,
          kind: up as "COPY",
          srcs,
          dest,
          heredocs: node.heredocs,
          from: flags.from as string | undefined,
          chown: flags.chown as string | undefined,
          chmod: flags.chmod as string | undefined,
        };
      }
      case "healthcheck": {
        if (a.length === 0) throw this.err(node, "HEALTHCHECK requires an argument");
        const typ = a[0].toUpperCase();
        if (typ === "NONE") {
          if (a.length > 1) throw this.err(node, "HEALTHCHECK NONE takes no arguments");
          if (Object.keys(flags).length) {
            throw this.err(node, "HEALTHCHECK NONE takes no options");
          }
          return { ...b, kind: "HEALTHCHECK", test: ["NONE"] };
        }
        if (typ !== "CMD") {
          throw this.err(node, `Unknown type ${JSON.stringify(a[0])} in HEALTHCHECK (try CMD)`);
        }
        const rest = a.slice(1);
        if (rest.length === 0 || (rest.length === 1 && rest[0].trim() === "")) {
          throw this.err(node, "Missing command after HEALTHCHECK CMD");
        }
        return {
          ...b,
          kind: "HEALTHCHECK",
          test: node.json ? ["CMD", ...rest] : ["CMD-SHELL", rest[0]],
        };
      }
      case "onbuild": {
        const sub = node.sub;
        if (!sub) throw this.err(node, "ONBUILD requires at least one argument");
        if (sub.cmd === "onbuild") {
          throw this.err(node, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        }
        if (sub.cmd === "from" || sub.cmd === "maintainer") {
          throw this.err(node, `${sub.cmd.toUpperCase()} isn't allowed as an ONBUILD trigger`);
        }
        this.parse(sub); // validate the trigger now
        const expression = node.original.replace(/^\s*onbuild\s*/i, "");
        return { ...b, kind: "ONBUILD", expression };
      }
    }
    throw this.err(node, `unknown instruction: ${up}`);
  }
}

/** Group instructions into stages; ARGs before the first FROM are meta args. */
export function toStages(df: Dockerfile, file = "Dockerfile"): Plan {
  const p = new InstructionParser(file);
  const metaArgs: Plan["metaArgs"] = [];
  const stages: Stage[] = [];
  if (df.nodes.length === 0) {
    // moby builder/remotecontext/detect.go readAndParseDockerfile (buildkit's parser words)
    throw new InvalidArgument(`failed to parse ${file}: file with no instructions`);
  }
  for (const node of df.nodes) {
    const ins = p.parse(node);
    if (ins.kind === "FROM") {
      if (ins.name && stages.some((s) => s.name === ins.name)) {
        throw p.err(node, `duplicate name ${ins.name}`);
      }
      stages.push({ index: stages.length, name: ins.name, from: ins, instructions: [] });
      continue;
    }
    const cur = stages.at(-1);
    if (!cur) {
      if (ins.kind === "ARG") {
        metaArgs.push(ins);
        continue;
      }
      throw p.err(node, `${node.cmd.toUpperCase()} before FROM: no build stage in current context`);
    }
    cur.instructions.push(ins);
  }
  if (stages.length === 0) {
    throw new DockerfileError(file, 0, "no FROM instruction: no build stage");
  }
  return { metaArgs, stages, escape: df.escape, warnings: df.warnings };
}
