/**
 * The Engine API on TCP and TLS: a daemon with a unix socket AND
 * `tcp://127.0.0.1:PORT --tlsverify` (a throwaway CA, server and client
 * certificates made with openssl); the stock docker CLI and the berth client
 * run, exec (hijacked streams) and ps over it, with flags and with
 * DOCKER_TLS_VERIFY/DOCKER_CERT_PATH; a client without a certificate is
 * refused; plain TCP on loopback works, with dockerd's warning in the log.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, teardown } from "./containers_helpers.ts";
import { berthCmd, run, type RunOptions } from "./fixtures/daemon.ts";
import { freePort, makeCerts, OPENSSL } from "./fixtures/certs.ts";

const DOCKER = (() => {
  try {
    return new Deno.Command("docker", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false; // no docker CLI
  }
})();
const skip = !OPENSSL
  ? "openssl is not installed"
  : !DOCKER
  ? "the docker CLI is not installed"
  : "";
if (skip) console.log(`SKIP daemon tcp/tls tests: ${skip}`);

/** A client process without the test daemon's unix -H. */
const docker = (args: string[], o: RunOptions = {}) =>
  run(["docker", ...args], {
    timeoutMs: 30000,
    ...o,
    env: { DOCKER_CONFIG: "/nonexistent", ...o.env },
  });
const berth = (args: string[], o: RunOptions = {}) =>
  run(berthCmd(args), { timeoutMs: 30000, ...o });

Deno.test({
  name:
    "daemon: unix socket and tcp --tlsverify at once; docker CLI and berth run/exec/ps over TLS",
  ignore: !!skip,
  async fn(t) {
    const certs = await makeCerts();
    const port = freePort();
    const tcp = `tcp://127.0.0.1:${port}`;
    const d = await containerDaemon({
      args: [
        ...["-H", tcp, "--tlsverify", "--tlscacert", `${certs}/ca.pem`],
        ...["--tlscert", `${certs}/server-cert.pem`, "--tlskey", `${certs}/server-key.pem`],
      ],
    });
    const tls = [
      ...["--tlsverify", "--tlscacert", `${certs}/ca.pem`, "--tlscert", `${certs}/cert.pem`],
      ...["--tlskey", `${certs}/key.pem`, "-H", tcp],
    ];
    try {
      await t.step("docker CLI: run (attach), exec -i, ps", async () => {
        let r = expectCode(await docker([...tls, "run", "--rm", "busybox", "echo", "hi"]), 0);
        assertEquals(r.stdout, "hi\n");
        expectCode(
          await docker([...tls, "run", "-d", "--name", "web", "busybox", "sleep", "60"]),
          0,
        );
        r = expectCode(await docker([...tls, "exec", "-i", "web", "cat"], { stdin: "piped\n" }), 0);
        assertEquals(r.stdout, "piped\n");
        expectCode(await docker([...tls, "exec", "web", "sh", "-c", "exit 3"]), 3);
        r = expectCode(await docker([...tls, "ps", "--format", "{{.Names}}"]), 0);
        assertEquals(r.stdout, "web\n");
      });
      await t.step("berth client: run, exec -i, ps, logs, cp", async () => {
        let r = expectCode(await berth([...tls, "run", "--rm", "busybox", "echo", "hi"]), 0);
        assertEquals(r.stdout, "hi\n");
        r = expectCode(await berth([...tls, "exec", "-i", "web", "cat"], { stdin: "piped2\n" }), 0);
        assertEquals(r.stdout, "piped2\n");
        r = expectCode(await berth([...tls, "ps", "--format", "{{.Names}}"]), 0);
        assertEquals(r.stdout, "web\n");
        expectCode(await berth([...tls, "logs", "web"]), 0);
        await Deno.writeTextFile(`${certs}/upload.txt`, "copied over tls\n");
        expectCode(await berth([...tls, "cp", `${certs}/upload.txt`, "web:/tmp/"]), 0);
        r = expectCode(await berth([...tls, "exec", "web", "cat", "/tmp/upload.txt"]), 0);
        assertEquals(r.stdout, "copied over tls\n");
      });
      await t.step("DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH", async () => {
        const env = { DOCKER_HOST: tcp, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs };
        let r = expectCode(await docker(["ps", "--format", "{{.Names}}"], { env }), 0);
        assertEquals(r.stdout, "web\n");
        r = expectCode(await berth(["exec", "web", "echo", "via-env"], { env }), 0);
        assertEquals(r.stdout, "via-env\n");
      });
      await t.step(
        "--tls without --tlsverify: the server's certificate is not checked",
        async () => {
          const r = expectCode(
            await berth([
              ...["--tls", "--tlscert", `${certs}/cert.pem`, "--tlskey", `${certs}/key.pem`],
              ...["-H", tcp, "run", "--rm", "busybox", "echo", "unverified"],
            ]),
            0,
          );
          assertEquals(r.stdout, "unverified\n");
        },
      );
      await t.step("refused: no client certificate, a wrong CA, plain HTTP", async () => {
        const noCert = ["--tlsverify", "--tlscacert", `${certs}/ca.pem`, "-H", tcp, "ps"];
        let r = await docker(noCert);
        assert(r.code !== 0 && !r.stdout.includes("CONTAINER"), r.stdout + r.stderr);
        r = await berth(noCert);
        assert(r.code !== 0 && !r.stdout.includes("CONTAINER"), r.stdout + r.stderr);
        r = await berth(["--tlsverify", "--tlscacert", `${certs}/cert.pem`, "-H", tcp, "ps"]);
        assert(r.code !== 0, r.stdout);
        r = await docker(["-H", tcp, "ps"]);
        assert(r.code !== 0 && !r.stdout.includes("CONTAINER"), r.stdout + r.stderr);
      });
      await t.step("the unix socket still serves, plain", async () => {
        const r = expectCode(await d.docker(["exec", "web", "echo", "unix"]), 0);
        assertEquals(r.stdout, "unix\n");
        const log = await Deno.readTextFile(d.logPath);
        assertStringIncludes(log, `API listen on 127.0.0.1:${port} (TLS)`);
        assert(!log.includes("without --tlsverify"), "no insecure warning with --tlsverify");
      });
    } finally {
      await teardown(d);
      await Deno.remove(certs, { recursive: true });
    }
  },
});

Deno.test({
  name: "daemon: plain tcp on loopback serves, with dockerd's warning in the log",
  ignore: !DOCKER,
  async fn() {
    const port = freePort();
    const tcp = `tcp://127.0.0.1:${port}`;
    const d = await containerDaemon({ args: ["-H", tcp] });
    try {
      let r = expectCode(await docker(["-H", tcp, "run", "--rm", "busybox", "echo", "plain"]), 0);
      assertEquals(r.stdout, "plain\n");
      r = expectCode(
        await berth(["-H", tcp, "run", "--rm", "-i", "busybox", "cat"], { stdin: "x\n" }),
        0,
      );
      assertEquals(r.stdout, "x\n");
      const log = await Deno.readTextFile(d.logPath);
      assertStringIncludes(
        log,
        "Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.",
      );
    } finally {
      await teardown(d);
    }
  },
});
