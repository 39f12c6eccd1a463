/**
 * CRI pods end to end over a test daemon's CRI socket (grpc-js client):
 * sandboxes held by berth's own pause (no image), their namespaces, files
 * and filters, a daemon restart, and pod networking through the real CNI
 * plugins (apt containernetworking-plugins: bridge + host-local + portmap
 * from a conf dir of the test's own, with a bridge name, subnet and IPAM
 * dataDir of its own); StopPodSandbox's CNI DEL must leave no veth,
 * iptables rule or lease behind.
 */
import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import { type CriClients, criClients, grpcError } from "./fixtures/cri.ts";
import type { Msg } from "../modes/daemon/cri/server.ts";

const CNI_BIN = "/usr/lib/cni";

async function sh(cmd: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout).trim(), err: d.decode(r.stderr).trim() };
}

/** Run `cmd` in the namespaces of `pid` (nsenter). */
async function inNs(pid: number, ns: string[], cmd: string[]): Promise<string> {
  const r = await sh(["nsenter", `--target=${pid}`, ...ns.map((n) => `--${n}`), "--", ...cmd]);
  assertEquals(r.code, 0, `${cmd.join(" ")}: ${r.err}`);
  return r.out;
}

/** A CNI network of the test's own: bridge name, subnet and lease dir unique to it. */
export async function cniNetwork(base: string) {
  const tag = crypto.getRandomValues(new Uint8Array(2));
  const bridge = `bc${tag[0].toString(16).padStart(2, "0")}${tag[1].toString(16).padStart(2, "0")}`;
  const subnet = `10.237.${tag[0]}.0/24`;
  const confDir = `${base}/net.d`, dataDir = `${base}/ipam`;
  await Deno.mkdir(confDir, { recursive: true });
  const name = `berth-test-${bridge}`;
  await Deno.writeTextFile(
    `${confDir}/10-${bridge}.conflist`,
    JSON.stringify({
      cniVersion: "1.0.0",
      name,
      plugins: [
        {
          type: "bridge",
          bridge,
          isGateway: true,
          ipMasq: true,
          ipam: { type: "host-local", ranges: [[{ subnet }]], dataDir },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    }),
  );
  // a later file in name order is not the one used
  await Deno.writeTextFile(`${confDir}/99-other.conf`, '{"type":"nosuch","name":"x"}');
  return {
    bridge,
    subnet,
    confDir,
    dataDir,
    name,
    prefix: subnet.split(".").slice(0, 3).join("."),
    async cleanup() {
      await sh(["ip", "link", "del", bridge]);
    },
  };
}

/** Host state that mentions a pod: veths on the bridge, iptables lines, IPAM leases. */
async function traces(net: Awaited<ReturnType<typeof cniNetwork>>, id: string) {
  const ports: string[] = [];
  try {
    for await (const e of Deno.readDir(`/sys/class/net/${net.bridge}/brif`)) ports.push(e.name);
  } catch { /* no bridge */ }
  const rules: string[] = [];
  for (const t of ["nat", "filter"]) {
    const r = await sh(["iptables-save", "-t", t]);
    rules.push(...r.out.split("\n").filter((l) => l.includes(id) || l.includes(net.prefix + ".")));
  }
  const leases: string[] = [];
  try {
    for await (const e of Deno.readDir(`${net.dataDir}/${net.name}`)) {
      if (/^\d+\.\d+\.\d+\.\d+$/.test(e.name)) leases.push(e.name);
    }
  } catch { /* none yet */ }
  return { ports, rules, leases };
}

export function podConfig(name: string, extra: Msg = {}): Msg {
  return {
    metadata: { name, uid: `uid-${name}`, namespace: "default", attempt: 0 },
    hostname: name,
    log_directory: "",
    labels: { app: name },
    annotations: { "berth.test/pod": name },
    linux: {},
    ...extra,
  };
}

/** Stop and remove every pod (a failing test's leftovers included). */
export async function removeAllPods(cli: CriClients): Promise<void> {
  const { items } = await cli.rt.ListPodSandbox({});
  for (const p of items) {
    await cli.rt.StopPodSandbox({ pod_sandbox_id: p.id }).catch(() => {});
    await cli.rt.RemovePodSandbox({ pod_sandbox_id: p.id }).catch(() => {});
  }
}

Deno.test("cri pods: sandboxes held by berth's pause, CNI bridge networking, restart, teardown", async () => {
  const base = await Deno.makeTempDir({ prefix: "berth-cri-pods-" });
  const net = await cniNetwork(base);
  let d: TestDaemon | undefined;
  let cli: CriClients | undefined;
  try {
    d = await startDaemon({ args: ["--cni-conf-dir", net.confDir, "--cni-bin-dir", CNI_BIN] });
    const sock = `${d.execRoot}/cri.sock`;
    cli = criClients(sock);

    // A pod: own network, IPC and UTS namespaces, its hostname, DNS and sysctls.
    const { pod_sandbox_id: id } = await cli.rt.RunPodSandbox({
      config: podConfig("web", {
        dns_config: {
          servers: ["10.96.0.10"],
          searches: ["svc.cluster.local"],
          options: ["ndots:5"],
        },
        port_mappings: [{
          protocol: "TCP",
          container_port: 80,
          host_port: 18000 + (Date.now() % 2000),
        }],
        linux: { sysctls: { "net.ipv4.ip_unprivileged_port_start": "1024" } },
      }),
    });
    assertEquals(id.length, 64);
    const st = (await cli.rt.PodSandboxStatus({ pod_sandbox_id: id, verbose: true })).status;
    const info = JSON.parse(
      (await cli.rt.PodSandboxStatus({ pod_sandbox_id: id.slice(0, 12), verbose: true })).info.info,
    );
    assertEquals(st.state, "SANDBOX_READY");
    assertEquals(st.metadata.name, "web");
    assertEquals(st.labels, { app: "web" });
    assertEquals(st.annotations, { "berth.test/pod": "web" });
    assert(
      st.network.ip.startsWith(net.prefix + "."),
      `pod IP ${st.network.ip} not in ${net.subnet}`,
    );
    assert(st.created_at > 0);
    const pid: number = info.pid;
    assert(pid > 0);
    assertEquals(await Deno.readTextFile(`/proc/${pid}/cmdline`), "/pause\0");
    for (const ns of ["net", "ipc", "uts"]) {
      assert(
        (await Deno.readLink(`/proc/${pid}/ns/${ns}`)) !==
          (await Deno.readLink(`/proc/self/ns/${ns}`)),
        `the pod shares the host's ${ns} namespace`,
      );
    }
    assertEquals(await inNs(pid, ["uts"], ["hostname"]), "web");
    assertEquals(
      await inNs(pid, ["net"], ["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"]),
      "1024",
    );
    assertStringIncludes(
      await inNs(pid, ["net"], ["ip", "-4", "addr", "show", "eth0"]),
      st.network.ip,
    );
    assertStringIncludes(await inNs(pid, ["net"], ["ip", "addr", "show", "lo"]), "UP");
    // the host reaches the pod over the bridge
    assertEquals(
      (await sh(["busybox", "ping", "-c1", "-W2", st.network.ip])).code,
      0,
      "no route to the pod",
    );
    const podDir = `${d.root}/cri/sandboxes/${id}`;
    assertEquals(
      await Deno.readTextFile(`${podDir}/resolv.conf`),
      "search svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
    );
    assertEquals(await Deno.readTextFile(`${podDir}/hostname`), "web\n");
    let t = await traces(net, id);
    assertEquals(t.ports.length, 1, "one veth on the bridge");
    assertEquals(t.leases, [st.network.ip]);
    assert(
      t.rules.some((l) => l.includes("DNAT")),
      "portmap wrote no DNAT rule:\n" + t.rules.join("\n"),
    );

    // The same pod name again is refused while the first exists.
    const dup = await grpcError(cli.rt.RunPodSandbox({ config: podConfig("web") }));
    assertStringIncludes(dup.details, "is reserved");

    // A host-network pod: no CNI, the host's namespaces, no IP.
    const { pod_sandbox_id: hostId } = await cli.rt.RunPodSandbox({
      config: podConfig("hostnet", {
        linux: {
          security_context: {
            namespace_options: { network: "NODE", pid: "CONTAINER", ipc: "NODE" },
          },
        },
      }),
    });
    const hst = await cli.rt.PodSandboxStatus({ pod_sandbox_id: hostId, verbose: true });
    assertEquals(hst.status.network.ip, "");
    assertEquals(hst.status.linux.namespaces.options.network, "NODE");
    const hpid = JSON.parse(hst.info.info).pid;
    for (const ns of ["net", "ipc", "uts"]) {
      assertEquals(
        await Deno.readLink(`/proc/${hpid}/ns/${ns}`),
        await Deno.readLink(`/proc/self/ns/${ns}`),
      );
    }

    // Filters: id prefix, state, labels.
    const ids = async (filter: Msg) =>
      (await cli!.rt.ListPodSandbox({ filter })).items.map((p: Msg) => p.id).sort();
    assertEquals(await ids({}), [id, hostId].sort());
    assertEquals(await ids({ id: id.slice(0, 10) }), [id]);
    assertEquals(await ids({ label_selector: { app: "hostnet" } }), [hostId]);
    assertEquals(await ids({ label_selector: { app: "nosuch" } }), []);
    assertEquals(await ids({ state: { state: "SANDBOX_READY" } }), [id, hostId].sort());
    assertEquals(await ids({ state: { state: "SANDBOX_NOTREADY" } }), []);

    // A restarted daemon lists the same pods; they kept running.
    cli.close();
    await d.stopDaemon();
    await d.restart();
    cli = criClients(sock);
    assertEquals(await ids({ state: { state: "SANDBOX_READY" } }), [id, hostId].sort());
    assertEquals(
      (await cli.rt.PodSandboxStatus({ pod_sandbox_id: id })).status.network.ip,
      st.network.ip,
    );

    // Stop: CNI DEL, the holder gone; nothing of the pod is left on the host.
    await cli.rt.StopPodSandbox({ pod_sandbox_id: id });
    assertEquals(await ids({ state: { state: "SANDBOX_NOTREADY" } }), [id]);
    const stopped = (await cli.rt.PodSandboxStatus({ pod_sandbox_id: id })).status;
    assertEquals([stopped.state, stopped.network.ip], ["SANDBOX_NOTREADY", ""]);
    let alive = true;
    await Deno.stat(`/proc/${pid}`).catch(() => alive = false);
    assert(!alive, "the pause process outlived StopPodSandbox");
    t = await traces(net, id);
    assertEquals(t, { ports: [], rules: [], leases: [] });
    await cli.rt.StopPodSandbox({ pod_sandbox_id: id }); // again: no error

    // Remove: the record and its files go; a second remove is no error.
    await cli.rt.RemovePodSandbox({ pod_sandbox_id: id });
    await cli.rt.RemovePodSandbox({ pod_sandbox_id: id });
    assertEquals(await ids({}), [hostId]);
    let gone = false;
    await Deno.stat(podDir).catch(() => gone = true);
    assert(gone, "the pod's directory outlived RemovePodSandbox");
    const nf = await grpcError(cli.rt.PodSandboxStatus({ pod_sandbox_id: id }));
    assertEquals(nf.code, grpc.status.NOT_FOUND);
    // Remove of a ready pod stops it first.
    await cli.rt.RemovePodSandbox({ pod_sandbox_id: hostId });
    assertEquals(await ids({}), []);
    alive = true;
    await Deno.stat(`/proc/${hpid}`).catch(() => alive = false);
    assert(!alive, "the host-network pod's pause outlived RemovePodSandbox");
    const left: string[] = [];
    for await (const e of Deno.readDir(`${d.execRoot}/cri`)) left.push(e.name);
    assertEquals(left.filter((n) => n !== "netns"), []);
  } finally {
    if (cli) await removeAllPods(cli).catch(() => {});
    cli?.close();
    await d?.stop();
    await net.cleanup();
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
});

Deno.test("cri pods: no CNI config means no pod network (the error names the dir), and nothing is left", async () => {
  const base = await Deno.makeTempDir({ prefix: "berth-cri-nocni-" });
  const d = await startDaemon({ args: ["--cni-conf-dir", `${base}/none`] });
  const cli = criClients(`${d.execRoot}/cri.sock`);
  try {
    const e = await grpcError(cli.rt.RunPodSandbox({ config: podConfig("nonet") }));
    assertStringIncludes(e.details, "cni plugin not initialized");
    assertEquals((await cli.rt.ListPodSandbox({})).items, []);
    const bad = await grpcError(cli.rt.RunPodSandbox({ config: { metadata: { name: "x" } } }));
    assertEquals(bad.code, grpc.status.INVALID_ARGUMENT);
  } finally {
    await removeAllPods(cli).catch(() => {});
    cli.close();
    await d.stop();
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
});
