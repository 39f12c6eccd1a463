/**
 * Side-by-side benchmark harness: runs each contender's command several
 * times (with an untimed setup before each run), prints medians and the
 * ratio to a baseline from the same run, and returns them so scripts can
 * record them in bench/RESULTS.md.
 * @module
 */

export interface Contender {
  name: string;
  /** Untimed, before each run. */
  setup?: () => Promise<void>;
  /** The timed command. */
  run: () => Promise<void>;
}

export interface Result {
  name: string;
  median: number;
  samples: number[];
  /** Median CPU seconds (user+sys) of the processes the run waited for. */
  cpu: number;
  /** Median minor page faults of the processes the run waited for: steady under load. */
  faults: number;
}

/**
 * CPU seconds (user+sys) of this process's waited-for children so far
 * (/proc/self/stat cutime+cstime, in USER_HZ = 1/100 s): what a run's
 * commands cost, whatever else loads the machine.
 */
export function childCpu(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) / 100;
}

/**
 * Minor page faults of this process's waited-for children so far
 * (/proc/self/stat cminflt). On a VM a fault is dear, and the count does
 * not depend on what else loads the machine.
 */
export function childFaults(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[8]);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Run contenders interleaved (A B A B …) so drift hits all alike. */
export async function compare(title: string, contenders: Contender[], runs = 5): Promise<Result[]> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const cpus = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const faults = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const c of contenders) {
      await c.setup?.();
      const c0 = childCpu(), f0 = childFaults();
      const t0 = performance.now();
      await c.run();
      samples.get(c.name)!.push((performance.now() - t0) / 1000);
      cpus.get(c.name)!.push(childCpu() - c0);
      faults.get(c.name)!.push(childFaults() - f0);
    }
  }
  const results = contenders.map((c) => ({
    name: c.name,
    median: median(samples.get(c.name)!),
    samples: samples.get(c.name)!,
    cpu: median(cpus.get(c.name)!),
    faults: median(faults.get(c.name)!),
  }));
  const base = results[results.length - 1];
  console.log(`\n${title} (median of ${runs})`);
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(24)} ${r.median.toFixed(3)} s   ratio ${
        (r.median / base.median).toFixed(2)
      }×   cpu ${r.cpu.toFixed(3)} s   pf ${r.faults.toFixed(0)}` +
        `   [${r.samples.map((x) => x.toFixed(3)).join(" ")}]`,
    );
  }
  return results;
}

/** Run a command, failing loudly. */
export async function sh(cmd: string[], env?: Record<string, string>): Promise<string> {
  const r = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  if (!r.success) {
    throw new Error(`${cmd.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
  return new TextDecoder().decode(r.stdout);
}

export async function has(bin: string): Promise<boolean> {
  const r = await new Deno.Command("sh", { args: ["-c", `command -v ${bin}`], stdout: "null" })
    .output();
  return r.success;
}
