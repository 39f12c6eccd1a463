/**
 * Metadata instructions as pure config transforms, with Docker's variable
 * expansion rules (ENV LABEL EXPOSE USER VOLUME WORKDIR STOPSIGNAL expand;
 * CMD ENTRYPOINT SHELL HEALTHCHECK ONBUILD MAINTAINER do not) and Docker's
 * history text (`/bin/sh -c #(nop)  CMD ["sh"]`). Each returns what the
 * cache key needs: the step after expansion.
 *
 * @example
 * ```ts
 * import { applyMeta } from "./dispatch.ts";
 * import { parseDockerfile } from "./parser.ts";
 * import { InstructionParser } from "./instructions.ts";
 * const ins = new InstructionParser().parse(parseDockerfile("ENV A=$B").nodes[0]);
 * const cfg = { Env: ["B=x"] };
 * const r = applyMeta(ins, cfg, { env: new Map([["B", "x"]]), escape: "\\", cmdSet: false });
 * console.assert(cfg.Env.includes("A=x") && r.comment === "ENV A=x");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import type { HealthConfig, ImageRunConfig } from "../oci/types.ts";
import { parseDuration } from "../units.ts";
import { type Env, processWord, processWords } from "./shell_lex.ts";
import type { Instruction } from "./instructions.ts";
import { cleanPath } from "./dockerignore.ts";

export interface MetaContext {
  /** Variables for expansion (build args in effect, overlaid by ENV). */
  env: Env;
  escape: string;
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

export interface MetaResult {
  /** Text after `#(nop) ` in the history entry. */
  comment: string;
  /** The step after expansion (cache key material). */
  key: unknown;
  /** MAINTAINER sets the image author. */
  author?: string;
  cmdSet?: boolean;
}

export const DEFAULT_SHELL = ["/bin/sh", "-c"];

/** Go's %q of a []string: ["a" "b"]. */
export function goQuoteList(xs: string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(" ")}]`;
}

export function setEnv(cfg: ImageRunConfig, key: string, value: string): void {
  const env = cfg.Env ?? [];
  const kv = `${key}=${value}`;
  const i = env.findIndex((e) => (e.includes("=") ? e.slice(0, e.indexOf("=")) : e) === key);
  if (i >= 0) env[i] = kv;
  else env.push(kv);
  cfg.Env = env;
}

const SIGNALS = new Set(
  "HUP INT QUIT ILL TRAP ABRT IOT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO POLL PWR SYS UNUSED"
    .split(" "),
);

export function validSignal(s: string): boolean {
  if (/^\d+$/.test(s)) return Number(s) > 0 && Number(s) <= 64;
  const n = s.toUpperCase().replace(/^SIG/, "");
  return SIGNALS.has(n) || /^RTM(IN|AX)([+-]\d+)?$/.test(n);
}

/** Go's Duration.String() for history text. */
function durationString(ns: number): string {
  if (ns === 0) return "0s";
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${ns / 1e6}ms`;
  let s = ns / 1e9;
  let out = "";
  const h = Math.floor(s / 3600);
  if (h) out += `${h}h`;
  s -= h * 3600;
  const mi = Math.floor(s / 60);
  if (h || mi) out += `${mi}m`;
  s -= mi * 60;
  out += `${Number(s.toFixed(9))}s`;
  return out;
}

