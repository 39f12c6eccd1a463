/**
 * One shim per pod: the shim started for a pod's holder also runs the pod's
 * containers (as containerd's runc v2 shim groups a sandbox). Counted by the
 * shim.pid files and by the processes on the host; each container keeps its
 * own log, exec, stop and remove; a daemon kill -9 and restart reattaches;
 * the shim's death marks every container of the pod exited (137) and kills
 * what it ran; removing the pod ends the shim and leaves no process, mount
 * or cgroup. Host-network pods: no CNI is needed here (tests/cri_pods_test.ts
 * covers pod networking).
 */
import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals } from "../core/testing/assert.ts";
import { cgroupDirs, startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import { type CriClients, criClients, grpcError, pushTestImage } from "./fixtures/cri.ts";
import type { Msg } from "../modes/daemon/cri/types.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";
import { hasRunc } from "../core/runtime/testutil.ts";
import { isAlive } from "../core/runtime/proc.ts";

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function ppid(pid: number): number {
  return Number(/PPid:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]);
}

/**
 * Shim processes of the test daemon that run something: argv runs the shim
 * under its exec root, and it is not a warm one still waiting (a warm shim's
 * socket `--warm SOCK` is renamed when it is adopted).
 */
function busyShims(d: TestDaemon): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      const isShim = argv.some((a) => /\/shim\/entry\.[jt]s$/.test(a) || a === "shim");
      if (!isShim || !argv.some((a) => a.startsWith(d.execRoot))) {
        continue;
      }
      const w = argv.indexOf("--warm");
      if (w >= 0 && exists(argv[w + 1])) continue;
      out.push(Number(e.name));
    } catch { /* exited meanwhile */ }
  }
  return out.sort();
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function podConfig(name: string): Msg {
  return {
    metadata: { name, uid: `uid-${name}`, namespace: "default", attempt: 0 },
    hostname: name,
    log_directory: "",
    linux: { security_context: { namespace_options: { network: "NODE" } } },
  };
}

for (const handler of ["", "runc"]) {
  Deno.test({
    name: `cri[${handler || "berth"}]: one shim per pod runs the holder and every container; ` +
      "logs, exec, stop, remove, kill -9 of the daemon, the shim's death, teardown",
    ignore: handler === "runc" && !hasRunc,
    fn: () => podShim(handler),
  });
}

