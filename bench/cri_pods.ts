/**
 * What a CRI pod costs: RunPodSandbox latency (sequential and N at once),
 * and the RSS of the daemon, of a pod's shim and of its pause. Usage:
 * `deno run -A bench/cri_pods.ts [N]` (root; CNI plugins in /usr/lib/cni).
 */
import { startDaemon } from "../tests/fixtures/daemon.ts";
import { criClients } from "../tests/fixtures/cri.ts";

const n = Number(Deno.args[0] ?? 5);
const base = await Deno.makeTempDir({ prefix: "berth-bench-cri-" });
const bridge = `bb${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0")}`;
await Deno.mkdir(`${base}/net.d`);
await Deno.writeTextFile(
  `${base}/net.d/10.conflist`,
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "bench",
    plugins: [{
      type: "bridge",
      bridge,
      isGateway: true,
      ipMasq: false,
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: "10.238.0.0/24" }]],
        dataDir: `${base}/ipam`,
      },
    }],
  }),
);
const rss = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1] ?? 0) / 1024;
const d = await startDaemon({
  args: ["--cni-conf-dir", `${base}/net.d`, "--cni-bin-dir", "/usr/lib/cni"],
});
const cli = criClients(`${d.execRoot}/cri.sock`);
try {
  await cli.rt.Version({});
  const cfg = (i: number) => ({
    config: { metadata: { name: `p${i}`, uid: `u${i}`, namespace: "bench" }, hostname: `p${i}` },
  });
  const seq: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await cli.rt.RunPodSandbox(cfg(i));
    seq.push(performance.now() - t0);
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => cli.rt.RunPodSandbox(cfg(n + i))));
  const par = performance.now() - t0;
  const { items } = await cli.rt.ListPodSandbox({});
  const st = await cli.rt.PodSandboxStatus({ pod_sandbox_id: items[0].id, verbose: true });
  const pausePid = JSON.parse(st.info.info).pid;
  const shimPid = Number(
    await Deno.readTextFile(`${d.execRoot}/cri/${items[0].id}/shim.pid`).catch(() => "0"),
  );
  console.log(`pods: ${items.length}`);
  console.log(
    `RunPodSandbox sequential: ${seq.map((x) => x.toFixed(0)).join(" ")} ms; ${n} at once: ${
      par.toFixed(0)
    } ms`,
  );
  console.log(`daemon RSS ${rss(d.proc.pid).toFixed(1)} MB`);
  if (shimPid) console.log(`one pod's shim RSS ${rss(shimPid).toFixed(1)} MB`);
  console.log(`one pod's pause RSS ${(rss(pausePid) * 1024).toFixed(0)} kB`);
  const t1 = performance.now();
  for (const p of items) await cli.rt.RemovePodSandbox({ pod_sandbox_id: p.id });
  console.log(`RemovePodSandbox: ${((performance.now() - t1) / items.length).toFixed(0)} ms each`);
} finally {
  if (Deno.env.get("CRI_BENCH_LOG")) {
    const laps = (await Deno.readTextFile(d.logPath)).split("\n").filter((l) =>
      l.includes("CRI pod")
    );
    console.log(laps.slice(0, 12).join("\n"));
  }
  cli.close();
  await d.stop();
  await new Deno.Command("ip", { args: ["link", "del", bridge], stderr: "null" }).output();
  await Deno.remove(base, { recursive: true });
}
