/**
 * Runtime micro-benchmark: create + start + wait + delete of `true` in a
 * busybox rootfs, with the built-in runtime and with runc, warm (in one
 * process) and cold (a fresh process per container, like a shim).
 *   deno run -A core/runtime/bench.ts [iterations]
 *   deno run -A core/runtime/bench.ts --once berth|berth-main|runc <base>   (one container)
 * "berth" starts init through init_entry.ts, "berth-main" through `main.ts init`.
 * @module
 */

import type { OciRuntime } from "./runtime.ts";
import { BuiltinRuntime } from "./builtin.ts";
import { ExternalRuntime } from "./external.ts";
import { berthArgv, CGROUP_PARENT, makeBusyboxRootfs, writeBundle } from "./testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";

function make(name: string, base: string): OciRuntime {
  if (name === "berth") return new BuiltinRuntime({ root: `${base}/state` });
  if (name === "berth-main") {
    return new BuiltinRuntime({ root: `${base}/state`, berthArgv: berthArgv() });
  }
  return new ExternalRuntime({ name: "runc", root: `${base}/runc` });
}

async function one(rt: OciRuntime, base: string, id: string): Promise<[number, number, number]> {
  const t0 = performance.now();
  const p = await rt.create(id, `${base}/bundle`, { stdio: { kind: "null" } });
  const t1 = performance.now();
  await rt.start(id);
  const st = await p.status;
  const t2 = performance.now();
  await rt.delete(id);
  const t3 = performance.now();
  if (st.code !== 0) throw new Error(`exit ${st.code}`);
  return [t1 - t0, t2 - t1, t3 - t2];
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

if (import.meta.main) {
  setSubreaper();
  if (Deno.args[0] === "--once") {
    const [, name, base] = Deno.args;
    await one(make(name, base), base, `once${Deno.pid}`);
  } else {
    const n = Number(Deno.args[0] ?? 20);
    const base = await Deno.makeTempDir({ prefix: "berth-bench-" });
    try {
      await makeBusyboxRootfs(`${base}/rootfs`);
      await writeBundle(`${base}/bundle`, "bench", `${base}/rootfs`, { cmd: ["true"] });
      for (const name of ["berth", "berth-main", "runc"]) {
        const rt = make(name, base);
        await one(rt, base, `warm-${name}`);
        const r: number[][] = [];
        for (let i = 0; i < n; i++) r.push(await one(rt, base, `b${i}-${name}`));
        const col = (k: number) => median(r.map((x) => x[k])).toFixed(1);
        const tot = median(r.map((x) => x[0] + x[1] + x[2])).toFixed(1);
        console.log(
          `${name}: create ${col(0)} ms, start+exit ${col(1)} ms, delete ${
            col(2)
          } ms, total ${tot} ms (median of ${n}, warm)`,
        );
      }
      console.log(
        `cold: hyperfine -N 'deno run -A --no-check ${import.meta.filename} --once berth ${base}'`,
      );
      if (Deno.args[1] === "--keep") Deno.exit(0);
    } finally {
      if (Deno.args[1] !== "--keep") {
        for (
          const h of [
            "cpu",
            "cpuacct",
            "cpuset",
            "memory",
            "devices",
            "freezer",
            "blkio",
            "pids",
            "systemd",
            "unified",
          ]
        ) {
          await Deno.remove(`/sys/fs/cgroup/${h}${CGROUP_PARENT}`).catch(() => {});
        }
        await Deno.remove(base, { recursive: true });
      }
    }
  }
}
