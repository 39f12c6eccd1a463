/**
 * What seccomp costs the built-in runtime: container create+start+exit+delete
 * with Docker's default profile vs. unconfined (interleaved, warm caller),
 * the caller's prepare step in a fresh process (cache miss / hit), and the
 * per-system-call cost inside the container (dd with 1-byte blocks).
 *   deno run -A core/runtime/seccomp_bench.ts [iterations]
 * @module
 */

import { BuiltinRuntime } from "./builtin.ts";
import { CGROUP_PARENT, makeBusyboxRootfs, readAll, writeBundle } from "./testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";
import { layout } from "./cgroups.ts";

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function once(rt: BuiltinRuntime, bundle: string, id: string): Promise<[number, string]> {
  const t0 = performance.now();
  const p = await rt.create(id, bundle, { stdio: { kind: "pipes", stdin: false } });
  const out = readAll(p.stderr);
  readAll(p.stdout);
  await rt.start(id);
  const st = await p.status;
  const t = performance.now() - t0;
  await rt.delete(id);
  if (st.code !== 0) throw new Error(`exit ${st.code}: ${await out}`);
  return [t, await out];
}

/** A fresh Deno process that runs prepareSeccomp once and prints its time. */
async function coldPrepare(bundle: string, base: string): Promise<number> {
  const src = `
    import { prepareSeccomp } from "${new URL("./seccomp_prepare.ts", import.meta.url).href}";
    const spec = JSON.parse(Deno.readTextFileSync("${bundle}/config.json"));
    const t = performance.now();
    prepareSeccomp(spec, { bundle: "${bundle}", stateDir: "${base}", cacheDir: "${base}/cache" });
    console.log(performance.now() - t);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", src],
    stdout: "piped",
  }).output();
  return Number(new TextDecoder().decode(out.stdout));
}

if (import.meta.main) {
  setSubreaper();
  const n = Number(Deno.args[0] ?? 30);
  const base = await Deno.makeTempDir({ prefix: "berth-seccomp-bench-" });
  try {
    const rootfs = `${base}/rootfs`;
    await makeBusyboxRootfs(rootfs);
    const on = `${base}/on`, off = `${base}/off`;
    await writeBundle(on, "on", rootfs, { cmd: ["true"] });
    const unconfined = { SecurityOpt: ["seccomp=unconfined"] };
    await writeBundle(off, "off", rootfs, { cmd: ["true"], host: unconfined });
    const rt = new BuiltinRuntime({ root: `${base}/state` });
    const times: Record<string, number[]> = { on: [], off: [] };
    await once(rt, on, "warm-on");
    await once(rt, off, "warm-off");
    for (let i = 0; i < n; i++) {
      for (const [k, b] of [["on", on], ["off", off]]) {
        times[k].push((await once(rt, b, `${k}${i}`))[0]);
      }
    }
    console.log(
      `create+start+exit, warm caller, median of ${n}: default profile ${
        median(times.on).toFixed(1)
      } ms, unconfined ${median(times.off).toFixed(1)} ms`,
    );
    const miss: number[] = [], hit: number[] = [];
    for (let i = 0; i < 7; i++) {
      await Deno.remove(`${base}/cache`, { recursive: true }).catch(() => {});
      miss.push(await coldPrepare(on, base));
      hit.push(await coldPrepare(on, base));
    }
    console.log(
      `prepareSeccomp in a fresh process: compile ${median(miss).toFixed(2)} ms, cached ${
        median(hit).toFixed(2)
      } ms`,
    );
    const dd = ["time", "dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=2000000"];
    for (const [k, host] of [["default profile", {}], ["unconfined", unconfined]] as const) {
      await writeBundle(`${base}/dd`, "dd", rootfs, { cmd: dd, host });
      const r: number[] = [];
      for (let i = 0; i < 5; i++) {
        const [, err] = await once(rt, `${base}/dd`, `dd${i}`);
        const m = /real\s+(?:(\d+)m\s*)?([\d.]+)s/.exec(err);
        r.push(m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : NaN);
      }
      console.log(
        `dd bs=1 count=2000000 (4M syscalls), ${k}: ${median(r).toFixed(2)} s ` +
          `(${(median(r) * 1e9 / 4e6).toFixed(0)} ns per syscall)`,
      );
    }
  } finally {
    for (const h of layout().hierarchies) {
      await Deno.remove(`${h.mountpoint}${CGROUP_PARENT}`).catch(() => {});
    }
    await Deno.remove(base, { recursive: true });
  }
}
