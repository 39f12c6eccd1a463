/**
 * What a CRI pod costs: the memory of a running pod of 3 containers (its
 * shims' RSS and PSS, summed over the distinct shim.pid files of the pod and
 * its containers, plus the daemon's growth), RunPodSandbox latency
 * (sequential and N at once), and the RSS of the daemon, of a pod's shim and
 * of its pause. Usage: `deno run -A bench/cri_pods.ts [N]` (root; CNI
 * plugins in /usr/lib/cni; the image is busybox-static's, through `berth
 * registry` on loopback).
 */
import { startDaemon } from "../tests/fixtures/daemon.ts";
import { criClients } from "../tests/fixtures/cri.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";

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
const pss = (pid: number) =>
  Number(/^Pss:\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`))?.[1] ?? 0) /
  1024;
const reg = await startTestRegistry();
const d = await startDaemon({
  args: ["--cni-conf-dir", `${base}/net.d`, "--cni-bin-dir", "/usr/lib/cni"],
});
const cli = criClients(`${d.execRoot}/cri.sock`);
try {
  await cli.rt.Version({});
  await threeContainers();
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
  await reg.close();
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

/** A running pod of 3 containers (`sleep`): its shims' memory and the daemon's growth. */
async function threeContainers(): Promise<void> {
  const img = await busyboxArchive();
  const ref = `${reg.host}/bench/bb:1`;
  for (const args of [["load", "-q", "-i", img.path], ["tag", "busybox", ref], ["push", ref]]) {
    const r = await d.berth(args);
    if (r.code !== 0) throw new Error(`berth ${args.join(" ")}: ${r.stderr}`);
  }
  await cli.im.PullImage({ image: { image: ref } });
  await new Promise((r) => setTimeout(r, 3000));
  const d0 = { rss: rss(d.proc.pid), pss: pss(d.proc.pid) };
  const config = {
    metadata: { name: "three", uid: "u-three", namespace: "bench" },
    hostname: "three",
  };
  const { pod_sandbox_id: pod } = await cli.rt.RunPodSandbox({ config });
  const ids = [pod];
  for (const name of ["a", "b", "c"]) {
    const { container_id: id } = await cli.rt.CreateContainer({
      pod_sandbox_id: pod,
      sandbox_config: config,
      config: { metadata: { name }, image: { image: ref }, command: ["sleep", "3600"] },
    });
    await cli.rt.StartContainer({ container_id: id });
    ids.push(id);
  }
  await new Promise((r) => setTimeout(r, 5000)); // the shims' start-up collection is done
  const shims = new Set<number>();
  for (const id of ids) {
    const pid = Number(await Deno.readTextFile(`${d.execRoot}/cri/${id}/shim.pid`));
    if (pid) shims.add(pid);
  }
  let sRss = 0, sPss = 0;
  for (const p of shims) (sRss += rss(p), sPss += pss(p));
  const dRss = rss(d.proc.pid) - d0.rss, dPss = pss(d.proc.pid) - d0.pss;
  console.log(
    `3-container pod: ${shims.size} shim(s), RSS ${sRss.toFixed(1)} MB, PSS ${
      sPss.toFixed(1)
    } MB; daemon +${dRss.toFixed(1)} MB RSS, +${dPss.toFixed(1)} MB PSS; total RSS ${
      (sRss + dRss).toFixed(1)
    } MB, PSS ${(sPss + dPss).toFixed(1)} MB`,
  );
  await cli.rt.StopPodSandbox({ pod_sandbox_id: pod });
  await cli.rt.RemovePodSandbox({ pod_sandbox_id: pod });
}
