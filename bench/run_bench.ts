/**
 * Container figures (issue 3), side by side in one run, medians:
 *  1. `run --rm IMG true --network none`: berth's own client vs Podman 4.3
 *     (runc) vs Docker 20.10 (a throwaway dockerd) — goal ≤ 0.8× Podman.
 *  2. Shim PSS (smaps_rollup, 10 containers running) vs an idle bare `deno`
 *     — goal ≤ 1.1×; idle daemon RSS — goal ≤ 60 MB.
 *  3. 100 `run -d` one after another: total — goal ≤ 0.5× Docker.
 *  4. `ps` with 100 running — goal ≤ 0.1 s.
 *  5. daemon restart (kill -9) recovering 100 running containers — goal ≤ 2 s.
 *
 *   deno run -A bench/run_bench.ts [runs] [--no-docker] [--no-podman] [--runtime runc]
 * @module
 */
import { compare, has, median, sh } from "./harness.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { berthCmd, startDaemon, type TestDaemon } from "../tests/fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "../tests/fixtures/dockerd.ts";

const args = Deno.args.filter((a) => !a.startsWith("--"));
const runs = Number(args[0] ?? 11);
const noDocker = Deno.args.includes("--no-docker");
const noPodman = Deno.args.includes("--no-podman");
const rtIdx = Deno.args.indexOf("--runtime");
const runtime = rtIdx >= 0 ? Deno.args[rtIdx + 1] : "berth";
const N = 100;

const img = await busyboxArchive();
const d = await startDaemon({
  args: ["--add-runtime", "runc=/usr/bin/runc", "--default-runtime", runtime],
});
const berth = (a: string[]) => sh(berthCmd(["-H", d.host, ...a]));
await berth(["load", "-q", "-i", img.path]);
const dk = !noDocker && (await dockerdAvailable()) ? await startDockerd() : undefined;
const docker = (a: string[]) => sh(["docker", ...a], { DOCKER_HOST: dk!.host });
if (dk) await docker(["load", "-q", "-i", img.path]);
const pmBase = await Deno.makeTempDir({ prefix: "berth-bench-podman-" });
const podmanOk = !noPodman && await has("podman");
const podman = [
  "podman",
  "--root",
  `${pmBase}/root`,
  "--runroot",
  `${pmBase}/run`,
  "--cgroup-manager",
  "cgroupfs",
  "--runtime",
  "runc",
  "--events-backend",
  "file",
  "--storage-driver",
  "overlay",
];
if (podmanOk) await sh([...podman, "load", "-q", "-i", img.path]);

const lines: string[] = [];
const record = (s: string) => {
  console.log(s);
  lines.push(s);
};

