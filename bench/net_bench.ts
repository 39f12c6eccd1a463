/**
 * Networking figures, berth vs Docker 20.10 (its default bridge, iptables
 * and docker-proxy), same run, medians:
 *   1. `run --rm busybox true` on the default bridge (goal ≤ 0.5× Docker);
 *      also berth with --network none, to show what networking adds.
 *   2. host → container throughput through a published port on 127.0.0.1
 *      (goal ≥ 0.8× Docker): a TCP stream for a fixed time into
 *      `nc -l > /dev/null` in the container, bytes/s from the host's side.
 *   3. wrk against busybox httpd through the published port (requests/s;
 *      connection-heavy, so per-connection cost of the path shows).
 * Only loopback and the containers are contacted.
 *
 *   deno run -A bench/net_bench.ts [runs] [seconds]
 * @module
 */
import { compare, median } from "./harness.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { berthCmd, run, startDaemon } from "../tests/fixtures/daemon.ts";
import { startDockerd } from "../tests/fixtures/dockerd.ts";

const runs = Number(Deno.args[0] ?? 7);
const secs = Number(Deno.args[1] ?? 3);

function freePort(): number {
  const l = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

async function must(cmd: string[], env?: Record<string, string>): Promise<string> {
  const r = await run(cmd, { env });
  if (r.code !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Stream zeros to 127.0.0.1:port for `secs`; bytes per second. */
async function stream(port: number): Promise<number> {
  let conn: Deno.TcpConn | undefined;
  for (let i = 0; i < 50 && !conn; i++) {
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!conn) throw new Error(`cannot connect to ${port}`);
  const chunk = new Uint8Array(256 * 1024);
  let bytes = 0;
  const t0 = performance.now();
  const end = t0 + secs * 1000;
  while (performance.now() < end) bytes += await conn.write(chunk);
  const dt = (performance.now() - t0) / 1000;
  conn.close();
  return bytes / dt;
}

/** wrk for `secs` against 127.0.0.1:port; requests per second. */
async function wrk(port: number): Promise<number> {
  const out = await must(["wrk", "-t1", "-c8", `-d${secs}s`, `http://127.0.0.1:${port}/`]);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
}

const { path } = await busyboxArchive();
const execRoot = `/tmp/bn${crypto.randomUUID().slice(0, 4)}`; // short: sun_path limits
const d = await startDaemon({ args: ["--exec-root", execRoot] });
const dk = await startDockerd({ network: true }).catch((e) => {
  console.error(`no Docker to compare with: ${e.message}`);
  return undefined;
});
const berth = (a: string[]) => must(berthCmd(["-H", d.host, ...a]));
const docker = (a: string[]) => must(["docker", ...a], { DOCKER_HOST: dk!.host });
try {
  await berth(["load", "-q", "-i", path]);
  if (dk) await docker(["load", "-q", "-i", path]);
  // warm-up
  await berth(["run", "--rm", "busybox", "true"]);
  if (dk) await docker(["run", "--rm", "busybox", "true"]);

  const runC = [
    {
      name: "berth run --rm (none)",
      run: async () => void await berth(["run", "--rm", "--network", "none", "busybox", "true"]),
    },
    {
      name: "docker→berth run --rm",
      run: async () =>
        void await must(["docker", "run", "--rm", "busybox", "true"], { DOCKER_HOST: d.host }),
    },
    {
      name: "berth run --rm (bridge)",
      run: async () => void await berth(["run", "--rm", "busybox", "true"]),
    },
  ];
  if (dk) {
    runC.push({
      name: "docker 20.10 run --rm",
      run: async () => void await docker(["run", "--rm", "busybox", "true"]),
    });
  }
  await compare("run --rm busybox true, default bridge", runC, runs);

  const tput = async (who: "berth" | "docker", kind: "stream" | "wrk"): Promise<number> => {
    const hp = freePort();
    const cmd = kind === "stream"
      ? ["sh", "-c", "exec nc -l -p 5000 >/dev/null"]
      : ["sh", "-c", "mkdir /w && echo ok > /w/index.html && exec httpd -f -p 5000 -h /w"];
    const args = ["run", "-d", "-p", `127.0.0.1:${hp}:5000`, "busybox", ...cmd];
    const id = (who === "berth" ? await berth(args) : await docker(args)).trim();
    try {
      await new Promise((r) => setTimeout(r, 300));
      return kind === "stream" ? await stream(hp) : await wrk(hp);
    } finally {
      if (who === "berth") await berth(["rm", "-f", id]);
      else await docker(["rm", "-f", id]);
    }
  };
  for (const kind of ["stream", "wrk"] as const) {
    const res: Record<string, number[]> = { berth: [], docker: [] };
    for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
      res.berth.push(await tput("berth", kind));
      if (dk) res.docker.push(await tput("docker", kind));
    }
    const unit = kind === "stream" ? "MB/s" : "req/s";
    const f = (x: number) => kind === "stream" ? (x / 1e6).toFixed(0) : x.toFixed(0);
    const b = median(res.berth), o = dk ? median(res.docker) : NaN;
    console.log(`\nhost → container via 127.0.0.1 published port, ${kind} (${secs}s, median)`);
    console.log(`  berth (DNAT)            ${f(b)} ${unit}   [${res.berth.map(f).join(" ")}]`);
    if (dk) {
      console.log(`  docker 20.10 (proxy)    ${f(o)} ${unit}   [${res.docker.map(f).join(" ")}]`);
      console.log(`  ratio berth/docker      ${(b / o).toFixed(2)}×`);
    }
  }
} finally {
  await dk?.stop();
  const ids = (await run(berthCmd(["-H", d.host, "ps", "-aq"]))).stdout.trim().split("\n").filter((
    x,
  ) => x);
  if (ids.length) await run(berthCmd(["-H", d.host, "rm", "-f", ...ids]));
  await d.stop();
  await Deno.remove(execRoot, { recursive: true }).catch(() => {});
}
