/**
 * What a CRI pod costs, side by side with containerd 1.6 (Debian's
 * `containerd`, its CRI plugin, runc v2 shims): the latency of
 * RunPodSandbox + CreateContainer + StartContainer (a busybox `sleep`),
 * and the memory of a running pod of 3 containers — the daemon's growth
 * (RSS, from an idle daemon that has already run and removed a pod) plus
 * its shims' PSS (the processes between the daemon and the pod's
 * processes; the pause and the containers' own processes are not counted).
 *
 *   deno run -A bench/cri_pods.ts [runs=5] [--no-containerd] [--memory-only] [--pods=N]
 *
 * `--pods=N` adds RunPodSandbox alone: N pods one after the other, then N
 * at once (the figures of docs/cri.md "What a pod costs").
 *
 * Root; CNI plugins in /usr/lib/cni (containernetworking-plugins). Both
 * runtimes get the same things: a bridge + host-local + portmap network of
 * their own, the same grpc-js client (tests/fixtures/cri.ts), the busybox
 * image and a pause stand-in (berth's pause ELF as its only file,
 * tests/fixtures/pause_image.ts) served by `berth registry` on loopback —
 * containerd's `sandbox_image`, pulled through an insecure mirror. berth
 * runs with its defaults (its own pause, no image). The latency runs
 * alternate between the two.
 *
 * containerd runs privately: --config, root, state and socket under
 * /tmp/crimisc-ctd-*, stream server on a random loopback port, pods in a
 * cgroup parent of their own. Everything it made is removed at the end
 * (pods through the CRI, so CNI DEL; then its mounts, its cgroups, the
 * bridge, the lease dir); only the containerd started here is stopped.
 */
import { startDaemon, type TestDaemon } from "../tests/fixtures/daemon.ts";
import { type CriClients, criClients } from "../tests/fixtures/cri.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { pushPauseImage } from "../tests/fixtures/pause_image.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";
import { mountsUnder } from "../modes/daemon/containers/mount_linux.ts";
import { median } from "./harness.ts";

const flags = Deno.args.filter((a) => a.startsWith("--"));
const runs = Number(Deno.args.find((a) => !a.startsWith("--")) ?? 5);
const withContainerd = !flags.includes("--no-containerd");
const memoryOnly = flags.includes("--memory-only");
const podsN = Number(flags.find((f) => f.startsWith("--pods="))?.slice(7) ?? 0);
const CNI_BIN = "/usr/lib/cni";

async function sh(cmd: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout).trim(), err: d.decode(r.stderr).trim() };
}

const kb = (pid: number, file: string, key: string) => {
  try {
    const t = Deno.readTextFileSync(`/proc/${pid}/${file}`);
    return Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(t)?.[1] ?? 0);
  } catch {
    return 0; // gone
  }
};
const rssMb = (pid: number) => kb(pid, "status", "VmRSS") / 1024;
const pssMb = (pid: number) => kb(pid, "smaps_rollup", "Pss") / 1024;
const ppid = (pid: number) => {
  try {
    return Number(Deno.readTextFileSync(`/proc/${pid}/stat`).replace(/^.*\) /s, "").split(" ")[1]);
  } catch {
    return 0;
  }
};
const cmdline = (pid: number) => {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return "";
  }
};

/** The shims of these workload pids: their ancestors below the daemon (or init). */
function shimsOf(pids: number[], daemonPid: number, isShim: (cmd: string) => boolean): number[] {
  const out = new Set<number>();
  for (let p of pids) {
    while (p > 1 && p !== daemonPid) {
      if (isShim(cmdline(p))) {
        out.add(p);
        break;
      }
      p = ppid(p);
    }
  }
  return [...out];
}

