/**
 * Docker-style (pflag) command-line parsing for the client, with the small
 * commander-like builder API the command modules use:
 * `new Command(name).option("-e, --env <value>", "…", collect, [])`.
 *
 * Why not commander: importing it costs 25–35 ms per client process, more than
 * the rest of `berth ps`; and pflag's rules differ where it matters — a flag
 * with an optional value (`--rm[=false]`) never takes the next argument, short
 * flags cluster (`-it`, `-p80:80`), `--` ends flags, and `run IMAGE CMD…`
 * stops at the first positional. Decision recorded in docs/store.md.
 *
 * @example
 * ```ts
 * import { Command } from "./flags.ts";
 * const c = new Command("run").option("-i, --interactive", "").option("-e, --env <v>", "", (v: string, p: string[] = []) => [...p, v]);
 * c.stopAtPositional().parse(["-i", "-eA=1", "busybox", "-x"]);
 * console.assert(c.opts().env[0] === "A=1" && c.args.join(" ") === "busybox -x");
 * ```
 * @module
 */

export type Parser = (value: string, previous: unknown) => unknown;

interface OptionDef {
  short?: string;
  long: string;
  key: string;
  /** "none" boolean, "required" <v>, "optional" [v] (only with =). */
  arg: "none" | "required" | "optional";
  negate: boolean;
  parser?: Parser;
  dflt?: unknown;
  description: string;
  flags: string;
}

/** A flag error, worded as docker's. */
export class FlagError extends Error {}
/** Thrown by a flag's parser: pflag words it `invalid argument "V" for "-f, --flag" flag: <message>`. */
export class FlagValueError extends Error {}
/** -h/--help was given; the usage has been printed. */
export class HelpShown extends Error {}