async function pss(pid: number): Promise<number> {
  const t = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`);
  return Number(/^Pss:\s+(\d+) kB/m.exec(t)?.[1] ?? 0) * 1024;
}
async function rss(pid: number): Promise<number> {
  const t = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(t)?.[1] ?? 0) * 1024;
}
async function shimPids(dir: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = (await Deno.readTextFile(`/proc/${e.name}/cmdline`)).split("\0");
      const i = cmd.findIndex((a) => a === "shim" || /\/core\/shim\/entry\.[jt]s$/.test(a));
      if (i > 0 && cmd.slice(i + 1).some((a) => a.startsWith(dir))) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}
const MB = (b: number) => (b / 1e6).toFixed(1) + " MB";

async function removeAll(t: TestDaemon) {
  const ids = (await sh(berthCmd(["-H", t.host, "ps", "-aq"]))).trim().split("\n").filter(Boolean);
  for (let i = 0; i < ids.length; i += 50) {
    await sh(berthCmd(["-H", t.host, "rm", "-f", ...ids.slice(i, i + 50)])).catch(() => {});
  }
}

try {
  // 1. run --rm true
  const contenders = [{
    name: `berth run --rm (${runtime})`,
    run: async () => {
      await berth(["run", "--rm", "--network", "none", "busybox", "true"]);
    },
  }];
  if (dk) {
    contenders.push({
      name: "docker 20.10 run --rm",
      run: async () => {
        await docker(["run", "--rm", "--network", "none", "busybox", "true"]);
      },
    });
  }
  if (podmanOk) {
    contenders.push({
      name: "podman 4.3 run --rm",
      run: async () => {
        await sh([
          ...podman,
          "run",
          "--rm",
          "--network",
          "none",
          "--ulimit",
          "nofile=1024:1024",
          "--ulimit",
          "nproc=1024:1024",
          "busybox",
          "true",
        ]);
      },
    });
  }
  await berth(["run", "--rm", "--network", "none", "busybox", "true"]); // warm caches
  const r1 = await compare("run --rm busybox true --network none", contenders, runs);
  const pm = r1.find((r) => r.name.startsWith("podman"));
  if (pm) {
    record(
      `run --rm: berth ${r1[0].median.toFixed(3)} s, podman ${pm.median.toFixed(3)} s, ratio ${
        (r1[0].median / pm.median).toFixed(2)
      }× (goal ≤ 0.8×)`,
    );
  }
  const dr = r1.find((r) => r.name.startsWith("docker"));
  if (dr) {
    record(
      `run --rm: docker 20.10 ${dr.median.toFixed(3)} s, berth/docker ${
        (r1[0].median / dr.median).toFixed(2)
      }×`,
    );
  }

  // 2. memory
  const daemonRss = await rss(d.proc.pid);
  for (let i = 0; i < 10; i++) {
    await berth(["run", "-d", "--network", "none", "busybox", "sleep", "100000"]);
  }
  await new Promise((r) => setTimeout(r, 1500));
  const idle = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "-"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const w = idle.stdin.getWriter();
  await w.write(new TextEncoder().encode("setInterval(() => {}, 1 << 30);\n"));
  await w.close();
  await new Promise((r) => setTimeout(r, 1500));
  const pids = await shimPids(d.execRoot);
  const shimPss = median(await Promise.all(pids.slice(0, 10).map(pss)));
  const denoPss = await pss(idle.pid);
  idle.kill("SIGKILL");
  await idle.status;
  record(
    `shim PSS (median of ${Math.min(10, pids.length)}, 10 running): ${
      MB(shimPss)
    }; idle bare deno PSS: ${MB(denoPss)}; ratio ${(shimPss / denoPss).toFixed(2)}× (goal ≤ 1.1×)`,
  );
  record(
    `idle daemon RSS: ${MB(daemonRss)} (goal ≤ 60 MB); with 10 containers: ${
      MB(await rss(d.proc.pid))
    }`,
  );
  await removeAll(d);

  // 3. 100 run -d
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await berth(["run", "-d", "--network", "none", "busybox", "sleep", "100000"]);
  }
  const berth100 = (performance.now() - t0) / 1000;
  let docker100 = NaN;
  if (dk) {
    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      await docker(["run", "-d", "--network", "none", "busybox", "sleep", "100000"]);
    }
    docker100 = (performance.now() - t0) / 1000;
  }
  record(
    `${N}× run -d: berth ${berth100.toFixed(2)} s` +
      (dk
        ? `, docker 20.10 ${docker100.toFixed(2)} s, ratio ${
          (berth100 / docker100).toFixed(2)
        }× (goal ≤ 0.5×)`
        : ""),
  );
  record(`daemon RSS with ${N} containers: ${MB(await rss(d.proc.pid))}`);

  // 4. ps with 100 running
  const psRes = await compare(`ps with ${N} running`, [
    ...(dk ? [{ name: "docker 20.10 ps", run: async () => void await docker(["ps"]) }] : []),
    { name: "berth ps", run: async () => void await berth(["ps"]) },
  ], 5);
  record(
    `ps with ${N} running: berth ${psRes[psRes.length - 1].median.toFixed(3)} s (goal ≤ 0.1 s)` +
      (dk ? `, docker ${psRes[0].median.toFixed(3)} s` : ""),
  );

  // 5. kill -9 the daemon, restart, all 100 back
  await d.kill9();
  t0 = performance.now();
  await d.restart();
  for (;;) {
    const up = (await berth(["ps", "-q"])).trim().split("\n").filter(Boolean).length;
    if (up >= N) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const recovery = (performance.now() - t0) / 1000;
  const logText = await Deno.readTextFile(d.logPath);
  const m = [...logText.matchAll(/containers: recovered (\d+) in (\d+) ms/g)].pop();
  record(
    `daemon restart with ${N} running: all Up after ${
      recovery.toFixed(2)
    } s wall (incl. daemon start-up)` + (m ? `; recovery itself ${m[2]} ms for ${m[1]}` : "") +
      " (goal ≤ 2 s)",
  );
} finally {
  await removeAll(d).catch(() => {});
  if (dk) {
    const ids = (await docker(["ps", "-aq"]).catch(() => "")).trim().split("\n").filter(Boolean);
    for (let i = 0; i < ids.length; i += 50) {
      await docker(["rm", "-f", ...ids.slice(i, i + 50)]).catch(() => {});
    }
    await dk.stop();
  }
  await d.stop();
  if (podmanOk) {
    await sh([...podman, "rm", "-af"]).catch(() => {});
    await sh([...podman, "system", "reset", "-f"]).catch(() => {});
    await sh(["umount", "-R", pmBase]).catch(() => {});
    await Deno.remove(pmBase, { recursive: true }).catch(() => {});
  }
  console.log("\n" + lines.join("\n"));
}
