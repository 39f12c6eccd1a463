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

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCmd(cmd: string, args: string[], input?: string): Promise<CmdResult> {
  const p = new Deno.Command(cmd, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(input)).catch(() => {});
    await w.close().catch(() => {});
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

  constructor(prefix: string, opts: { iptables?: string } = {}) {
    this.prefix = prefix;
    this.chains = chainNames(prefix);
    this.#bin = opts.iptables ?? "iptables";
  }

  async #ipt(args: string[]): Promise<CmdResult> {
    return await runCmd(this.#bin, ["-w", ...args]);
  }

  /** Which backend `iptables` uses, e.g. "nf_tables" or "legacy". */
  async backend(): Promise<string> {
    const r = await runCmd(this.#bin, ["-V"]).catch(() => undefined);
    return /\((\w+)\)/.exec(r?.stdout ?? "")?.[1] ?? "legacy";
  }

  /**
   * Write our chains for `state` (one atomic restore, so running containers
   * keep their published ports across a daemon restart), then add any missing
   * jump into them.
   */
  async init(state: FwState): Promise<void> {
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
    const round = (this.#running ?? Promise.resolve()).catch(() => {}).then(async () => {
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
    await this.#running?.catch(() => {});
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