/** A bridge + host-local + portmap network of its own (as tests/cri_pods_test.ts). */
async function cniConf(base: string, bridge: string, subnet: string) {
  await Deno.mkdir(`${base}/net.d`, { recursive: true });
  await Deno.writeTextFile(
    `${base}/net.d/10-${bridge}.conflist`,
    JSON.stringify({
      cniVersion: "1.0.0",
      name: `bench-${bridge}`,
      plugins: [
        {
          type: "bridge",
          bridge,
          isGateway: true,
          ipMasq: false,
          ipam: { type: "host-local", ranges: [[{ subnet }]], dataDir: `${base}/ipam` },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    }),
  );
  return `${base}/net.d`;
}

interface Runtime {
  name: string;
  cli: CriClients;
  daemonPid: number;
  podExtra: Record<string, unknown>;
  isShim(cmd: string): boolean;
  close(): Promise<void>;
}

async function startBerth(): Promise<Runtime & { d: TestDaemon }> {
  const base = await Deno.makeTempDir({ prefix: "crimisc-berth-" });
  const bridge = `bb${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0")}`;
  const conf = await cniConf(base, bridge, `10.236.${Math.floor(Math.random() * 250)}.0/24`);
  const d = await startDaemon({ args: ["--cni-conf-dir", conf, "--cni-bin-dir", CNI_BIN] });
  const cli = criClients(`${d.execRoot}/cri.sock`);
  return {
    name: "berth",
    d,
    cli,
    daemonPid: d.proc.pid,
    podExtra: {},
    isShim: (c) => c.includes("shim/entry.ts") || / shim( |$)/.test(c),
    async close() {
      cli.close();
      await d.stop();
      await sh(["ip", "link", "del", bridge]);
      await Deno.remove(base, { recursive: true });
    },
  };
}

async function startContainerd(image: string, pause: string, reg: string): Promise<Runtime> {
  const base = await Deno.makeTempDir({ prefix: "crimisc-ctd-" });
  const bridge = `bk${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0")}`;
  const conf = await cniConf(base, bridge, `10.235.${Math.floor(Math.random() * 250)}.0/24`);
  const sock = `${base}/containerd.sock`;
  const cgroupParent = `/${base.slice(base.lastIndexOf("/") + 1)}`;
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  await Deno.writeTextFile(
    `${base}/config.toml`,
    `version = 2
root = "${base}/root"
state = "${base}/state"
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${base}/containerd.sock.ttrpc"
[debug]
  level = "${Deno.env.get("CTD_LEVEL") ?? "warn"}"
[${cri}]
  sandbox_image = "${pause}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # this machine's root has no CAP_SYS_RESOURCE: the sandbox's -998 would fail runc's write
  restrict_oom_score_adj = true
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
  [${cri}.cni]
    bin_dir = "${CNI_BIN}"
    conf_dir = "${conf}"
  [${cri}.registry.mirrors."${reg}"]
    endpoint = ["http://${reg}"]
`,
  );
  const proc = new Deno.Command("containerd", {
    args: ["--config", `${base}/config.toml`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logFile = await Deno.open(`${base}/containerd.err`, { write: true, create: true });
  const logging = proc.stderr.pipeTo(logFile.writable).catch(() => {/* closed at exit */});
  const cli = criClients(sock, 300_000);
  const end = Date.now() + 60_000;
  for (;;) {
    try {
      await cli.rt.Version({});
      break;
    } catch (e) {
      if (Date.now() > end) throw new Error(`containerd did not answer: ${e}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  await cli.im.PullImage({ image: { image } });
  return {
    name: "containerd",
    cli,
    daemonPid: proc.pid,
    podExtra: { linux: { cgroup_parent: cgroupParent } },
    isShim: (c) => c.includes("containerd-shim"),
    async close() {
      // pods through the CRI first: CNI DEL, netns, shims
      await removeAll(cli);
      cli.close();
      try {
        proc.kill("SIGTERM");
      } catch { /* already gone */ }
      const done = await Promise.race([
        proc.status,
        new Promise((r) => setTimeout(() => r(null), 20_000)),
      ]);
      if (!done) proc.kill("SIGKILL");
      await proc.status;
      await logging;
      // what containerd leaves: snapshot/shm/rootfs mounts under root and state, its cgroups
      for (const m of [...await mountsUnder(base)]) {
        const r = await sh(["umount", "-l", m]);
        if (r.code !== 0) console.error(`umount ${m}: ${r.err}`);
      }
      for await (const ctl of Deno.readDir("/sys/fs/cgroup")) {
        await rmCgroup(`/sys/fs/cgroup/${ctl.name}${cgroupParent}`);
      }
      await rmCgroup(`/sys/fs/cgroup${cgroupParent}`);
      await sh(["ip", "link", "del", bridge]);
      const err = await Deno.readTextFile(`${base}/containerd.err`).catch(() => "");
      if (Deno.env.get("CTD_LOG")) {
        console.error(err.split("\n").slice(-Number(Deno.env.get("CTD_LOG"))).join("\n"));
      }
      await Deno.remove(base, { recursive: true });
    },
  };
}

/** rmdir a cgroup tree, leaves first (nothing runs in it any more). */
async function rmCgroup(dir: string): Promise<void> {
  let st;
  try {
    st = await Deno.lstat(dir);
  } catch {
    return; // not there (or not this controller)
  }
  if (!st.isDirectory) return;
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) await rmCgroup(`${dir}/${e.name}`);
  await Deno.remove(dir).catch((e) => console.error(`rmdir ${dir}: ${e}`));
}

async function removeAll(cli: CriClients): Promise<void> {
  const { items } = await cli.rt.ListPodSandbox({});
  for (const p of items) {
    await cli.rt.StopPodSandbox({ pod_sandbox_id: p.id });
    await cli.rt.RemovePodSandbox({ pod_sandbox_id: p.id });
  }
}

let seq = 0;
function podCfg(rt: Runtime, name: string) {
  const i = seq++;
  return {
    metadata: { name: `${name}${i}`, uid: `uid-${name}${i}`, namespace: "bench" },
    hostname: `${name}${i}`,
    log_directory: "",
    ...rt.podExtra,
  };
}

/** RunPodSandbox + CreateContainer + StartContainer: the times of each (ms). */
async function oneRun(rt: Runtime, image: string): Promise<number[]> {
  const config = podCfg(rt, "lat");
  const t0 = performance.now();
  const { pod_sandbox_id: pod } = await rt.cli.rt.RunPodSandbox({ config });
  const t1 = performance.now();
  const { container_id: c } = await rt.cli.rt.CreateContainer({
    pod_sandbox_id: pod,
    sandbox_config: config,
    config: { metadata: { name: "c" }, image: { image }, command: ["sleep", "3600"] },
  });
  const t2 = performance.now();
  await rt.cli.rt.StartContainer({ container_id: c });
  const t3 = performance.now();
  await rt.cli.rt.StopPodSandbox({ pod_sandbox_id: pod });
  await rt.cli.rt.RemovePodSandbox({ pod_sandbox_id: pod });
  return [t1 - t0, t2 - t1, t3 - t2, t3 - t0];
}

/** RunPodSandbox alone: n pods one after the other, then n at once (ms). */
async function podsOnly(rt: Runtime, n: number): Promise<{ seq: number[]; par: number }> {
  const seq: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await rt.cli.rt.RunPodSandbox({ config: podCfg(rt, "seq") });
    seq.push(performance.now() - t0);
  }
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, () => rt.cli.rt.RunPodSandbox({ config: podCfg(rt, "par") })),
  );
  const par = performance.now() - t0;
  await removeAll(rt.cli);
  return { seq, par };
}

/** A running pod of 3 containers: the daemon's growth and the shims' PSS (MB). */
async function memory(rt: Runtime, image: string) {
  await oneRun(rt, image); // warm: the first pod's lazy loads are not the pod's cost
  await new Promise((r) => setTimeout(r, 3000));
  const before = rssMb(rt.daemonPid), beforePss = pssMb(rt.daemonPid);
  const config = podCfg(rt, "mem");
  const { pod_sandbox_id: pod } = await rt.cli.rt.RunPodSandbox({ config });
  const ids: string[] = [];
  for (const n of ["a", "b", "c"]) {
    const { container_id } = await rt.cli.rt.CreateContainer({
      pod_sandbox_id: pod,
      sandbox_config: config,
      config: { metadata: { name: n }, image: { image }, command: ["sleep", "3600"] },
    });
    await rt.cli.rt.StartContainer({ container_id });
    ids.push(container_id);
  }
  await new Promise((r) => setTimeout(r, 5000)); // settle (GC, shims' start-up)
  const pids: number[] = [];
  const ps = await rt.cli.rt.PodSandboxStatus({ pod_sandbox_id: pod, verbose: true });
  pids.push(JSON.parse(ps.info.info).pid);
  for (const id of ids) {
    const s = await rt.cli.rt.ContainerStatus({ container_id: id, verbose: true });
    pids.push(JSON.parse(s.info.info).pid);
  }
  const shims = shimsOf(pids, rt.daemonPid, (c) => rt.isShim(c));
  const after = rssMb(rt.daemonPid), afterPss = pssMb(rt.daemonPid);
  const shimPss = shims.reduce((n, p) => n + pssMb(p), 0);
  const shimRss = shims.reduce((n, p) => n + rssMb(p), 0);
  await rt.cli.rt.StopPodSandbox({ pod_sandbox_id: pod });
  await rt.cli.rt.RemovePodSandbox({ pod_sandbox_id: pod });
  return {
    daemonBefore: before,
    daemonAfter: after,
    daemonPssGrowth: afterPss - beforePss,
    shims: shims.length,
    shimPss,
    shimRss,
  };
}

const reg = await startTestRegistry();
const bb = await busyboxArchive();
const rts: Runtime[] = [];
const load0 = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
try {
  // the images: busybox (pushed by a throwaway berth daemon's client) and the pause stand-in
  const image = `${reg.host}/bench/busybox:1`;
  const pause = await pushPauseImage(reg.host, "bench/pause", "3.9");
  rts.push(await startBerth());
  const berth = rts[0] as Runtime & { d: TestDaemon };
  // busybox into the registry through berth's Engine API (load, tag, push), then into its CRI
  await berth.d.berth(["load", "-q", "-i", bb.path]);
  await berth.d.berth(["tag", "busybox", image]);
  const pushed = await berth.d.berth(["push", image]);
  if (pushed.code !== 0) throw new Error(`push: ${pushed.stderr}`);
  await berth.cli.im.PullImage({ image: { image } });
  if (withContainerd) rts.push(await startContainerd(image, pause.ref, reg.host));
  console.log(`load average at start: ${load0}; runs: ${runs}`);

  if (!memoryOnly) {
    const samples = new Map<string, number[][]>(rts.map((r) => [r.name, []]));
    for (const rt of rts) await oneRun(rt, image); // warm-up, not counted
    for (let i = 0; i < runs; i++) {
      for (const rt of rts) samples.get(rt.name)!.push(await oneRun(rt, image));
    }
    const med: Record<string, number[]> = {};
    for (const [name, s] of samples) {
      med[name] = [0, 1, 2, 3].map((k) => median(s.map((x) => x[k])));
      console.log(
        `${name}: runp+create+start median ${med[name][3].toFixed(0)} ms ` +
          `(runp ${med[name][0].toFixed(0)}, create ${med[name][1].toFixed(0)}, start ${
            med[name][2].toFixed(0)
          }); samples ${s.map((x) => x[3].toFixed(0)).join(" ")}; start ${
            s.map((x) => x[2].toFixed(0)).join(" ")
          }`,
      );
    }
    if (med.containerd) {
      console.log(`ratio berth/containerd: ${(med.berth[3] / med.containerd[3]).toFixed(2)}×`);
    }
  }

  if (podsN) {
    for (const rt of rts) {
      const r = await podsOnly(rt, podsN);
      console.log(
        `${rt.name}: RunPodSandbox one after the other ${
          r.seq.map((x) => x.toFixed(0)).join(" ")
        } ms; ${podsN} at once ${r.par.toFixed(0)} ms`,
      );
    }
  }

  const mem: Record<string, Awaited<ReturnType<typeof memory>>> = {};
  for (const rt of rts) {
    const m = mem[rt.name] = await memory(rt, image);
    const grow = m.daemonAfter - m.daemonBefore;
    console.log(
      `${rt.name}: 3-container pod: ${m.shims} shim(s) RSS ${m.shimRss.toFixed(1)} MB, PSS ${
        m.shimPss.toFixed(1)
      } MB; daemon ${m.daemonBefore.toFixed(1)} MB RSS, +${grow.toFixed(1)} MB RSS, +${
        m.daemonPssGrowth.toFixed(1)
      } MB PSS; total RSS ${(m.shimRss + grow).toFixed(1)} MB, PSS ${
        (m.shimPss + m.daemonPssGrowth).toFixed(1)
      } MB`,
    );
  }
  if (mem.containerd) {
    const tot = (m: typeof mem.berth) => m.daemonPssGrowth + m.shimPss;
    console.log(
      `ratio berth/containerd: shims' PSS ${
        (mem.berth.shimPss / mem.containerd.shimPss).toFixed(1)
      }×, ` +
        `daemon growth + shims (PSS) ${(tot(mem.berth) / tot(mem.containerd)).toFixed(1)}×`,
    );
  }
  console.log(
    `load average at end: ${
      Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")
    }`,
  );
} finally {
  for (const rt of rts.reverse()) {
    await rt.close().catch((e) => console.error(`closing ${rt.name}: ${e}`));
  }
  await reg.close();
}
