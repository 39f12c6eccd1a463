/**
 * The stock docker CLI against `berth daemon`: run (attached, -i, -t, --rm,
 * exit codes), ps, logs, exec, attach, wait, inspect, stop/rm, volumes.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import {
  containerDaemon,
  eventually,
  expectCode,
  RUNTIMES,
  teardown,
} from "./containers_helpers.ts";

for (const rt of RUNTIMES) {
  Deno.test(`docker CLI containers[${rt}]`, async (t) => {
    const d = await containerDaemon({ defaultRuntime: rt });
    const k = (args: string[], stdin?: string) => d.docker(args, { stdin, timeoutMs: 30000 });
    try {
      await t.step("run", async () => {
        let r = expectCode(await k(["run", "--rm", "busybox", "echo", "hi"]), 0);
        assertEquals(r.stdout, "hi\n");
        expectCode(await k(["run", "--rm", "busybox", "sh", "-c", "exit 3"]), 3);
        r = expectCode(await k(["run", "--rm", "busybox", "nosuch"]), 127);
        assertStringIncludes(r.stderr, "executable file not found");
        expectCode(await k(["run", "--rm", "busybox", "/etc"]), 126);
        r = expectCode(await k(["run", "--rm", "-t", "busybox", "echo", "hi"]), 0);
        assertEquals(r.stdout, "hi\r\n");
        r = expectCode(
          await k(["run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo end"], "from-stdin\n"),
          0,
        );
        assertEquals(r.stdout, "from-stdin\nend\n");
        r = expectCode(await k(["run", "--rm", "busybox", "sh", "-c", "echo o; echo e >&2"]), 0);
        assertEquals([r.stdout, r.stderr], ["o\n", "e\n"]);
      });

      await t.step("detached: ps, logs, exec, top, attach, wait, stop, rm", async () => {
        const id = expectCode(
          await k([
            "run",
            "-d",
            "--name",
            "svc",
            "busybox",
            "sh",
            "-c",
            "echo ready; exec sleep 1000",
          ]),
          0,
        ).stdout.trim();
        await eventually(async () => (await k(["logs", "svc"])).stdout === "ready\n");
        let r = expectCode(await k(["ps"]), 0);
        assertMatch(
          r.stdout,
          new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo ready; …"\\s+.*Up .*svc\\n`),
        );
        r = expectCode(await k(["ps", "--format", "{{.ID}} {{.Names}} {{.State}}"]), 0);
        assertEquals(r.stdout, `${id.slice(0, 12)} svc running\n`);
        r = expectCode(await k(["logs", "-t", "svc"]), 0);
        assertMatch(r.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ready\n$/);
        r = expectCode(await k(["exec", "svc", "echo", "in-exec"]), 0);
        assertEquals(r.stdout, "in-exec\n");
        expectCode(await k(["exec", "svc", "sh", "-c", "exit 4"]), 4);
        r = expectCode(await k(["exec", "-i", "svc", "cat"], "piped"), 0);
        assertEquals(r.stdout, "piped");
        r = expectCode(
          await k([
            "exec",
            "-u",
            "nobody",
            "-w",
            "/tmp",
            "-e",
            "X=y",
            "svc",
            "sh",
            "-c",
            "echo $(id -u) $(pwd) $X",
          ]),
          0,
        );
        assertEquals(r.stdout, "65534 /tmp y\n");
        r = expectCode(await k(["exec", "-t", "svc", "echo", "tty"]), 0);
        assertEquals(r.stdout, "tty\r\n");
        r = expectCode(await k(["top", "svc"]), 0);
        assertStringIncludes(r.stdout, "sleep 1000");
        r = expectCode(
          await k([
            "inspect",
            "-f",
            "{{.State.Running}} {{.Config.Tty}} {{.HostConfig.NetworkMode}}",
            "svc",
          ]),
          0,
        );
        assertEquals(r.stdout, "true false bridge\n");
        const waiter = k(["wait", "svc"]);
        expectCode(await k(["stop", "-t", "1", "svc"]), 0);
        assertEquals(expectCode(await waiter, 0).stdout, "137\n");
        expectCode(await k(["rm", "svc"]), 0);

        // attach to a running container: output until it exits, its exit code
        expectCode(
          await k([
            "run",
            "-d",
            "--name",
            "att",
            "busybox",
            "sh",
            "-c",
            "sleep 1; echo late; exit 6",
          ]),
          0,
        );
        r = await k(["attach", "--no-stdin", "att"]);
        assertEquals(r.stdout, "late\n");
        assertEquals(r.code, 6);
        // start -a replays nothing but streams the new run
        r = await k(["start", "-a", "att"]);
        assertEquals([r.stdout, r.code], ["late\n", 6]);
        expectCode(await k(["rm", "att"]), 0);
      });

      await t.step("--rm, volumes, prune", async () => {
        expectCode(
          await k(["run", "--rm", "-v", "dv:/data", "busybox", "sh", "-c", "echo x > /data/f"]),
          0,
        );
        assertEquals(
          expectCode(await k(["run", "--rm", "-v", "dv:/data", "busybox", "cat", "/data/f"]), 0)
            .stdout,
          "x\n",
        );
        assertEquals(expectCode(await k(["volume", "ls", "-q"]), 0).stdout, "dv\n");
        const r = await k(["volume", "rm", "dv"]);
        assertEquals(r.code, 0, r.stderr);
        assertEquals(expectCode(await k(["ps", "-aq"]), 0).stdout, "");
        expectCode(await k(["create", "--name", "c1", "busybox", "true"]), 0);
        assertMatch(
          expectCode(await k(["container", "prune", "-f"]), 0).stdout,
          /Total reclaimed space/,
        );
        assertEquals(expectCode(await k(["ps", "-aq"]), 0).stdout, "");
        assert(true);
      });
    } finally {
      await teardown(d);
    }
  });
}
