/**
 * Docker 20.10 compatibility of small Engine API answers, through real
 * clients (the docker CLI and the Docker SDK for Python): a node outside any
 * swarm, the plugin list, the oldest API versions, /info's memory support,
 * the words for removing a running container. Where the expected values come
 * from: docs/compat.md.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";
import { hasPyDocker, py } from "./fixtures/pydocker.ts";
import { http1 } from "../modes/client/http1.ts";

const NOT_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

Deno.test("compat: API answers as Docker 20.10", async (t) => {
  const d = await containerDaemon();
  const k = (args: string[], env?: Record<string, string>) =>
    d.docker(args, { timeoutMs: 30000, env });
  const sdk = await hasPyDocker();
  try {
    await t.step("swarm endpoints: 503 as a node outside any swarm (docker CLI)", async () => {
      for (const args of [["service", "ls"], ["node", "ls"], ["secret", "ls"], ["config", "ls"]]) {
        const r = expectCode(await k(args), 1, args.join(" "));
        assertStringIncludes(r.stderr, `Error response from daemon: ${NOT_MANAGER}`);
      }
      const r = expectCode(await k(["swarm", "leave"]), 1);
      assertStringIncludes(
        r.stderr,
        "Error response from daemon: This node is not part of a swarm",
      );
      assertEquals(
        expectCode(await k(["info", "--format", "{{.Swarm.LocalNodeState}}"]), 0).stdout,
        "inactive\n",
      );
    });

    await t.step({
      name: "swarm endpoints: 503 as a node outside any swarm (python SDK)",
      ignore: !sdk,
      fn: async () => {
        const r = await py(
          d,
          `
print(client.leave_swarm(force=True))
for f in [client.inspect_swarm, client.services, client.tasks, client.nodes, client.secrets, client.configs]:
    print(status_of(f))
print(client.info()["Swarm"]["LocalNodeState"])
`,
        );
        assertEquals(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n");
        assertEquals(lines[0], "True");
        for (const l of lines.slice(1, 7)) assertEquals(l, `503 ${NOT_MANAGER}`);
        assertEquals(lines[7], "inactive");
      },
    });

    await t.step("plugins: empty list, a named plugin is not found", async () => {
      let r = expectCode(await k(["plugin", "ls", "--format", "{{.Name}}"]), 0);
      assertEquals(r.stdout, "");
      r = expectCode(await k(["plugin", "inspect", "nope"]), 1);
      assertStringIncludes(r.stderr, "nope");
      if (sdk) {
        r = await py(
          d,
          `print(json.dumps(client.plugins())); print(status_of(lambda: client.inspect_plugin("nope")))`,
        );
        assertEquals(r.code, 0, r.stderr);
        assertEquals(r.stdout, '[]\n404 plugin "nope" not found\n');
      }
    });

    await t.step({
      name: "API versions down to 1.12; IpcMode shareable below 1.40",
      ignore: !sdk,
      fn: async () => {
        const r = await py(
          d,
          `
v = client._result(client._get(client.base_url + "/v1.12/version"), True)
print(v["MinAPIVersion"])
print(status_of(lambda: client._raise_for_status(client._get(client.base_url + "/v1.11/version"))))
for ver in ["1.12", "1.39", "1.40"]:
    res = client._post_json(client.base_url + "/v%s/containers/create" % ver,
        data={"Image": "busybox", "Cmd": ["true"], "HostConfig": {}})
    cid = client._result(res, True)["Id"]
    print(ver, client.inspect_container(cid)["HostConfig"]["IpcMode"])
    client.remove_container(cid)
`,
        );
        assertEquals(r.code, 0, r.stderr);
        assertEquals(
          r.stdout,
          "1.12\n" +
            "400 client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version\n" +
            "1.12 shareable\n1.39 shareable\n1.40 private\n",
        );
      },
    });

    await t.step("info: MemoryLimit/SwapLimit say what the host's cgroups support", async () => {
      const r = expectCode(await k(["info", "--format", "{{json .}}"]), 0);
      const info = JSON.parse(r.stdout);
      const exists = (p: string) => {
        try {
          Deno.statSync(p);
          return true;
        } catch {
          return false;
        }
      };
      if (exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
        assertEquals(info.MemoryLimit, true);
        assertEquals(info.SwapLimit, exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"));
      } else if (exists("/sys/fs/cgroup/cgroup.controllers")) {
        const c = Deno.readTextFileSync("/sys/fs/cgroup/cgroup.controllers");
        assertEquals(info.MemoryLimit, c.split(/\s+/).includes("memory"));
      }
      if (info.SwapLimit) {
        // Say it only when it works: a container with a swap limit starts.
        expectCode(
          await k(["run", "--rm", "-m", "32m", "--memory-swap", "64m", "busybox", "true"]),
          0,
        );
      }
    });

    await t.step("rm of a running container: Docker's words", async () => {
      const id = expectCode(await k(["run", "-d", "busybox", "sleep", "100"]), 0).stdout.trim();
      let r = expectCode(await k(["rm", id.slice(0, 12)]), 1);
      assertStringIncludes(
        r.stderr,
        `Error response from daemon: You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`,
      );
      expectCode(await k(["pause", id]), 0);
      r = expectCode(await k(["rm", id]), 1);
      assertStringIncludes(
        r.stderr,
        `You cannot remove a paused container ${id}. Unpause and then stop the container before attempting removal or force remove`,
      );
      expectCode(await k(["rm", "-f", id]), 0);
      assert(!(await k(["ps", "-aq"])).stdout.includes(id.slice(0, 12)));
    });

    // The steps below come from moby's integration suite (docs/moby-integration.md).
    const call = async (method: string, path: string, body?: string) => {
      const r = await http1(
        d.socket,
        method,
        path,
        body === undefined ? {} : { "Content-Type": "application/json" },
        body === undefined ? undefined : new TextEncoder().encode(body),
      );
      return { status: r.status, text: new TextDecoder().decode(r.body) };
    };

    await t.step("info below API 1.25: ExecutionDriver, security options by name", async () => {
      const old = JSON.parse((await call("GET", "/v1.20/info")).text);
      assertEquals([old.ExecutionDriver, old.SecurityOptions], ["<not supported>", ["seccomp"]]);
      const now = JSON.parse((await call("GET", "/v1.41/info")).text);
      assertEquals([now.ExecutionDriver, now.SecurityOptions], [undefined, [
        "name=seccomp,profile=builtin",
      ]]);
    });

    await t.step(
      "containers below API 1.20: kill of a stopped one is no error; Config.Cpuset",
      async () => {
        const id = expectCode(
          await k(["create", "--cpuset-cpus", "0", "-m", "64m", "-v", "/data", "busybox"]),
          0,
        ).stdout.trim();
        assertEquals((await call("POST", `/v1.19/containers/${id}/kill`)).status, 204);
        const r = await call("POST", `/v1.20/containers/${id}/kill`);
        assertEquals(r.status, 409);
        const old = JSON.parse((await call("GET", `/v1.19/containers/${id}/json`)).text);
        assertEquals(
          [old.Config.Cpuset, old.Config.Memory, old.Config.VolumeDriver, old.Mounts],
          ["0", 64 * 1024 * 1024, "", undefined],
        );
        assertEquals(Object.keys(old.Volumes), ["/data"]);
        assertEquals(old.VolumesRW, { "/data": true });
        const now = JSON.parse((await call("GET", `/v1.41/containers/${id}/json`)).text);
        assertEquals([now.Config.Cpuset, now.Volumes, now.Mounts.length], [
          undefined,
          undefined,
          1,
        ]);
        expectCode(await k(["rm", "-v", id]), 0);
      },
    );

    await t.step("exec start: the body is required before the exec is looked up", async () => {
      let r = await call("POST", "/exec/foobar/start", "");
      assertEquals([r.status, JSON.parse(r.text).message], [
        400,
        "got EOF while reading request body",
      ]);
      r = await call("POST", "/exec/foobar/start", "{invalid json");
      assertEquals(r.status, 400);
      assertStringIncludes(
        r.text,
        "invalid character 'i' looking for beginning of object key string",
      );
      r = await call("POST", "/exec/foobar/start", "{}");
      assertEquals([r.status, JSON.parse(r.text).message], [404, "No such exec instance: foobar"]);
    });

    await t.step("tag: a repository named sha256 is refused", async () => {
      const r = expectCode(await k(["tag", "busybox", "sha256:sometag"]), 1);
      assertStringIncludes(
        r.stderr,
        "Error response from daemon: refusing to create an ambiguous tag using digest algorithm as name",
      );
    });

    await t.step("create: masked and read-only paths recorded in HostConfig", async () => {
      const hc = async (args: string[]) => {
        const id = expectCode(await k(["create", ...args, "busybox", "true"]), 0).stdout.trim();
        const r = expectCode(await k(["inspect", "-f", "{{json .HostConfig}}", id]), 0);
        expectCode(await k(["rm", id]), 0);
        const h = JSON.parse(r.stdout);
        return [h.MaskedPaths, h.ReadonlyPaths];
      };
      const [masked, ro] = await hc([]);
      // Docker 20.10.24's recorded default (moby oci/defaults.go; its TestCreateWithCustomMaskedPaths
      // compares with it); the spec masks /proc/interrupts and powercap besides (runtime_test)
      assertEquals(masked, [
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
      ]);
      assertEquals(ro, ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]);
      assertEquals(await hc(["--privileged"]), [null, null]);
      assertEquals(await hc(["--security-opt", "systempaths=unconfined"]), [[], []]);
    });

    await t.step("platform: pull refuses a bad one up front; create 404s another", async () => {
      let r = await call(
        "POST",
        "/v1.41/images/create?fromImage=hello-world&tag=latest&platform=foobar",
      );
      assertEquals([r.status, JSON.parse(r.text).message], [
        400,
        '"foobar": unknown operating system or architecture: invalid argument',
      ]);
      const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
      r = await call(
        "POST",
        `/v1.41/containers/create?platform=linuxDifferentOS/${arch}`,
        '{"Image":"busybox:latest"}',
      );
      assertEquals([r.status, JSON.parse(r.text).message], [
        404,
        `image with reference busybox:latest was found but does not match the specified platform: wanted linuxdifferentos/${arch}, actual: linux/${arch}`,
      ]);
      r = await call(
        "POST",
        `/v1.41/containers/create?platform=linux/${arch}`,
        '{"Image":"busybox"}',
      );
      assertEquals(r.status, 201);
      // below 1.41 the parameter is not read
      r = await call("POST", "/v1.40/containers/create?platform=bogus/x", '{"Image":"busybox"}');
      assertEquals(r.status, 201);
    });
  } finally {
    await d.stop();
  }
});