/** The whole story with the pods' runtime handler `handler` ("": the daemon's default, berth's). */
async function podShim(handler: string): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "berth-cri-podshim-" });
  const reg = await startTestRegistry();
  let d: TestDaemon | undefined;
  let cli: CriClients | undefined;
  try {
    d = await startDaemon();
    const sock = `${d.execRoot}/cri.sock`;
    const { ref } = await pushTestImage(d, reg.host);
    cli = criClients(sock);
    await cli.im.PullImage({ image: { image: ref } });

    const logDir = `${base}/logs`;
    const runPod = async (name: string) => {
      const sbConfig = { ...podConfig(name), log_directory: `${logDir}/${name}` };
      const { pod_sandbox_id: pod } = await cli!.rt.RunPodSandbox({
        config: sbConfig,
        runtime_handler: handler,
      });
      const pausePid: number = JSON.parse(
        (await cli!.rt.PodSandboxStatus({ pod_sandbox_id: pod, verbose: true })).info.info,
      ).pid;
      const create = async (cname: string, command: string[], start = true) => {
        const { container_id: id } = await cli!.rt.CreateContainer({
          pod_sandbox_id: pod,
          sandbox_config: sbConfig,
          config: {
            metadata: { name: cname, attempt: 0 },
            image: { image: ref },
            command,
            log_path: `${cname}.log`,
          },
        });
        if (start) await cli!.rt.StartContainer({ container_id: id });
        return id as string;
      };
      return { pod, pausePid, create };
    };
    const state = async (id: string) =>
      (await cli!.rt.ContainerStatus({ container_id: id })).status;
    const pidOf = async (id: string): Promise<number> =>
      JSON.parse((await cli!.rt.ContainerStatus({ container_id: id, verbose: true })).info.info)
        .pid;
    const exec = async (id: string, cmd: string[]) => {
      const r = await cli!.rt.ExecSync({ container_id: id, cmd });
      return { out: new TextDecoder().decode(r.stdout), code: r.exit_code };
    };
    const shimPidIn = (id: string) =>
      Deno.readTextFile(`${d!.execRoot}/cri/${id}/shim.pid`).then(Number);

    // A pod, then three containers in it: no new shim process.
    const p1 = await runPod("one");
    const a = await p1.create("a", ["sh", "-c", "while true; do echo tick-a; sleep 0.3; done"]);
    const b = await p1.create("b", ["sleep", "3600"]);
    const c = await p1.create("c", ["sh", "-c", "echo out-c; echo err-c >&2; exec sleep 3600"]);
    const shim = await shimPidIn(p1.pod);
    assertEquals(busyShims(d), [shim], "the pod's containers have shims of their own");
    assert(isAlive(shim));
    for (const id of [a, b, c]) {
      assertEquals(await shimPidIn(id), shim, `${id.slice(0, 12)} has a shim of its own`);
      assertEquals(ppid(await pidOf(id)), shim, `${id.slice(0, 12)}'s process is not the shim's`);
    }
    assertEquals(ppid(p1.pausePid), shim);

    // Each container: its own log in the CRI format, its own exec.
    await until(
      "a's ticks",
      async () => (await Deno.readTextFile(`${logDir}/one/a.log`)).includes(" stdout F tick-a\n"),
    );
    const cLog = await until("c's log", async () => {
      const t = await Deno.readTextFile(`${logDir}/one/c.log`);
      return t.includes("err-c") ? t : undefined;
    });
    assert(/^\S+ stdout F out-c$/m.test(cLog) && /^\S+ stderr F err-c$/m.test(cLog), cLog);
    assert(!cLog.includes("tick-a"), "a's output in c's log");
    for (const id of [a, b, c]) {
      const r = await exec(id, ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"]);
      assertEquals(r.code, 0);
    }
    assertEquals((await exec(b, ["cat", "/proc/1/cmdline"])).out, "sleep\x003600\x00");

    // Stop and remove one: the others and the shim go on.
    const bPid = await pidOf(b);
    await cli.rt.StopContainer({ container_id: b, timeout: 0 });
    const bst = await state(b);
    assertEquals([bst.state, bst.exit_code], ["CONTAINER_EXITED", 137]);
    assert(!isAlive(bPid), "b outlived StopContainer");
    await cli.rt.RemoveContainer({ container_id: b });
    assert(isAlive(shim), "the pod's shim ended with one of its containers");
    assertEquals((await exec(a, ["echo", "still"])).out, "still\n");
    // one that runs to completion: its exit code through the shim's wait
    const job = await p1.create("job", ["sh", "-c", "exit 3"]);
    const jst = await until("the job's exit", async () => {
      const s = await state(job);
      return s.state === "CONTAINER_EXITED" ? s : undefined;
    });
    assertEquals([jst.exit_code, jst.reason], [3, "Error"]);
    assert(isAlive(shim));

    // kill -9 of the daemon: the restarted one finds the pod's shim and every container in it.
    cli.close();
    await d.kill9();
    await d.restart();
    cli = criClients(sock);
    const running = async () =>
      (await cli!.rt.ListContainers({ filter: { state: { state: "CONTAINER_RUNNING" } } }))
        .containers.map((x: Msg) => x.id).sort();
    assertEquals(await running(), [a, c].sort());
    assertEquals((await exec(c, ["echo", "back"])).out, "back\n");
    assertEquals(await shimPidIn(p1.pod), shim);
    await cli.rt.StopContainer({ container_id: c, timeout: 1 });
    assertEquals((await state(c)).state, "CONTAINER_EXITED");
    assertEquals(
      (await cli.rt.PodSandboxStatus({ pod_sandbox_id: p1.pod })).status.state,
      "SANDBOX_READY",
    );

    // A second pod, whose shim dies: its containers are exited (137) and nothing of them runs.
    const p2 = await runPod("two");
    const x = await p2.create("x", ["sleep", "3600"]);
    const y = await p2.create("y", ["sleep", "3600"]);
    const shim2 = await shimPidIn(p2.pod);
    assert(shim2 !== shim);
    const xPid = await pidOf(x), yPid = await pidOf(y);
    // created, not started: the built-in runtime's shim has an init booted ahead (prewarm; runc
    // gets none) when it is killed
    const z = await p2.create("z", ["true"], false);
    if (!handler) {
      await until("the prewarmed init's sync socket", async () => {
        for await (const e of Deno.readDir(`${d!.execRoot}/cs`)) {
          if (e.name.startsWith(`${p2.pod.slice(0, 24)}.i`)) return true;
        }
      });
    }
    Deno.kill(shim2, "SIGKILL");
    await until("the shim's death", () => Promise.resolve(!isAlive(shim2)));
    for (const id of [x, y]) {
      const s = await state(id);
      assertEquals([s.state, s.exit_code], ["CONTAINER_EXITED", 137], id.slice(0, 12));
    }
    for (const pid of [xPid, yPid]) assert(!isAlive(pid), `pid ${pid} outlived its shim`);
    assertEquals(
      (await cli.rt.PodSandboxStatus({ pod_sandbox_id: p2.pod })).status.state,
      "SANDBOX_NOTREADY",
    );
    const notReady = await grpcError(cli.rt.ExecSync({ container_id: x, cmd: ["true"] }));
    assertEquals(notReady.code, grpc.status.FAILED_PRECONDITION);

    // Removing the pods ends the first shim; no process, mount or cgroup is left.
    const aPid = await pidOf(a);
    for (const p of [p1, p2]) await cli.rt.RemovePodSandbox({ pod_sandbox_id: p.pod });
    await until("the first pod's shim to end", () => Promise.resolve(!isAlive(shim)));
    for (const pid of [aPid, p1.pausePid, p2.pausePid]) {
      assert(!isAlive(pid), `pid ${pid} outlived RemovePodSandbox`);
    }
    assertEquals((await cli.rt.ListContainers({})).containers, []);
    const mounts = (await Deno.readTextFile("/proc/self/mounts")).split("\n")
      .filter((l) => l.includes(`${d!.execRoot}/cri`) || l.includes(`${d!.root}/cri`));
    assertEquals(mounts, []);
    for (const id of [p1.pod, p2.pod, a, b, c, job, x, y, z]) {
      assertEquals(await cgroupDirs(d.cgroupParent, id), [], `${id.slice(0, 12)}'s cgroup is left`);
      const left = await Deno.stat(`${d.execRoot}/cri/${id}`).then(() => true, () => false);
      assert(!left, `${id.slice(0, 12)}'s shim dir is left`);
    }
    // a shim ends a moment after its last task; a retired warm shim's socket goes before it does
    await until(
      "every shim to end",
      () => Promise.resolve(busyShims(d!).length === 0 || undefined),
      15_000,
    )
      .catch(() => {});
    assertEquals(busyShims(d), []);
    // the killed shim's socket and its prewarmed init's sync socket went with RemovePodSandbox
    const cs = [...Deno.readDirSync(`${d.execRoot}/cs`)].map((e) => e.name)
      .filter((n) => [p1.pod, p2.pod].some((p) => n.startsWith(p.slice(0, 24))));
    assertEquals(cs, []);
  } finally {
    if (cli) {
      const { items } = await cli.rt.ListPodSandbox({}).catch(() => ({ items: [] }));
      for (const p of items) {
        // best effort: a cleanup after a failure must reach every pod
        await cli.rt.RemovePodSandbox({ pod_sandbox_id: p.id }).catch(() => {});
      }
      cli.close();
    }
    await d?.stop();
    await reg.close();
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}
