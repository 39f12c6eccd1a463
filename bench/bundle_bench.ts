/**
 * The shipped single file (tools/bundle.ts) against `deno run main.ts`, side
 * by side in one run (issue 15), medians:
 *  1. client start-up: `version` against a missing socket; docker CLI too.
 *  2. shim PSS (smaps_rollup) with 10 containers running on each of two
 *     daemons (one per form, both up), and an idle bare `deno`.
 *  3. `ps` with 100 running (daemon from the single file): its own client,
 *     the `deno run` client, the docker CLI against berth, and Docker 20.10
 *     with 100 running — so client and daemon costs can be told apart.
 *  Floors, in 1 and 3: `deno run` of an empty file, and the single file's
 *  loader with nothing to run (what every berth client pays before its code).
 *
 *   deno run -A bench/bundle_bench.ts [runs] [--no-docker]
 * @module
 */
import { compare, median, sh } from "./harness.ts";
import { bundle } from "../tools/bundle.ts";
import { bundleArgvFor, sourceArgvFor } from "../tools/self_cmd.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { startDaemon, type TestDaemon } from "../tests/fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "../tests/fixtures/dockerd.ts";
import { shimPids } from "../tests/containers_helpers.ts";

const runs = Number(Deno.args.find((a) => !a.startsWith("--")) ?? 11);
const noDocker = Deno.args.includes("--no-docker");
const N = 100;

