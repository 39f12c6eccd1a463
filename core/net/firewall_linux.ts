/**
 * Applies the rules of firewall.ts with iptables (nf_tables or legacy
 * backend, whichever `iptables` is): jumps from the built-in chains are added
 * once (checked with -C), our chains are rewritten with one
 * `iptables-restore --noflush` per changed table. Applies are coalesced: a
 * burst of changes (50 containers starting) costs one restore per in-flight
 * round, and every caller's state is in effect when its promise resolves.
 *
 * @example
 * ```ts ignore
 * const fw = new Firewall("BERTH");
 * await fw.init();
 * await fw.apply({ networks, ports });
 * await fw.teardown();   // jumps and chains gone
 * ```
 * `new Firewall(prefix, { enabled: false })` (dockerd's --iptables=false)
 * writes nothing; `missing()` says why iptables cannot be used here.
 * @module
 */
import {
  type ChainNames,
  chainNames,
  type FwState,
  jumps,
  renderFilter,
  renderNat,
} from "./firewall.ts";
import { handledElsewhere, peerGone } from "../errdefs/ignore.ts";

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A host tool the daemon spawns is not installed (Go's exec wording). */
export class ToolNotFound extends Error {
  constructor(readonly tool: string) {
    super(`exec: "${tool}": executable file not found in $PATH`);
  }
}

/** The path of executable `name` in $PATH, or undefined (Go's exec.LookPath). */
export function lookPath(name: string): string | undefined {
  if (name.includes("/")) return isExecutable(name) ? name : undefined;
  for (const d of (Deno.env.get("PATH") ?? "").split(":")) {
    if (d && isExecutable(`${d}/${name}`)) return `${d}/${name}`;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Run `cmd` (found in $PATH) to completion; a missing tool is a ToolNotFound. */
export async function runCmd(cmd: string, args: string[], input?: string): Promise<CmdResult> {
  let p: Deno.ChildProcess;
  try {
    p = new Deno.Command(cmd, {
      args,
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ToolNotFound(cmd);
    throw e;
  }
  if (input !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(input)).catch(peerGone);
    await w.close().catch(peerGone);
  }
  const o = await p.output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

export class FirewallError extends Error {}

export class Firewall {
  readonly prefix: string;
  readonly chains: ChainNames;
  readonly #bin: string;
  #want: { state: FwState; nat: boolean; filter: boolean } | undefined;
  #running: Promise<void> | undefined;
  #last = { nat: "", filter: "" };

  /** false with dockerd's --iptables=false: every method is a no-op. */
  readonly enabled: boolean;

  constructor(prefix: string, opts: { iptables?: string; enabled?: boolean } = {}) {
    this.prefix = prefix;
    this.chains = chainNames(prefix);
    this.#bin = opts.iptables ?? "iptables";
    this.enabled = opts.enabled ?? true;
  }

  /**
   * Why the firewall cannot work here (iptables or iptables-restore missing),
   * or undefined. Checked before anything is written, so a host without
   * iptables gets one clear sentence rather than a failed spawn halfway.
   */
  missing(): string | undefined {
    if (!this.enabled) return undefined;
    const absent = [this.#bin, `${this.#bin}-restore`].filter((t) => !lookPath(t));
    if (!absent.length) return undefined;
    return `iptables not found (${absent.join(", ")} not in $PATH): install the iptables ` +
      "package, or start the daemon with --iptables=false";
  }

  async #ipt(args: string[]): Promise<CmdResult> {
    return await runCmd(this.#bin, ["-w", ...args]);
  }

  /** Which backend `iptables` uses, e.g. "nf_tables" or "legacy". */
  async backend(): Promise<string> {
    if (!this.enabled) return "disabled";
    const r = await runCmd(this.#bin, ["-V"]).catch(() => undefined); // no answer: legacy, the default
    return /\((\w+)\)/.exec(r?.stdout ?? "")?.[1] ?? "legacy";
  }

  /**
   * Write our chains for `state` (one atomic restore, so running containers
   * keep their published ports across a daemon restart), then add any missing
   * jump into them.
   */
  async init(state: FwState): Promise<void> {
    if (!this.enabled) return;
    const missing = this.missing();
    if (missing) throw new FirewallError(missing);
    this.#last = { nat: "", filter: "" };
    await this.apply(state);
    for (const j of jumps(this.prefix)) {
      const ok = await this.#ipt(["-t", j.table, "-C", j.chain, ...j.rule]);
      if (ok.code === 0) continue;
      const add = j.first ? ["-I", j.chain, "1"] : ["-A", j.chain];
      const r = await this.#ipt(["-t", j.table, ...add, ...j.rule]);
      if (r.code !== 0) throw new FirewallError(`iptables: ${r.stderr.trim()}`);
    }
  }

  async #restore(input: string): Promise<void> {
    const r = await runCmd(`${this.#bin}-restore`, ["-w", "--noflush"], input);
    if (r.code !== 0) throw new FirewallError(`iptables-restore: ${r.stderr.trim()}`);
  }

  /**
   * Make the kernel's rules match `state`. Which tables to rewrite defaults to
   * both; unchanged tables are skipped.
   */
  apply(state: FwState, which: { nat?: boolean; filter?: boolean } = {}): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const nat = which.nat ?? true, filter = which.filter ?? true;
    const prev = this.#want;
    this.#want = {
      state,
      nat: nat || (prev?.nat ?? false),
      filter: filter || (prev?.filter ?? false),
    };
    return this.#kick();
  }

  #kick(): Promise<void> {
    // One restore at a time; callers arriving meanwhile share the next round.
    const round = (this.#running ?? Promise.resolve()).catch(handledElsewhere).then(async () => {
      const w = this.#want;
      if (!w) return;
      this.#want = undefined;
      let input = "";
      const natTxt = w.nat ? renderNat(this.prefix, w.state) : "";
      const filterTxt = w.filter ? renderFilter(this.prefix, w.state) : "";
      if (natTxt && natTxt !== this.#last.nat) input += natTxt;
      if (filterTxt && filterTxt !== this.#last.filter) input += filterTxt;
      if (!input) return;
      await this.#restore(input);
      if (natTxt) this.#last.nat = natTxt;
      if (filterTxt) this.#last.filter = filterTxt;
    });
    this.#running = round;
    return round;
  }

  /** Remove the jumps and our chains. */
  async teardown(): Promise<void> {
    if (!this.enabled) return;
    await this.#running?.catch(handledElsewhere);
    for (const j of jumps(this.prefix)) {
      for (let i = 0; i < 8; i++) {
        const r = await this.#ipt(["-t", j.table, "-D", j.chain, ...j.rule]);
        if (r.code !== 0) break;
      }
    }
    const c = this.chains;
    for (
      const [t, names] of [["nat", [c.dnat, c.post]], ["filter", [
        c.forward,
        c.iso1,
        c.iso2,
      ]]] as const
    ) {
      for (const n of names) await this.#ipt(["-t", t, "-F", n]);
      for (const n of names) await this.#ipt(["-t", t, "-X", n]);
    }
    this.#last = { nat: "", filter: "" };
  }

  /** Rules in our chains plus our jumps (for tests and leak checks). */
  async ruleCount(): Promise<number> {
    let n = 0;
    for (const t of ["nat", "filter"]) {
      const r = await runCmd(`${this.#bin}-save`, ["-t", t]);
      for (const line of r.stdout.split("\n")) {
        if (!line.startsWith("-A ")) continue;
        const words = line.split(" ");
        if (words[1] === this.prefix || words[1].startsWith(this.prefix + "-")) n++;
        else if (
          words.includes(this.prefix) || words.some((w) => w.startsWith(this.prefix + "-"))
        ) n++;
      }
    }
    return n;
  }
}
