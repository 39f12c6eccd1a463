/**
 * Shared client plumbing: global options, docker-style command parsing on top
 * of commander (flag errors exit 125 with "See 'berth X --help'."), and the
 * error → exit code mapping.
 * @module
 */
import { Command, FlagError, FlagValueError, HelpShown } from "./flags.ts";
export type { Command } from "./flags.ts";
import { ApiClient, ApiError, ConnectError, resolveHost } from "./api.ts";
import { BerthError, messageOf } from "../../core/errdefs/mod.ts";
import { resolveTls, type TlsFlags } from "./dial.ts";

export interface Globals {
  host: string;
  debug: boolean;
  configDir: string;
  /** Lazily created Engine API client. */
  api(): ApiClient;
}

export function makeGlobals(
  host?: string,
  debug = false,
  configDir?: string,
  tls: TlsFlags = {},
): Globals {
  let client: ApiClient | undefined;
  const h = resolveHost(host);
  return {
    host: h,
    debug,
    configDir: configDir ?? Deno.env.get("DOCKER_CONFIG") ??
      `${Deno.env.get("HOME") ?? "/root"}/.docker`,
    // TLS is for tcp hosts (a unix socket is plain whatever the flags and env say)
    api: () => (client ??= new ApiClient(h, h.startsWith("tcp://") ? resolveTls(tls) : undefined)),
  };
}

/** A usage error already printed; carries the exit code. */
export class UsageExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

/** Collect repeated flag values (-e A -e B). */
export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** KEY=VALUE flag values (--label, --opt…) → an object; a KEY alone is "", a later KEY wins. */
export function kvMap(list: string[] | undefined): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of list ?? []) {
    const i = l.indexOf("=");
    if (i < 0) o[l] = "";
    else o[l.slice(0, i)] = l.slice(i + 1);
  }
  return o;
}

/**
 * The parser of every `--filter` flag, docker/cli's FilterOpt: an empty value is ignored, one
 * without `=` is a flag error (`bad format of filter (expected name=value)`, exit 125), the name is
 * trimmed and lower-cased and the value trimmed.
 */
export function filterFlag(v: string, prev: string[] = []): string[] {
  if (v === "") return prev;
  const i = v.indexOf("=");
  if (i < 0) throw new FlagValueError("bad format of filter (expected name=value)");
  return [...prev, `${v.slice(0, i).trim().toLowerCase()}=${v.slice(i + 1).trim()}`];
}

/** --filter values (as filterFlag keeps them) → name → values. */
export function filtersOf(list: string[] | undefined): Record<string, string[]> {
  const f: Record<string, string[]> = {};
  for (const x of list ?? []) {
    const i = x.indexOf("=");
    (f[x.slice(0, i)] ??= []).push(x.slice(i + 1));
  }
  return f;
}

/** --filter values → the `filters` query parameter (undefined when none). */
export function filtersQuery(list: string[] | undefined): string | undefined {
  const f = filtersOf(list);
  return Object.keys(f).length ? JSON.stringify(f) : undefined;
}

/**
 * A Command shaped like a docker CLI command. `interspersed=false`
 * stops option parsing at the first positional (run IMAGE CMD…).
 */
export function command(
  path: string,
  usage: string,
  summary: string,
  opts: { interspersed?: boolean } = {},
): Command {
  const c = new Command(path).usage(usage).description(summary);
  if (opts.interspersed === false) c.stopAtPositional();
  return c;
}

/**
 * Parsed flags by camelCased name (flags.ts): each command declares its own
 * (a collect flag is string[], a valued one string, a switch boolean), so the
 * bag is open; API objects have their types in core/api/types.ts.
 */
// deno-lint-ignore no-explicit-any
export type Flags = Record<string, any>;

/** Parse `args`; on a flag error print docker's message and throw UsageExit(125). */
export function parse(
  c: Command,
  args: string[],
  name: string,
): { opts: Flags; args: string[] } {
  try {
    c.parse(args);
  } catch (e) {
    if (e instanceof HelpShown) throw new UsageExit(0);
    if (e instanceof FlagError) {
      console.error(`${e.message}\nSee 'berth ${name} --help'.`);
      throw new UsageExit(125);
    }
    throw e;
  }
  return { opts: c.opts(), args: c.args };
}

/** Docker's "requires N argument(s)" check. */
export function requireArgs(
  args: string[],
  name: string,
  usage: string,
  min: number,
  max = Infinity,
): void {
  let msg: string | undefined;
  if (min === max && args.length !== min) {
    msg = `"berth ${name}" requires exactly ${min} argument${min === 1 ? "" : "s"}.`;
  } else if (args.length < min) {
    msg = `"berth ${name}" requires at least ${min} argument${min === 1 ? "" : "s"}.`;
  } else if (args.length > max) {
    msg = `"berth ${name}" requires at most ${max} argument${max === 1 ? "" : "s"}.`;
  }
  if (msg) {
    console.error(`${msg}\nSee 'berth ${name} --help'.\n\nUsage:  berth ${name} ${usage}\n`);
    throw new UsageExit(1);
  }
}

/** Map an error to the docker CLI's message and exit code (1). */
export function reportError(e: unknown): number {
  if (e instanceof UsageExit) return e.code;
  if (e instanceof ApiError) {
    console.error(`Error response from daemon: ${e.message}`);
    return 1;
  }
  if (e instanceof ConnectError) {
    console.error(e.message);
    return 1;
  }
  if (e instanceof BerthError) {
    console.error(`Error: ${e.message}`);
    return 1;
  }
  if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
    console.error(`Error: ${messageOf(e)}`);
    return 1;
  }
  if (Deno.env.get("BERTH_DEBUG")) console.error(e);
  else console.error(`Error: ${messageOf(e)}`);
  return 1;
}

/** Write a string to stdout without console.log's formatting. */
export function out(s: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(s));
}
