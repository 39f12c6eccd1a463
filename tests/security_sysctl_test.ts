/**
 * Sysctls a container may not set are refused at create (issue 11 item 3):
 * only those of a namespace it has for itself, as runc; 400 with runc's
 * words through the API, 125 through the client, nothing recorded, and the
 * host's values unchanged. Allowed ones still reach the container.
 * @module
 */
import { assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";

const PRINTK = "/proc/sys/kernel/printk_ratelimit_burst";
const KEEPALIVE = "/proc/sys/net/ipv4/tcp_keepalive_probes";
const SHMMNI = "/proc/sys/kernel/shmmni";
const read = (p: string) => Deno.readTextFileSync(p).trim();
const other = (p: string) => String(Number(read(p)) === 11 ? 12 : 11);

Deno.test({
  name: "sysctls of the host's namespaces are refused at create",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const host = { printk: read(PRINTK), keepalive: read(KEEPALIVE), shmmni: read(SHMMNI) };
    const hostNow = () => ({
      printk: read(PRINTK),
      keepalive: read(KEEPALIVE),
      shmmni: read(SHMMNI),
    });
    const d = await containerDaemon();
    const api = async (path: string, body: unknown) => {
      const out = await new Deno.Command("curl", {
        args: [
          "-s",
          "--unix-socket",
          d.socket,
          "-w",
          "\n%{http_code}",
          "-X",
          "POST",
          "-H",
          "Content-Type: application/json",
          "-d",
          JSON.stringify(body),
          `http://localhost/v1.41${path}`,
        ],
        stdout: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      const i = text.lastIndexOf("\n");
      return { status: Number(text.slice(i + 1)), body: text.slice(0, i) };
    };
    const noContainers = async () =>
      assertEquals((await d.berth(["ps", "-aq"])).stdout, "", "nothing recorded");
    try {
      await t.step("client --sysctl: 125 with runc's words", async () => {
        const r = expectCode(
          await d.berth([
            "run",
            "--rm",
            "--sysctl",
            `kernel.printk_ratelimit_burst=${other(PRINTK)}`,
            "busybox",
            "true",
          ]),
          125,
          "run",
        );
        assertStringIncludes(
          r.stderr,
          `Error response from daemon: sysctl "kernel.printk_ratelimit_burst" is not in a separate kernel namespace`,
        );
        const h = expectCode(
          await d.berth([
            "create",
            "--network",
            "host",
            "--sysctl",
            `net.ipv4.tcp_keepalive_probes=${other(KEEPALIVE)}`,
            "busybox",
            "true",
          ]),
          125,
          "create",
        );
        assertStringIncludes(
          h.stderr,
          `sysctl "net.ipv4.tcp_keepalive_probes" not allowed in host network namespace`,
        );
        await noContainers();
        assertEquals(hostNow(), host);
      });

      await t.step("raw API: 400, nothing recorded", async () => {
        const create = (hc: Record<string, unknown>) =>
          api("/containers/create", { Image: "busybox", Cmd: ["true"], HostConfig: hc });
        const cases: [Record<string, unknown>, string][] = [
          [
            { Sysctls: { "kernel.printk_ratelimit_burst": other(PRINTK) } },
            `sysctl "kernel.printk_ratelimit_burst" is not in a separate kernel namespace`,
          ],
          [
            { NetworkMode: "host", Sysctls: { "net.ipv4.tcp_keepalive_probes": other(KEEPALIVE) } },
            `sysctl "net.ipv4.tcp_keepalive_probes" not allowed in host network namespace`,
          ],
          [
            { IpcMode: "host", Sysctls: { "kernel.shmmni": other(SHMMNI) } },
            `sysctl "kernel.shmmni" is not allowed in the hosts ipc namespace`,
          ],
          [{ Sysctls: { "net/../kernel/printk": "1" } }, `invalid sysctl "net/../kernel/printk"`],
        ];
        for (const [hc, msg] of cases) {
          const r = await create(hc);
          assertEquals(r.status, 400, r.body);
          assertEquals(JSON.parse(r.body).message, msg);
        }
        await noContainers();
        // the network of a container that shares the host's is the host's
        const x = expectCode(
          await d.berth(["create", "--network", "host", "--name", "hostnet", "busybox", "true"]),
          0,
          "create hostnet",
        );
        const r = await create({
          NetworkMode: "container:hostnet",
          Sysctls: { "net.ipv4.tcp_keepalive_probes": other(KEEPALIVE) },
        });
        assertEquals(r.status, 400, r.body);
        assertStringIncludes(r.body, "not allowed in host network namespace");
        expectCode(await d.berth(["rm", x.stdout.trim()]), 0, "rm");
        assertEquals(hostNow(), host);
      });

      for (const rt of ["berth", "runc"]) {
        await t.step(
          `${rt}: the container's own namespaces take them, the host keeps its`,
          async () => {
            const r = expectCode(
              await d.berth([
                "run",
                "--rm",
                "--runtime",
                rt,
                "--sysctl",
                "net.ipv4.tcp_keepalive_probes=3",
                "--sysctl",
                "kernel.shmmni=1234",
                "busybox",
                "cat",
                KEEPALIVE,
                SHMMNI,
              ]),
              0,
              "run",
            );
            assertEquals(r.stdout, "3\n1234\n");
            assertEquals(hostNow(), host);
          },
        );
      }
    } finally {
      // had berth written them, put the host's values back
      Deno.writeTextFileSync(PRINTK, host.printk);
      Deno.writeTextFileSync(KEEPALIVE, host.keepalive);
      Deno.writeTextFileSync(SHMMNI, host.shmmni);
      await d.stop();
    }
  },
});
