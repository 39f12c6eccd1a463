/**
 * Legacy links (`--link`) as Docker 20.10 has them, through the docker CLI
 * and the Docker SDK for Python: HostConfig.Links in `/child:/parent/alias`
 * form, the child's extra name in the list, /etc/hosts on the default
 * bridge, the legacy env, a rename keeping the link, a missing container,
 * and link aliases in the embedded DNS of a user-defined network.
 * Where the expected values come from: docs/compat.md.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";
import { hasPyDocker, py } from "./fixtures/pydocker.ts";

Deno.test({
  name: "compat: legacy links as Docker 20.10",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const d = await containerDaemon();
    const k = (args: string[]) => d.docker(args, { timeoutMs: 30000 });
    const sdk = await hasPyDocker();
    try {
      await t.step("default bridge: hosts, env, names, inspect, rename", async () => {
        expectCode(
          await k([
            "run",
            "-d",
            "--name",
            "first",
            "--hostname",
            "fh",
            "-e",
            "SECRET=s1",
            "--expose",
            "8080",
            "--expose",
            "53/udp",
            "busybox",
            "sleep",
            "300",
          ]),
          0,
        );
        const ip = expectCode(
          await k(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "first"]),
          0,
        ).stdout.trim();
        expectCode(
          await k([
            "run",
            "-d",
            "--name",
            "second",
            "--link",
            "first:db",
            "busybox",
            "sleep",
            "300",
          ]),
          0,
        );
        const hosts = expectCode(await k(["exec", "second", "cat", "/etc/hosts"]), 0).stdout;
        assertStringIncludes(hosts, `${ip}\tdb fh first\n`);
        expectCode(await k(["exec", "second", "ping", "-c1", "-W2", "db"]), 0);
        const env = expectCode(await k(["exec", "second", "env"]), 0).stdout.split("\n");
        for (
          const want of [
            "DB_NAME=/second/db",
            "DB_ENV_SECRET=s1",
            `DB_PORT=udp://${ip}:53`, // the lowest port (links.go getDefaultPort)
            `DB_PORT_8080_TCP=tcp://${ip}:8080`,
            `DB_PORT_8080_TCP_ADDR=${ip}`,
            "DB_PORT_8080_TCP_PORT=8080",
            "DB_PORT_8080_TCP_PROTO=tcp",
            `DB_PORT_53_UDP=udp://${ip}:53`,
          ]
        ) assert(env.includes(want), `${want} not in\n${env.join("\n")}`);
        assert(!env.some((e) => e.startsWith("DB_ENV_PATH=")), "PATH is not exported");
        assertEquals(
          expectCode(await k(["inspect", "-f", "{{json .HostConfig.Links}}", "second"]), 0).stdout,
          '["/first:/second/db"]\n',
        );
        const names = expectCode(
          await k(["ps", "--no-trunc", "--filter", "name=first", "--format", "{{.Names}}"]),
          0,
        ).stdout;
        assertEquals(names, "first,second/db\n");
        // A rename of the child keeps the link (links are by ID).
        expectCode(await k(["rename", "first", "renamed"]), 0);
        assertEquals(
          expectCode(await k(["inspect", "-f", "{{json .HostConfig.Links}}", "second"]), 0).stdout,
          '["/renamed:/second/db"]\n',
        );
        expectCode(await k(["restart", "-t", "0", "second"]), 0);
        const env2 = expectCode(await k(["exec", "second", "env"]), 0).stdout;
        assertStringIncludes(env2, "DB_NAME=/second/db\n");
        assertStringIncludes(
          expectCode(await k(["exec", "second", "cat", "/etc/hosts"]), 0).stdout,
          `\tdb fh renamed\n`,
        );
        // Names come sorted (moby's name index); ps shows the first without a slash.
        expectCode(
          await k(["run", "-d", "--name", "aaa", "--link", "renamed:x", "busybox", "sleep", "300"]),
          0,
        );
        const ps = (extra: string[]) =>
          k(["ps", ...extra, "--filter", "name=renamed", "--format", "{{.Names}}"]);
        assertEquals(expectCode(await ps(["--no-trunc"]), 0).stdout, "aaa/x,renamed,second/db\n");
        assertEquals(expectCode(await ps([]), 0).stdout, "renamed\n");
        expectCode(await k(["rm", "-f", "aaa", "second", "renamed"]), 0);
      });

      await t.step(
        "docker CLI: --link on a user network is a DNS alias of that container",
        async () => {
          expectCode(await k(["network", "create", "clinet"]), 0);
          expectCode(
            await k([
              "run",
              "-d",
              "--name",
              "svc",
              "--network",
              "clinet",
              "busybox",
              "sleep",
              "300",
            ]),
            0,
          );
          const ip = expectCode(
            await k(["inspect", "-f", "{{.NetworkSettings.Networks.clinet.IPAddress}}", "svc"]),
            0,
          ).stdout.trim();
          const r = expectCode(
            await k([
              "run",
              "--rm",
              "--network",
              "clinet",
              "--link",
              "svc:backend",
              "busybox",
              "nslookup",
              "backend",
              "127.0.0.11",
            ]),
            0,
          );
          assertStringIncludes(r.stdout, ip);
          expectCode(await k(["rm", "-f", "svc"]), 0);
          expectCode(await k(["network", "rm", "clinet"]), 0);
        },
      );

      await t.step("a link to a missing container is a 400, Docker-worded", async () => {
        const r = expectCode(
          await k(["create", "--link", "ghost:g", "busybox", "true"]),
          1,
        );
        assertStringIncludes(r.stderr, "could not get container for ghost");
      });

      await t.step({
        name: "python SDK: 400 InvalidParameter; link aliases in the embedded DNS",
        ignore: !sdk,
        fn: async () => {
          const r = await py(
            d,
            `
print(status_of(lambda: client.create_container("busybox", "true", host_config=client.create_host_config(links={"ghost": "g"}))))
net = client.create_network("linknet")["Id"]
a = client.create_container("busybox", "sleep 300", name="target",
    networking_config=client.create_networking_config({"linknet": client.create_endpoint_config()}),
    host_config=client.create_host_config(network_mode="linknet"))["Id"]
client.start(a)
b = client.create_container("busybox", "sleep 300", name="asker",
    networking_config=client.create_networking_config({"linknet": client.create_endpoint_config(links={"target": "tgt"})}),
    host_config=client.create_host_config(network_mode="linknet"))["Id"]
client.start(b)
c = client.create_container("busybox", "sleep 300", name="other",
    host_config=client.create_host_config(network_mode="linknet"))["Id"]
client.start(c)
def run(cid, cmd):
    e = client.exec_create(cid, cmd)
    out = client.exec_start(e).decode()
    return client.exec_inspect(e)["ExitCode"], out
ip = client.inspect_container(a)["NetworkSettings"]["Networks"]["linknet"]["IPAddress"]
code, out = run(b, "nslookup tgt 127.0.0.11")
print(code, ip in out)
print(run(c, "nslookup tgt 127.0.0.11")[0] != 0)
print(json.dumps(client.inspect_container(b)["NetworkSettings"]["Networks"]["linknet"]["Links"]))
for x in (a, b, c):
    client.remove_container(x, force=True)
client.remove_network(net)
`,
          );
          assertEquals(
            r.stdout,
            `400 could not get container for ghost: No such container: ghost\n0 True\nTrue\n["target:tgt"]\n`,
            r.stderr,
          );
        },
      });
    } finally {
      await d.stop();
    }
  },
});