const tmp = await Deno.makeTempDir({ prefix: "berth-bundle-bench-" });
const file = `${tmp}/berth.js`;
await bundle(file); // before XDG_CACHE_HOME moves (deno bundle's npm cache is under it)
Deno.env.set("XDG_CACHE_HOME", `${tmp}/cache`);
const bcmd = (a: string[]) => bundleArgvFor(file, a);
// Floors: what any Deno client costs (an empty file), and what the single file
// costs before it runs anything of berth's (its loader, payload and all, with
// the final import of the extracted entry cut off).
await Deno.writeTextFile(`${tmp}/empty.js`, "\n");
const src = await Deno.readTextFile(file);
// (its payload comment, after the import, stays: reading it is part of the floor)
const imp = /\nawait import\([^\n]*\n/.exec(src);
if (!imp) throw new Error("the single file's loader changed shape: no final import");
await Deno.writeTextFile(`${tmp}/loader-only.js`, src.replace(imp[0], "\n"));
const floors = (ok1: (cmd: string[]) => () => Promise<void>) => [
  { name: "deno, empty file", run: ok1(bundleArgvFor(`${tmp}/empty.js`, [])) },
  { name: "single file, loader only", run: ok1(bundleArgvFor(`${tmp}/loader-only.js`, [])) },
];

const lines: string[] = [];
const record = (s: string) => {
  console.log(s);
  lines.push(s);
};
const MB = (b: number) => (b / 1e6).toFixed(1) + " MB";
async function pss(pid: number): Promise<number> {
  const t = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`);
  return Number(/^Pss:\s+(\d+) kB/m.exec(t)?.[1] ?? 0) * 1024;
}
async function removeAll(t: TestDaemon) {
  const ids = (await t.berth(["ps", "-aq"])).stdout.trim().split("\n").filter(Boolean);
  for (let i = 0; i < ids.length; i += 50) await t.berth(["rm", "-f", ...ids.slice(i, i + 50)]);
}

const img = await busyboxArchive();
const berthCmd = sourceArgvFor; // this bench compares the forms itself (not BERTH_SELF)
const dSrc = await startDaemon({ berthCmd });
const dBun = await startDaemon({ berthCmd: bcmd });
const dk = !noDocker && (await dockerdAvailable()) ? await startDockerd() : undefined;
const docker = (a: string[], host = dk!.host) => sh(["docker", ...a], { DOCKER_HOST: host });
try {
  // 1. client start-up
  const missing = `unix://${tmp}/none.sock`;
  const ok1 = (cmd: string[]) => async () => {
    await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "null", stderr: "null" })
      .output();
  };
  await ok1(bcmd(["-H", missing, "version"]))(); // extract once
  const c = await compare("client start-up: version, missing socket", [
    ...(dk ? [{ name: "docker CLI", run: ok1(["docker", "-H", missing, "version"]) }] : []),
    ...floors(ok1),
    { name: "single file", run: ok1(bcmd(["-H", missing, "version"])) },
    { name: "deno run main.ts", run: ok1(berthCmd(["-H", missing, "version"])) },
  ], runs);
  const [cSrc, cBun] = [c[c.length - 1], c[c.length - 2]];
  record(
    `client start-up (version, no daemon): single file ${cBun.median.toFixed(3)} s, deno run ${
      cSrc.median.toFixed(3)
    } s, ratio ${(cBun.median / cSrc.median).toFixed(2)}× (goal ≤ 1.0×); CPU ${
      cBun.cpu.toFixed(3)
    } vs ${cSrc.cpu.toFixed(3)} s (${
      (cBun.cpu / cSrc.cpu).toFixed(2)
    }×); page faults ${cBun.faults} vs ${cSrc.faults} (${
      (cBun.faults / cSrc.faults).toFixed(2)
    }×)` +
      (dk
        ? `; docker CLI ${c[0].median.toFixed(3)} s, CPU ${c[0].cpu.toFixed(3)} s, ${
          c[0].faults
        } page faults`
        : ""),
  );

  // 2. shim PSS, 10 running on each daemon
  for (const d of [dSrc, dBun]) {
    await d.berth(["load", "-q", "-i", img.path]);
    for (let i = 0; i < 10; i++) {
      await d.berth(["run", "-d", "--network", "none", "busybox", "sleep", "100000"]);
    }
  }
  const idle = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "-"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const w = idle.stdin.getWriter();
  await w.write(new TextEncoder().encode("setInterval(() => {}, 1 << 30);\n"));
  await w.close();
  await new Promise((r) => setTimeout(r, 3000));
  const shimPss = async (d: TestDaemon) =>
    median(await Promise.all((await shimPids(d.execRoot)).map(pss)));
  const [pSrc, pBun, pDeno] = [await shimPss(dSrc), await shimPss(dBun), await pss(idle.pid)];
  idle.kill("SIGKILL");
  await idle.status;
  record(
    `shim PSS (median, 10 running each): single file ${MB(pBun)}, deno run ${MB(pSrc)}, ratio ${
      (pBun / pSrc).toFixed(2)
    }× (goal ≤ 1.0×); idle bare deno ${MB(pDeno)}`,
  );
  const rss = async (pid: number) =>
    Number(/^VmRSS:\s+(\d+) kB/m.exec(await Deno.readTextFile(`/proc/${pid}/status`))?.[1]) * 1024;
  record(
    `daemon RSS with 10 running: single file ${MB(await rss(dBun.proc.pid))}, deno run ${
      MB(await rss(dSrc.proc.pid))
    }`,
  );
  await removeAll(dSrc);
  await dSrc.stop();

  // 3. ps with 100 running
  for (let i = 10; i < N; i++) {
    await dBun.berth(["run", "-d", "--network", "none", "busybox", "sleep", "100000"]);
  }
  if (dk) {
    await docker(["load", "-q", "-i", img.path]);
    for (let i = 0; i < N; i++) {
      await docker(["run", "-d", "--network", "none", "busybox", "sleep", "100000"]);
    }
  }
  const ps = await compare(`ps with ${N} running`, [
    ...(dk
      ? [
        { name: "docker 20.10 ps", run: async () => void await docker(["ps"]) },
        { name: "docker CLI → berth", run: async () => void await docker(["ps"], dBun.host) },
      ]
      : []),
    ...floors(ok1),
    { name: "deno run client", run: async () => void await sh(berthCmd(["-H", dBun.host, "ps"])) },
    { name: "single file ps", run: async () => void await sh(bcmd(["-H", dBun.host, "ps"])) },
  ], runs);
  const m = (n: string) => ps.find((r) => r.name === n)?.median ?? NaN;
  const cpu = (n: string) => ps.find((r) => r.name === n)?.cpu ?? NaN;
  const pf = (n: string) => ps.find((r) => r.name === n)?.faults ?? NaN;
  record(
    `ps with ${N} running (single-file daemon): single file ${
      m("single file ps").toFixed(3)
    } s, deno run client ${m("deno run client").toFixed(3)} s` +
      (dk
        ? `, docker CLI → berth ${m("docker CLI → berth").toFixed(3)} s; Docker 20.10 ${
          m("docker 20.10 ps").toFixed(3)
        } s, ratio ${(m("single file ps") / m("docker 20.10 ps")).toFixed(2)}× (goal ≤ 1.0×)`
        : ""),
  );
  record(
    `ps CPU of the client process (user+sys, median): single file ${
      cpu("single file ps").toFixed(3)
    } s, deno run ${cpu("deno run client").toFixed(3)} s, deno empty file ${
      cpu("deno, empty file").toFixed(3)
    } s, loader alone ${cpu("single file, loader only").toFixed(3)} s` +
      (dk
        ? `; docker CLI ${cpu("docker 20.10 ps").toFixed(3)} s (ratio ${
          (cpu("single file ps") / cpu("docker 20.10 ps")).toFixed(2)
        }×)`
        : ""),
  );
  record(
    `ps page faults of the client process (median): single file ${pf("single file ps")}, deno run ${
      pf("deno run client")
    }, deno empty file ${pf("deno, empty file")}, loader alone ${pf("single file, loader only")}` +
      (dk ? `; docker CLI ${pf("docker 20.10 ps")}` : ""),
  );
  const dkPs = m("docker 20.10 ps");
  record(
    `floors in the same minute: deno running an empty file ${
      m("deno, empty file").toFixed(3)
    } s, the single file's loader alone ${m("single file, loader only").toFixed(3)} s` +
      (dk
        ? ` (${(m("deno, empty file") / dkPs).toFixed(2)}× and ${
          (m("single file, loader only") / dkPs).toFixed(2)
        }× Docker's whole ps)`
        : ""),
  );
} finally {
  await removeAll(dBun).catch(() => {});
  await dBun.stop();
  await dSrc.stop().catch(() => {});
  if (dk) {
    const ids = (await docker(["ps", "-aq"]).catch(() => "")).trim().split("\n").filter(Boolean);
    for (let i = 0; i < ids.length; i += 50) {
      await docker(["rm", "-f", ...ids.slice(i, i + 50)]).catch(() => {});
    }
    await dk.stop();
  }
  await Deno.remove(tmp, { recursive: true });
  console.log("\n" + lines.join("\n"));
}