function camel(s: string): string {
  return s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export class Command {
  readonly name: string;
  #defs: OptionDef[] = [];
  #byLong = new Map<string, OptionDef>();
  #byShort = new Map<string, OptionDef>();
  #stop = false;
  #usage = "";
  #summary = "";
  #opts: Record<string, unknown> = {};
  args: string[] = [];

  constructor(name: string) {
    this.name = name;
  }

  usage(u: string): this {
    this.#usage = u;
    return this;
  }

  description(d: string): this {
    this.#summary = d;
    return this;
  }

  /** Options end at the first positional (`run IMAGE CMD…`). */
  stopAtPositional(): this {
    this.#stop = true;
    return this;
  }

  option(flags: string, description: string, parserOrDefault?: unknown, dflt?: unknown): this {
    // "-e, --env <value>", "--network, --net <network>", "--rm [bool]", "--no-trunc"
    const m = /^(.*?)(?:\s+(<[^>]*>|\[[^\]]*\]))?$/.exec(flags.trim());
    const names = (m?.[1] ?? "").split(/,\s*/);
    const argSpec = m?.[2];
    const short = names.find((n) => /^-\w$/.test(n))?.slice(1);
    const longs = names.filter((n) => /^--[\w-]+$/.test(n)).map((n) => n.slice(2));
    if (!longs.length || names.length !== longs.length + (short ? 1 : 0)) {
      throw new Error(`bad option spec: ${flags}`);
    }
    const negate = longs[0].startsWith("no-");
    const def: OptionDef = {
      short,
      long: longs[0],
      key: camel(negate ? longs[0].slice(3) : longs[0]),
      arg: !argSpec ? "none" : argSpec.startsWith("<") ? "required" : "optional",
      negate,
      description,
      flags,
    };
    if (typeof parserOrDefault === "function") {
      def.parser = parserOrDefault as Parser;
      def.dflt = dflt;
    } else def.dflt = parserOrDefault;
    if (negate && def.dflt === undefined) def.dflt = true;
    this.#defs.push(def);
    for (const l of longs) this.#byLong.set(l, def);
    if (short) this.#byShort.set(short, def);
    return this;
  }

  opts(): Record<string, unknown> {
    return this.#opts;
  }

  helpText(): string {
    const rows = this.#defs.map((d) => {
      const left = `${d.short ? `-${d.short}, ` : "    "}--${d.long}${
        d.arg === "required" ? " string" : ""
      }`;
      return [left, d.description];
    });
    rows.push(["-h, --help", "Print usage"]);
    const w = Math.max(...rows.map((r) => r[0].length)) + 3;
    return `\nUsage:  berth ${this.name} ${this.#usage}\n\n${this.#summary}\n\nOptions:\n${
      rows.map(([l, r]) => `  ${l.padEnd(w)}${r}`).join("\n")
    }\n`;
  }

  #set(d: OptionDef, value: string | undefined): void {
    let v: unknown;
    if (d.arg === "none") v = !d.negate;
    else v = value === undefined ? true : value;
    if (d.parser && value !== undefined) {
      try {
        v = d.parser(value, this.#opts[d.key]);
      } catch (e) {
        if (!(e instanceof FlagValueError)) throw e;
        const flag = `${d.short ? `-${d.short}, ` : ""}--${d.long}`;
        throw new FlagError(`invalid argument "${value}" for "${flag}" flag: ${e.message}`);
      }
    } else if (d.parser && d.arg === "optional") v = d.parser("true", this.#opts[d.key]);
    this.#opts[d.key] = v;
  }

  /** Parse argv (no program name). Throws FlagError or HelpShown. */
  parse(argv: string[]): this {
    this.#opts = {};
    for (const d of this.#defs) if (d.dflt !== undefined) this.#opts[d.key] = d.dflt;
    const pos: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === "--") {
        pos.push(...argv.slice(i + 1));
        break;
      }
      if (a === "-h" || a === "--help") {
        Deno.stdout.writeSync(new TextEncoder().encode(this.helpText()));
        throw new HelpShown();
      }
      if (a.startsWith("--") && a.length > 2) {
        const eq = a.indexOf("=");
        const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
        const d = this.#byLong.get(name);
        if (!d) throw new FlagError(`unknown flag: --${name}`);
        if (d.arg === "required") {
          let v: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
          if (v === undefined) {
            if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
            v = argv[++i];
          }
          this.#set(d, v);
        } else if (d.arg === "optional") {
          this.#set(d, eq < 0 ? undefined : a.slice(eq + 1));
        } else {
          if (eq >= 0) {
            const v = a.slice(eq + 1).toLowerCase();
            if (!["true", "false", "1", "0"].includes(v)) {
              throw new FlagError(
                `invalid argument "${
                  a.slice(eq + 1)
                }" for "--${name}" flag: strconv.ParseBool: parsing "${
                  a.slice(eq + 1)
                }": invalid syntax`,
              );
            }
            const truth = v === "true" || v === "1";
            this.#opts[d.key] = d.negate ? !truth : truth;
          } else this.#set(d, undefined);
        }
        continue;
      }
      if (a.startsWith("-") && a.length > 1) {
        // A cluster of short flags: -it, -p80:80, -eA=1
        for (let j = 1; j < a.length; j++) {
          const ch = a[j];
          const d = this.#byShort.get(ch);
          if (!d) throw new FlagError(`unknown shorthand flag: '${ch}' in ${a}`);
          if (d.arg === "required") {
            let v = a.slice(j + 1);
            if (v.startsWith("=")) v = v.slice(1);
            if (!v) {
              if (i + 1 >= argv.length) {
                throw new FlagError(`flag needs an argument: '${ch}' in -${ch}`);
              }
              v = argv[++i];
            }
            this.#set(d, v);
            break;
          }
          if (d.arg === "optional" && a[j + 1] === "=") {
            this.#set(d, a.slice(j + 2));
            break;
          }
          this.#set(d, undefined);
        }
        continue;
      }
      pos.push(a);
      if (this.#stop) {
        pos.push(...argv.slice(i + 1));
        break;
      }
    }
    this.args = pos;
    return this;
  }
}