/** EXPOSE port specs → ExposedPorts keys ("80/tcp"); ranges expanded. */
export function parsePorts(specs: string[]): string[] {
  const out: string[] = [];
  for (const raw of specs) {
    const m = /^(\d+)(?:-(\d+))?(?:\/([a-zA-Z]+))?$/.exec(raw);
    if (!m) throw new InvalidArgument(`Invalid containerPort: ${raw}`);
    const proto = (m[3] ?? "tcp").toLowerCase();
    if (!["tcp", "udp", "sctp"].includes(proto)) {
      throw new InvalidArgument(`Invalid proto: ${m[3]}`);
    }
    const a = Number(m[1]), b = m[2] ? Number(m[2]) : a;
    if (a < 0 || b > 65535 || b < a) throw new InvalidArgument(`Invalid containerPort: ${raw}`);
    for (let p = a; p <= b; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

/** Apply a metadata instruction to `cfg` (mutated). */
export function applyMeta(ins: Instruction, cfg: ImageRunConfig, mc: MetaContext): MetaResult {
  const word = (w: string) => processWord(w, mc.env, { escape: mc.escape });
  const shell = cfg.Shell?.length ? cfg.Shell : DEFAULT_SHELL;
  switch (ins.kind) {
    case "ENV": {
      const pairs = ins.pairs.map((p) => ({ key: word(p.key), value: word(p.value) }));
      for (const p of pairs) {
        if (p.key === "") throw new InvalidArgument("ENV names can not be blank");
        setEnv(cfg, p.key, p.value);
      }
      const text = pairs.map((p) => `${p.key}=${p.value}`).join(" ");
      return { comment: `ENV ${text}`, key: { ENV: pairs } };
    }
    case "LABEL": {
      const pairs = ins.pairs.map((p) => ({ key: word(p.key), value: word(p.value) }));
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      for (const p of pairs) {
        if (p.key === "") throw new InvalidArgument("LABEL names can not be blank");
        cfg.Labels[p.key] = p.value;
      }
      const text = pairs.map((p) => `${p.key}=${p.value}`).join(" ");
      return { comment: `LABEL ${text}`, key: { LABEL: pairs } };
    }
    case "MAINTAINER":
      return {
        comment: `MAINTAINER ${ins.value}`,
        key: { MAINTAINER: ins.value },
        author: ins.value,
      };
    case "CMD": {
      const cmd = ins.json ? ins.args : [...shell, ins.args[0]];
      cfg.Cmd = cmd;
      return { comment: `CMD ${goQuoteList(cmd)}`, key: { CMD: cmd }, cmdSet: true };
    }
    case "ENTRYPOINT": {
      const ep = ins.json ? ins.args : [...shell, ins.args[0]];
      cfg.Entrypoint = ep;
      if (!mc.cmdSet) cfg.Cmd = null;
      return {
        comment: `ENTRYPOINT ${goQuoteList(ep)}`,
        key: { ENTRYPOINT: ep, cmdSet: mc.cmdSet },
      };
    }
    case "SHELL":
      cfg.Shell = [...ins.args];
      return { comment: `SHELL [${ins.args.join(" ")}]`, key: { SHELL: ins.args } };
    case "EXPOSE": {
      const words = ins.ports.flatMap((p) => processWords(p, mc.env, { escape: mc.escape }));
      const ports = parsePorts(words);
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of ports) cfg.ExposedPorts[p] = {};
      return { comment: `EXPOSE ${ports.join(" ")}`, key: { EXPOSE: ports } };
    }
    case "VOLUME": {
      const vols = ins.volumes.map(word);
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const v of vols) {
        if (v.trim() === "") {
          throw new InvalidArgument("VOLUME specified can not be an empty string");
        }
        cfg.Volumes[v] = {};
      }
      return { comment: `VOLUME [${vols.join(" ")}]`, key: { VOLUME: vols } };
    }
    case "USER": {
      const u = word(ins.value);
      cfg.User = u;
      return { comment: `USER ${u}`, key: { USER: u } };
    }
    case "STOPSIGNAL": {
      const s = word(ins.value);
      if (!validSignal(s)) throw new InvalidArgument(`Invalid signal: ${s}`);
      cfg.StopSignal = s;
      return { comment: `STOPSIGNAL ${s}`, key: { STOPSIGNAL: s } };
    }
    case "WORKDIR": {
      const w = normalizeWorkdir(cfg.WorkingDir ?? "", word(ins.value));
      cfg.WorkingDir = w;
      return { comment: `WORKDIR ${w}`, key: { WORKDIR: w } };
    }
    case "ONBUILD":
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.expression];
      return { comment: `ONBUILD ${ins.expression}`, key: { ONBUILD: ins.expression } };
    case "HEALTHCHECK": {
      const hc = healthcheck(ins.test, ins.flags);
      cfg.Healthcheck = hc;
      const d = (n?: number) => JSON.stringify(durationString(n ?? 0));
      const text = hc.Test?.[0] === "NONE"
        ? `&{["NONE"] "0s" "0s" "0s" "0s" '\\x00'}`
        : `&{${goQuoteList(hc.Test ?? [])} ${d(hc.Interval)} ${d(hc.Timeout)} ${
          d(hc.StartPeriod)
        } ${d(hc.StartInterval)} '\\x${(hc.Retries ?? 0).toString(16).padStart(2, "0")}'}`;
      return { comment: `HEALTHCHECK ${text}`, key: { HEALTHCHECK: hc } };
    }
  }
  throw new InvalidArgument(`${ins.kind} is not a metadata instruction`);
}

/** WORKDIR: relative paths join the current one; result cleaned, absolute. */
export function normalizeWorkdir(current: string, requested: string): string {
  if (requested.startsWith("/")) return cleanPath(requested);
  return cleanPath(`/${current || "/"}/${requested}`);
}

function healthcheck(test: string[], flags: Record<string, string | true>): HealthConfig {
  if (test[0] === "NONE") return { Test: ["NONE"] };
  const hc: HealthConfig = { Test: test };
  const dur = (name: string, field: keyof HealthConfig) => {
    const v = flags[name];
    if (v === undefined || v === true) return;
    const ns = parseDuration(v);
    // buildkit's parseOptInterval: 0 is unset; a negative one is less than 1ms as well
    if (ns !== 0 && ns < 1e6) {
      throw new InvalidArgument(`Interval "${name}" cannot be less than 1ms`);
    }
    if (ns) (hc as Record<string, unknown>)[field] = ns;
  };
  dur("interval", "Interval");
  dur("timeout", "Timeout");
  dur("start-period", "StartPeriod");
  dur("start-interval", "StartInterval");
  const r = flags.retries;
  if (r !== undefined && r !== true) {
    if (!/^-?\d+$/.test(r)) throw new InvalidArgument(`invalid retries value ${r}`);
    const n = Number(r);
    if (n < 0) throw new InvalidArgument("--retries cannot be negative");
    if (n) hc.Retries = n;
  }
  return hc;
}
