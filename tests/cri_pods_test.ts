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
import { cgroupDirs, startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import {
  cniNetwork,
  containerEvents,
  type CriClients,
  criClients,
  type EventWatch,
  grpcError,
  podConfig,
  pushTestImage,
  removeAllPods,
} from "./fixtures/cri.ts";
import type { Msg } from "../modes/daemon/cri/types.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";
import { pushPauseImage } from "./fixtures/pause_image.ts";
import { pauseElf } from "../modes/daemon/cri/pause.ts";

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

Deno.test("cri pods: --pod-infra-image: the image's entrypoint holds the pod, pulled from berth registry when missing; a holder's own death sends the pod's STOPPED", async () => {
  const base = await Deno.makeTempDir({ prefix: "berth-cri-infra-" });
  const net = await cniNetwork(base);
  const reg = await startTestRegistry();
  let regOpen = true;
  let d: TestDaemon | undefined;
  let cli: CriClients | undefined;
  let watch: EventWatch | undefined;
  try {
    // a stand-in built offline: berth's pause ELF as the image's only file, a Cmd to tell it apart
    const img = await pushPauseImage(reg.host, "stand-in/pause", "3.9", { cmd: ["--stand-in"] });
    d = await startDaemon({
      args: [
        ...["--cni-conf-dir", net.confDir, "--cni-bin-dir", CNI_BIN],
        ...["--pod-infra-image", img.ref, "--insecure-registry", reg.host],
      ],
    });
    const sock = `${d.execRoot}/cri.sock`;
    cli = criClients(sock);
    assertEquals((await cli.im.ImageStatus({ image: { image: img.ref } })).image, null);
    watch = await containerEvents(sock);

    const { pod_sandbox_id: pod } = await cli.rt.RunPodSandbox({ config: podConfig("infra") });
    const st = await cli.rt.PodSandboxStatus({ pod_sandbox_id: pod, verbose: true });
    assertEquals(st.status.state, "SANDBOX_READY");
    assert(st.status.network.ip.startsWith(net.prefix + "."), st.status.network.ip);
    const pid: number = JSON.parse(st.info.info).pid;
    // the image's entrypoint and cmd, on the image's rootfs, in the pod's own namespaces
    assertEquals(await Deno.readTextFile(`/proc/${pid}/cmdline`), "/pause\0--stand-in\0");
    assertEquals((await Deno.stat(`/proc/${pid}/root/pause`)).size, pauseElf().length);
    assert(
      await Deno.readLink(`/proc/${pid}/ns/net`) !== await Deno.readLink("/proc/self/ns/net"),
    );
    assertEquals(await inNs(pid, ["uts"], ["hostname"]), "infra");
    // pulled into the CRI's store; in use while a pod holds it
    const pulled = (await cli.im.ImageStatus({ image: { image: img.ref } })).image;
    assertEquals(pulled.id, img.configDigest);
    const inUse = await grpcError(cli.im.RemoveImage({ image: { image: img.ref } }));
    assertEquals(inUse.code, grpc.status.FAILED_PRECONDITION, inUse.details);

    // the holder dies by itself: the pod's STOPPED comes from the daemon's wait on it
    await sh(["kill", "-9", String(pid)]);
    const evs = await watch.until(pod, (e) => e.length >= 3);
    assertEquals(
      evs.map((e) => e.container_event_type),
      ["CONTAINER_CREATED_EVENT", "CONTAINER_STARTED_EVENT", "CONTAINER_STOPPED_EVENT"],
    );
    assertEquals(
      (await cli.rt.PodSandboxStatus({ pod_sandbox_id: pod })).status.state,
      "SANDBOX_NOTREADY",
    );
    // StopPodSandbox still tears the network down, and sends no second STOPPED
    await cli.rt.StopPodSandbox({ pod_sandbox_id: pod });
    assertEquals(await traces(net, pod), { ports: [], rules: [], leases: [] });
    await cli.rt.RemovePodSandbox({ pod_sandbox_id: pod });
    const all = await watch.until(pod, (e) => e.length >= 4);
    assertEquals(all.map((e) => e.container_event_type).slice(2), [
      "CONTAINER_STOPPED_EVENT",
      "CONTAINER_DELETED_EVENT",
    ]);
    const mounts = (await Deno.readTextFile("/proc/self/mounts")).split("\n")
      .filter((l) => l.includes(`${d!.execRoot}/cri`) || l.includes(`${d!.root}/cri`));
    assertEquals(mounts, []);
    assertEquals(await cgroupDirs(d.cgroupParent, pod), []);
    // free again
    await cli.im.RemoveImage({ image: { image: img.ref } });
    assertEquals(watch.events.filter((e) => e.container_id === pod).length, 4);

    // a pod whose infra image cannot be pulled fails, in containerd's words, and leaves nothing
    await reg.close();
    regOpen = false;
    const e = await grpcError(cli.rt.RunPodSandbox({ config: podConfig("nopull") }));
    assertStringIncludes(e.details, `failed to get sandbox image "${img.ref}"`);
    assertEquals((await cli.rt.ListPodSandbox({})).items, []);
    assertEquals(await traces(net, "no-such-pod"), { ports: [], rules: [], leases: [] });
    const left = (await Deno.readTextFile("/proc/self/mounts")).split("\n")
      .filter((l) => l.includes(`${d!.execRoot}/cri`) || l.includes(`${d!.root}/cri`));
    assertEquals(left, []);
  } finally {
    watch?.close();
    if (cli) await removeAllPods(cli).catch(() => {});
    cli?.close();
    await d?.stop();
    if (regOpen) await reg.close();
    await net.cleanup();
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
});

/** Poll until `f` gives a truthy value (or fail after `ms`). */
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test("cri containers: two containers of a pod share localhost; CRI logs, ExecSync, user, mounts, caps, stats; stop, restart, teardown", async () => {
  const base = await Deno.makeTempDir({ prefix: "berth-cri-ctr-" });
  const net = await cniNetwork(base);
  const reg = await startTestRegistry();
  let d: TestDaemon | undefined;
  let cli: CriClients | undefined;
  let watch: EventWatch | undefined;
  try {
    d = await startDaemon({ args: ["--cni-conf-dir", net.confDir, "--cni-bin-dir", CNI_BIN] });
    const sock = `${d.execRoot}/cri.sock`;
    // The image, built offline, into the CRI's store through berth registry on loopback.
    const img = await pushTestImage(d, reg.host);
    const ref = img.ref;
    cli = criClients(sock);
    assertEquals((await cli.im.PullImage({ image: { image: ref } })).image_ref, img.configDigest);

    const logDir = `${base}/logs/default_web_uid-web`;
    // GetContainerEvents: from here on, each container's changes in order, and the pod's own
    // keyed by its id (closed before the restart)
    watch = await containerEvents(sock);
    const kinds = (evs: Msg[]) =>
      evs.map((e) => e.container_event_type.replace(/^CONTAINER_|_EVENT$/g, ""));
    const { pod_sandbox_id: pod } = await cli.rt.RunPodSandbox({
      config: podConfig("web", { log_directory: logDir }),
    });
    // as containerd 1.7: CREATED then STARTED once the pod is ready, with its status
    const podEvents = await watch.until(pod, (e) => e.length >= 2);
    assertEquals(kinds(podEvents), ["CREATED", "STARTED"]);
    for (const e of podEvents) {
      assertEquals([e.pod_sandbox_status.id, e.pod_sandbox_status.state], [pod, "SANDBOX_READY"]);
      assertEquals(e.containers_statuses, []);
    }
    const sbConfig = podConfig("web", { log_directory: logDir });
    const podPid = JSON.parse(
      (await cli.rt.PodSandboxStatus({ pod_sandbox_id: pod, verbose: true })).info.info,
    ).pid;
    const dataDir = `${base}/data`;
    await Deno.mkdir(dataDir);
    const create = async (name: string, config: Msg) =>
      (await cli!.rt.CreateContainer({
        pod_sandbox_id: pod,
        sandbox_config: sbConfig,
        config: {
          metadata: { name, attempt: 0 },
          image: { image: ref },
          log_path: `${name}/0.log`,
          labels: { role: name },
          ...config,
        },
      })).container_id as string;

    // The server listens on the pod's loopback only; the client reaches it there.
    const server = await create("server", {
      command: ["sh", "-c"],
      args: [
        "mkdir -p /www && echo hello-from-server > /www/index.html && echo ready && " +
        "echo warn >&2 && exec httpd -f -p 127.0.0.1:8080 -h /www",
      ],
      envs: [{ key: "GREETING", value: "hi there" }],
      working_dir: "/tmp",
      linux: {
        security_context: {
          capabilities: { add_capabilities: ["NET_ADMIN"], drop_capabilities: ["CHOWN"] },
        },
      },
    });
    const client = await create("client", {
      command: [
        "sh",
        "-c",
        "until wget -q -O - http://127.0.0.1:8080/; do sleep 0.2; done; " +
        "while true; do echo tick; sleep 0.3; done",
      ],
      mounts: [{ container_path: "/data", host_path: dataDir }],
      linux: {
        security_context: {
          run_as_user: { value: 1000 },
          readonly_rootfs: true,
          seccomp: { profile_type: "RuntimeDefault" },
        },
      },
    });
    const state = async (id: string) =>
      (await cli!.rt.ContainerStatus({ container_id: id })).status;
    assertEquals((await state(server)).state, "CONTAINER_CREATED");
    await cli.rt.StartContainer({ container_id: server });
    await cli.rt.StartContainer({ container_id: client });
    const again = await grpcError(cli.rt.StartContainer({ container_id: client }));
    assertStringIncludes(again.details, "CONTAINER_RUNNING");

    // The client's log shows the server's page, fetched over 127.0.0.1; logs in the CRI format.
    const clientLog = `${logDir}/client/0.log`;
    const line = await until("the client's fetch", async () => {
      const t = await Deno.readTextFile(clientLog);
      return t.split("\n").find((l) => l.endsWith(" stdout F hello-from-server"));
    });
    assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z stdout F /.test(line), line);
    const serverLog = await Deno.readTextFile(`${logDir}/server/0.log`);
    assert(/^\S+ stdout F ready$/m.test(serverLog), serverLog);
    assert(/^\S+ stderr F warn$/m.test(serverLog), serverLog);
    const st = await state(server);
    assertEquals(st.state, "CONTAINER_RUNNING");
    assertEquals(st.log_path, `${logDir}/server/0.log`);
    assertEquals([st.image.image, st.image_ref], [ref, img.configDigest]);
    assert(st.started_at >= st.created_at && st.created_at > 0, JSON.stringify(st));

    // Both containers are in the pod's network, IPC and UTS namespaces, not in its pid one.
    for (const id of [server, client]) {
      const pid = JSON.parse(
        (await cli.rt.ContainerStatus({ container_id: id, verbose: true })).info.info,
      ).pid;
      for (const ns of ["net", "ipc", "uts"]) {
        assertEquals(
          await Deno.readLink(`/proc/${pid}/ns/${ns}`),
          await Deno.readLink(`/proc/${podPid}/ns/${ns}`),
          `${ns} of ${id.slice(0, 12)}`,
        );
      }
      assert(
        await Deno.readLink(`/proc/${pid}/ns/pid`) !==
          await Deno.readLink(`/proc/${podPid}/ns/pid`),
      );
    }

    // ExecSync: output, exit codes, env, working dir, hostname, user, caps, mounts, read-only root.
    const exec = async (id: string, cmd: string[], timeout = 0) => {
      const r = await cli!.rt.ExecSync({ container_id: id, cmd, timeout });
      const dec = new TextDecoder();
      return { out: dec.decode(r.stdout), err: dec.decode(r.stderr), code: r.exit_code };
    };
    assertEquals(await exec(client, ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]), {
      out: "hello-from-server\n",
      err: "",
      code: 0,
    });
    assertEquals(await exec(server, ["sh", "-c", "echo out; echo err >&2; exit 3"]), {
      out: "out\n",
      err: "err\n",
      code: 3,
    });
    assertEquals(
      (await exec(server, ["sh", "-c", 'echo "$GREETING"; pwd; hostname'])).out,
      "hi there\n/tmp\nweb\n",
    );
    const capEff = BigInt(
      "0x" +
        /CapEff:\s*([0-9a-f]+)/.exec((await exec(server, ["cat", "/proc/self/status"])).out)![1],
    );
    assertEquals([(capEff >> 12n) & 1n, capEff & 1n], [1n, 0n], "NET_ADMIN added, CHOWN dropped");
    assertEquals((await exec(client, ["id", "-u"])).out, "1000\n");
    // seccomp: RuntimeDefault filters (mode 2); no profile at all is unconfined, as containerd
    const seccompMode = async (id: string) =>
      /Seccomp:\s*(\d)/.exec((await exec(id, ["cat", "/proc/self/status"])).out)?.[1];
    assertEquals([await seccompMode(client), await seccompMode(server)], ["2", "0"]);
    assert((await exec(client, ["touch", "/x"])).code !== 0, "the read-only root took a write");
    await Deno.chmod(dataDir, 0o777);
    assertEquals((await exec(client, ["sh", "-c", "echo via-mount > /data/f"])).code, 0);
    assertEquals(await Deno.readTextFile(`${dataDir}/f`), "via-mount\n");
    const t0 = Date.now();
    const slow = await grpcError(exec(server, ["sleep", "30"], 1));
    assertEquals(slow.code, grpc.status.DEADLINE_EXCEEDED, slow.details);
    assert(Date.now() - t0 < 15_000, "ExecSync's timeout did not end the command");
    const missing = await grpcError(exec(server, ["/no/such/binary"]));
    assertStringIncludes(missing.details, "no/such/binary");

    // kubelet's log rotation: it renames the file, ReopenContainerLog starts a new one.
    await Deno.rename(clientLog, `${clientLog}.1`);
    await cli.rt.ReopenContainerLog({ container_id: client });
    await until(
      "a tick in the reopened log",
      async () => (await Deno.readTextFile(clientLog)).includes(" stdout F tick\n"),
    );
    assertStringIncludes(await Deno.readTextFile(`${clientLog}.1`), "hello-from-server");

    // Stats from the cgroups, the writable layer and the pod's interfaces.
    const cs = (await cli.rt.ContainerStats({ container_id: server })).stats;
    assertEquals(cs.attributes.id, server);
    assert(cs.cpu.usage_core_nano_seconds.value > 0, JSON.stringify(cs.cpu));
    assert(cs.memory.working_set_bytes.value > 0, JSON.stringify(cs.memory));
    assert(cs.writable_layer.used_bytes.value > 0, "the server wrote /www into its upper dir");
    const again2 = (await cli.rt.ContainerStats({ container_id: server })).stats;
    assert(again2.cpu.usage_nano_cores !== null, "no rate on the second sample");
    const lcs = (await cli.rt.ListContainerStats({ filter: { pod_sandbox_id: pod } })).stats;
    assertEquals(lcs.map((x: Msg) => x.attributes.id).sort(), [server, client].sort());
    const ps = (await cli.rt.PodSandboxStats({ pod_sandbox_id: pod })).stats;
    assertEquals(ps.attributes.id, pod);
    assertEquals(ps.linux.network.default_interface.name, "eth0");
    assert(ps.linux.memory.working_set_bytes.value > 0, JSON.stringify(ps.linux.memory));
    assert(ps.linux.process.process_count.value >= 3, JSON.stringify(ps.linux.process));
    assertEquals(ps.linux.containers.length, 2);
    assertEquals((await cli.rt.ListPodSandboxStats({})).stats.length, 1);

    // UpdateContainerResources: a new memory limit reaches the running container's cgroup.
    const memLimit = async (pid: number) => {
      const lines = (await Deno.readTextFile(`/proc/${pid}/cgroup`)).trim().split("\n");
      const v1 = lines.find((l) => l.split(":")[1].split(",").includes("memory"));
      if (v1) {
        const path = v1.split(":").slice(2).join(":");
        return (await Deno.readTextFile(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`))
          .trim();
      }
      const path = lines.find((l) => l.startsWith("0::"))!.slice(3);
      return (await Deno.readTextFile(`/sys/fs/cgroup${path}/memory.max`)).trim();
    };
    const serverPid0 = JSON.parse(
      (await cli.rt.ContainerStatus({ container_id: server, verbose: true })).info.info,
    ).pid;
    const limit = 96 * 1024 * 1024;
    assert(await memLimit(serverPid0) !== String(limit));
    await cli.rt.UpdateContainerResources({
      container_id: server,
      linux: { memory_limit_in_bytes: limit, cpu_shares: 512, oom_score_adj: 500 },
    });
    assertEquals(await memLimit(serverPid0), String(limit));
    const upd = (await state(server)).resources.linux;
    assertEquals([Number(upd.memory_limit_in_bytes), Number(upd.cpu_shares)], [limit, 512]);
    const gone = await grpcError(
      cli.rt.UpdateContainerResources({ container_id: "nosuch", linux: {} }),
    );
    assertEquals(gone.code, grpc.status.NOT_FOUND, gone.details);

    // A privileged container: every capability and the host's devices.
    const priv = await create("priv", {
      command: ["sleep", "3600"],
      linux: { security_context: { privileged: true } },
    });
    await cli.rt.StartContainer({ container_id: priv });
    const privCaps = BigInt(
      "0x" + /CapEff:\s*([0-9a-f]+)/.exec((await exec(priv, ["cat", "/proc/self/status"])).out)![1],
    );
    assertEquals((privCaps >> 21n) & 1n, 1n, "no CAP_SYS_ADMIN in a privileged container");
    assertEquals((await exec(priv, ["test", "-c", "/dev/kmsg"])).code, 0, "no host /dev/kmsg");
    assertEquals((await exec(server, ["test", "-e", "/dev/kmsg"])).code, 1);
    await cli.rt.RemoveContainer({ container_id: priv }); // running: stopped first
    const privEvents = await watch.until(priv, (e) => e.length >= 4);
    assertEquals(kinds(privEvents), ["CREATED", "STARTED", "STOPPED", "DELETED"]);
    for (const e of privEvents) {
      assertEquals(e.pod_sandbox_status.id, pod);
      assert(e.created_at > 1e18, `created_at in ns: ${e.created_at}`);
    }
    assertEquals(
      privEvents[1].containers_statuses.find((x: Msg) => x.id === priv).state,
      "CONTAINER_RUNNING",
    );

    // A container that runs to completion.
    const job = await create("job", { command: ["sh", "-c", "echo done; exit 0"] });
    await cli.rt.StartContainer({ container_id: job });
    // its exit is noticed on the shim's wait, with no status call to look at it
    const jobEvents = await watch.until(job, (e) => e.length >= 3);
    assertEquals(kinds(jobEvents), ["CREATED", "STARTED", "STOPPED"]);
    assertEquals(
      jobEvents[2].containers_statuses.find((x: Msg) => x.id === job).state,
      "CONTAINER_EXITED",
    );
    watch.close();
    watch = undefined;
    const jst = await until("the job's exit", async () => {
      const s = await state(job);
      return s.state === "CONTAINER_EXITED" ? s : undefined;
    });
    assertEquals([jst.exit_code, jst.reason], [0, "Completed"]);
    const notRunning = await grpcError(cli.rt.ReopenContainerLog({ container_id: job }));
    assertEquals(notRunning.code, grpc.status.FAILED_PRECONDITION);
    assert(jst.finished_at >= jst.started_at, JSON.stringify(jst));

    // Filters; an image in use is not removed.
    const ids = async (filter: Msg) =>
      (await cli!.rt.ListContainers({ filter })).containers.map((c: Msg) => c.id).sort();
    assertEquals(await ids({}), [server, client, job].sort());
    assertEquals(await ids({ pod_sandbox_id: pod }), [server, client, job].sort());
    assertEquals(await ids({ state: { state: "CONTAINER_EXITED" } }), [job]);
    assertEquals(await ids({ label_selector: { role: "client" } }), [client]);
    assertEquals(await ids({ id: server.slice(0, 8) }), [server]);
    const inUse = await grpcError(cli.im.RemoveImage({ image: { image: ref } }));
    assertEquals(inUse.code, grpc.status.FAILED_PRECONDITION, inUse.details);

    // A restarted daemon finds its containers running and can exec into them.
    cli.close();
    await d.stopDaemon();
    await d.restart();
    cli = criClients(sock);
    assertEquals(await ids({ state: { state: "CONTAINER_RUNNING" } }), [server, client].sort());
    assertEquals(
      (await exec(client, ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"])).out,
      "hello-from-server\n",
    );

    // Stop: the client's shell is pid 1 and ignores SIGTERM: killed after the timeout.
    const clientPid = JSON.parse(
      (await cli.rt.ContainerStatus({ container_id: client, verbose: true })).info.info,
    ).pid;
    await cli.rt.StopContainer({ container_id: client, timeout: 1 });
    const cst = await state(client);
    assertEquals([cst.state, cst.exit_code, cst.reason], ["CONTAINER_EXITED", 137, "Error"]);
    let alive = true;
    await Deno.stat(`/proc/${clientPid}`).catch(() => alive = false);
    assert(!alive, "the client outlived StopContainer");
    await cli.rt.StopContainer({ container_id: client, timeout: 1 }); // again: no error
    await cli.rt.RemoveContainer({ container_id: client });
    await cli.rt.RemoveContainer({ container_id: client });
    assertEquals(await ids({}), [server, job].sort());

    // The pod goes with what is left in it; nothing remains on the host.
    const serverPid = JSON.parse(
      (await cli.rt.ContainerStatus({ container_id: server, verbose: true })).info.info,
    ).pid;
    watch = await containerEvents(sock);
    await cli.rt.StopPodSandbox({ pod_sandbox_id: pod });
    assertEquals((await state(server)).state, "CONTAINER_EXITED");
    for (const pid of [serverPid, podPid]) {
      alive = true;
      await Deno.stat(`/proc/${pid}`).catch(() => alive = false);
      assert(!alive, `pid ${pid} outlived StopPodSandbox`);
    }
    await cli.rt.RemovePodSandbox({ pod_sandbox_id: pod });
    assertEquals(await ids({}), []);
    // The pod's STOPPED after its server's, then its DELETED after its containers'; each with the
    // pod's status and its containers' as they were then.
    const endEvents = await watch.until(pod, (e) => e.length >= 2);
    assertEquals(kinds(endEvents), ["STOPPED", "DELETED"]);
    assertEquals(endEvents.map((e) => e.pod_sandbox_status.state), [
      "SANDBOX_NOTREADY",
      "SANDBOX_NOTREADY",
    ]);
    assertEquals(
      endEvents[0].containers_statuses.map((x: Msg) => [x.id, x.state]).sort(),
      [[server, "CONTAINER_EXITED"], [job, "CONTAINER_EXITED"]].sort(),
    );
    const order = watch.events.map((e) => `${e.container_id}:${e.container_event_type}`);
    const at = (id: string, t: string) => order.indexOf(`${id}:CONTAINER_${t}_EVENT`);
    assert(at(server, "STOPPED") < at(pod, "STOPPED"), order.join("\n"));
    assert(at(pod, "STOPPED") < at(server, "DELETED"), order.join("\n"));
    assert(at(job, "DELETED") < at(pod, "DELETED"), order.join("\n"));
    watch.close();
    watch = undefined;
    assertEquals(await traces(net, pod), { ports: [], rules: [], leases: [] });
    const mounts = (await Deno.readTextFile("/proc/self/mounts")).split("\n")
      .filter((l) => l.includes(`${d!.execRoot}/cri`) || l.includes(`${d!.root}/cri`));
    assertEquals(mounts, []);
    for (const id of [pod, server, client, job]) {
      assertEquals(await cgroupDirs(d.cgroupParent, id), [], `${id.slice(0, 12)}'s cgroup is left`);
      let left = false;
      await Deno.stat(`${d.root}/cri/containers/${id}`).then(() => left = true, () => {});
      assert(!left, `${id.slice(0, 12)}'s directory is left`);
    }
    // the image is free again
    await cli.im.RemoveImage({ image: { image: ref } });
  } finally {
    if (cli) await removeAllPods(cli).catch(() => {});
    watch?.close();
    cli?.close();
    await d?.stop();
    await reg.close();
    await net.cleanup();
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
});
