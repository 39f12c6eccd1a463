/**
 * A throwaway Docker 20.10 daemon WITH its default networking (docker0
 * bridge, iptables NAT, docker-proxy), for the network benchmarks. The
 * bridge gets 172.31.254.1/24 so it does not clash with anything here. On
 * stop, everything Docker added to the host is removed again: docker0, the
 * DOCKER* chains and their jumps, and the FORWARD policy it set to DROP.
 * @module
 */
import { cleanupTree, run, type RunOptions, type RunResult } from "../tests/fixtures/daemon.ts";

export interface NetDockerd {
  host: string;
  docker(args: string[], opts?: RunOptions): Promise<RunResult>;
  stop(): Promise<void>;
}

async function sh(cmd: string[]): Promise<RunResult> {
  return await run(cmd);
}

function forwardPolicy(save: string): string {
  return /^:FORWARD (\w+)/m.exec(save)?.[1] ?? "ACCEPT";
}

/** Remove what dockerd added to iptables (chains DOCKER*, jumps into them). */
async function removeDockerRules(policy: string): Promise<void> {
  for (const t of ["nat", "filter"]) {
    const save = (await sh(["iptables-save", "-t", t])).stdout;
    for (const l of save.split("\n")) {
      if (!l.startsWith("-A ")) continue;
      const w = l.split(" ");
      if (w[1].startsWith("DOCKER")) continue;
      const docker = w.some((x) =>
        x.startsWith("DOCKER") || x === "docker0" || x.startsWith("172.31.254.")
      );
      if (docker) await sh(["iptables", "-t", t, "-D", ...w.slice(1)]);
    }
    const chains = [...save.matchAll(/^:(DOCKER[\w-]*)/gm)].map((m) => m[1]);
    for (const c of chains) await sh(["iptables", "-t", t, "-F", c]);
    for (const c of chains) await sh(["iptables", "-t", t, "-X", c]);
  }
  await sh(["iptables", "-P", "FORWARD", policy]);
}

export async function startNetDockerd(): Promise<NetDockerd> {
  const before = (await sh(["iptables-save", "-t", "filter"])).stdout;
  const policy = forwardPolicy(before);
  const base = await Deno.makeTempDir({ prefix: "berth-netdockerd-" });
  const host = `unix://${base}/docker.sock`;
  const ns = `berthnet${Deno.pid}`;
  const proc = new Deno.Command("/usr/sbin/dockerd", {
    args: [
      "--data-root",
      `${base}/root`,
      "--exec-root",
      `${base}/run`,
      "-H",
      host,
      "--pidfile",
      `${base}/docker.pid`,
      "--bip",
      "172.31.254.1/24",
      "--containerd-namespace",
      ns,
      "--containerd-plugins-namespace",
      `${ns}p`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const docker = (args: string[], o: RunOptions = {}) =>
    run(["docker", ...args], {
      ...o,
      env: { DOCKER_HOST: host, DOCKER_CONFIG: `${base}/cfg`, ...(o.env ?? {}) },
    });
  const stop = async () => {
    try {
      proc.kill("SIGTERM");
    } catch { /* gone */ }
    const t = setTimeout(() => {
      try {
        proc.kill("SIGKILL");
      } catch { /* gone */ }
    }, 15000);
    await proc.status;
    clearTimeout(t);
    await sh(["ip", "link", "del", "docker0"]);
    await removeDockerRules(policy);
    await cleanupTree(base);
  };
  const until = Date.now() + 30000;
  for (;;) {
    const r = await docker(["version", "--format", "{{.Server.Version}}"]);
    if (r.code === 0) break;
    if (Date.now() > until) {
      await stop();
      throw new Error("dockerd did not start");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { host, docker, stop };
}
