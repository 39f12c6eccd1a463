/**
 * Docker 20.10 compatibility of container behaviour, through real clients
 * (the docker CLI and the Docker SDK for Python): exec stream framing and
 * exit codes, default sysctls, the hostname in the embedded DNS, groups of
 * `-u`, host port 0, `tail=-1`, which mounts `Mounts` lists. Where the
 * expected values come from: docs/compat.md.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";
import { hasPyDocker, py } from "./fixtures/pydocker.ts";

Deno.test("compat: containers as Docker 20.10", async (t) => {
  const d = await containerDaemon();
  const k = (args: string[]) => d.docker(args, { timeoutMs: 30000 });
  const sdk = await hasPyDocker();
  try {
    const id = expectCode(await k(["run", "-d", "--name", "box", "busybox", "sleep", "1000"]), 0)
      .stdout.trim();

    await t.step({
      name: "exec: created with Tty, started without → multiplexed frames (python SDK)",
      ignore: !sdk,
      fn: async () => {
        const r = await py(
          d,
          `
def raw_start(eid, tty):
    sock = client.exec_start(eid, tty=tty, socket=True)
    s = getattr(sock, "_sock", sock)
    data = b""
    while True:
        c = s.recv(4096)
        if not c:
            break
        data += c
    return data
print(repr(raw_start(client.exec_create("${id}", ["echo", "hi"], tty=True)["Id"], False)))
print(repr(raw_start(client.exec_create("${id}", ["echo", "hi"], tty=True)["Id"], True)))
print(repr(raw_start(client.exec_create("${id}", ["echo", "hi"], tty=False)["Id"], False)))
`,
        );
        assertEquals(r.code, 0, r.stderr);
        assertEquals(
          r.stdout,
          [
            String.raw`b'\x01\x00\x00\x00\x00\x00\x00\x04hi\r\n'`, // pty output, framed
            String.raw`b'hi\r\n'`,
            String.raw`b'\x01\x00\x00\x00\x00\x00\x00\x03hi\n'`,
          ].join("\n") + "\n",
        );
      },
    });

    await t.step("exec: a binary that does not exist exits 126", async () => {
      const r = expectCode(await k(["exec", "box", "/nonexistent"]), 126);
      assertStringIncludes(r.stdout + r.stderr, "/nonexistent");
      // A process that itself exits 127 keeps its code.
      expectCode(await k(["exec", "box", "sh", "-c", "exit 127"]), 127);
      if (sdk) {
        const p = await py(
          d,
          `
eid = client.exec_create("${id}", ["/nonexistent"])["Id"]
client.exec_start(eid)
print(client.exec_inspect(eid)["ExitCode"])
`,
        );
        assertEquals(p.stdout, "126\n", p.stderr);
      }
    });

    await t.step(
      "sysctls: unprivileged ping and ports by default, not with host network",
      async () => {
        const cat =
          "cat /proc/sys/net/ipv4/ping_group_range /proc/sys/net/ipv4/ip_unprivileged_port_start";
        let r = expectCode(await k(["run", "--rm", "busybox", "sh", "-c", cat]), 0);
        assertEquals(r.stdout, "0\t2147483647\n0\n");
        // the container's --sysctl wins
        r = expectCode(
          await k([
            "run",
            "--rm",
            "--sysctl",
            "net.ipv4.ip_unprivileged_port_start=80",
            "busybox",
            "sh",
            "-c",
            cat,
          ]),
          0,
        );
        assertEquals(r.stdout, "0\t2147483647\n80\n");
        const host = await Deno.readTextFile("/proc/sys/net/ipv4/ping_group_range");
        r = expectCode(
          await k([
            "run",
            "--rm",
            "--network",
            "host",
            "busybox",
            "cat",
            "/proc/sys/net/ipv4/ping_group_range",
          ]),
          0,
        );
        assertEquals(r.stdout, host);
      },
    );

    await t.step(
      "DNS: the container's own hostname resolves on a user-defined network",
      async () => {
        expectCode(await k(["network", "create", "hostnet1"]), 0);
        try {
          // /etc/hosts cleared, as moby's TestHostnameDnsResolution does
          const r = expectCode(
            await k([
              "run",
              "--rm",
              "--network",
              "hostnet1",
              "--hostname",
              "foobar",
              "busybox",
              "sh",
              "-c",
              "echo 127.0.0.1 localhost > /etc/hosts; nslookup foobar; hostname -i",
            ]),
            0,
          );
          const ip = r.stdout.trim().split("\n").at(-1)!;
          assertMatch(ip, /^\d+\.\d+\.\d+\.\d+$/);
          assertStringIncludes(r.stdout, `Name:\tfoobar`);
          assertStringIncludes(r.stdout, `Address: ${ip}`);
        } finally {
          await k(["network", "rm", "hostnet1"]);
        }
      },
    );

    await t.step(
      "run -u / exec -u: the primary group is among the supplementary groups",
      async () => {
        const id = async (args: string[]) => expectCode(await k(args), 0).stdout;
        assertEquals(
          await id(["run", "--rm", "-u", "alice", "busybox", "id"]),
          "uid=1000(alice) gid=1000(alice) groups=10(wheel),100(users),1000(alice)\n",
        );
        assertEquals(
          await id(["run", "--rm", "busybox", "id"]),
          "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n",
        );
        assertEquals(
          await id(["run", "--rm", "-u", "nobody", "busybox", "id"]),
          "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n",
        );
        assertEquals(
          await id(["exec", "-u", "alice", "box", "id"]),
          "uid=1000(alice) gid=1000(alice) groups=10(wheel),100(users),1000(alice)\n",
        );
        assertEquals(
          await id(["exec", "box", "id"]),
          "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n",
        );
        // exec -u keeps the container's --group-add, as moby's getUser does
        const ga = expectCode(
          await k(["run", "-d", "--group-add", "daemon", "busybox", "sleep", "100"]),
          0,
        ).stdout.trim();
        assertEquals(
          await id(["exec", "-u", "nobody", ga, "id"]),
          "uid=65534(nobody) gid=65534(nogroup) groups=1(daemon),65534(nogroup)\n",
        );
        expectCode(await k(["rm", "-f", ga]), 0);
      },
    );

    await t.step("ports: host port 0 picks a free port", async () => {
      const c = expectCode(
        await k(["run", "-d", "-p", "127.0.0.1:0:8080", "busybox", "httpd", "-f", "-p", "8080"]),
        0,
      ).stdout.trim();
      const r = expectCode(await k(["port", c, "8080"]), 0);
      const m = /^127\.0\.0\.1:(\d+)$/.exec(r.stdout.trim());
      assert(m && Number(m[1]) > 0, r.stdout);
      expectCode(await k(["rm", "-f", c]), 0);
      if (sdk) {
        const p = await py(
          d,
          `
c = client.create_container("busybox", ["sleep", "100"], ports=[80],
    host_config=client.create_host_config(port_bindings={80: ("127.0.0.1", "0")}))
client.start(c)
b = client.inspect_container(c)["NetworkSettings"]["Ports"]["80/tcp"][0]
print(b["HostIp"], int(b["HostPort"]) > 0)
client.remove_container(c, force=True)
`,
        );
        assertEquals(p.stdout, "127.0.0.1 True\n", p.stderr);
      }
    });

    await t.step({
      name: "logs: tail=-1 means every line",
      ignore: !sdk,
      fn: async () => {
        const c = expectCode(
          await k(["run", "-d", "busybox", "sh", "-c", "echo one; echo two; echo three"]),
          0,
        ).stdout.trim();
        expectCode(await k(["wait", c]), 0);
        const p = await py(
          d,
          `
for tail in ["-1", "all", "x", "2", "0"]:
    res = client._get(client._url("/containers/{0}/logs", "${c}"), params={"stdout": 1, "tail": tail})
    body = res.content
    print(tail, body.count(b"\\x01\\x00\\x00\\x00"))
`,
        );
        assertEquals(p.stdout, "-1 3\nall 3\nx 3\n2 2\n0 0\n", p.stderr);
      },
    });

    await t.step(
      "inspect Mounts: --tmpfs is not listed (and wins over a VOLUME), --mount type=tmpfs is",
      async () => {
        const c = expectCode(
          await k([
            "create",
            "--tmpfs",
            "/t1",
            "--mount",
            "type=tmpfs,dst=/t2",
            "busybox",
            "true",
          ]),
          0,
        ).stdout.trim();
        const r = expectCode(
          await k(["inspect", "-f", "{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}", c]),
          0,
        );
        assertEquals(r.stdout, "tmpfs:/t2 \n");
        expectCode(await k(["rm", c]), 0);
        // A --tmpfs over an image VOLUME wins: no anonymous volume, a tmpfs there.
        const vols = async () => expectCode(await k(["volume", "ls", "-q"]), 0).stdout;
        const before = await vols();
        expectCode(
          await d.docker(["build", "-q", "-t", "withvol", "-"], {
            stdin: "FROM busybox\nVOLUME /data\n",
            env: { DOCKER_BUILDKIT: "0" },
            timeoutMs: 60000,
          }),
          0,
        );
        const out = expectCode(
          await k([
            "run",
            "--rm",
            "--tmpfs",
            "/data",
            "withvol",
            "grep",
            " /data ",
            "/proc/mounts",
          ]),
          0,
        ).stdout;
        assertMatch(out, /^tmpfs \/data tmpfs /);
        assertEquals(await vols(), before);
      },
    );
  } finally {
    await d.stop();
  }
});
