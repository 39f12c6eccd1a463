/**
 * End-to-end container lifecycle through the berth client, with the built-in
 * runtime and with runc: run/exit codes, create/start/stop/restart/rm, ps,
 * inspect, wait, rename, pause, top, logs (json-file on disk, --tail, -t,
 * -f), exec, stdin, volumes.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import { berthCmd } from "./fixtures/daemon.ts";
import {
  containerDaemon,
  eventually,
  expectCode,
  RUNTIMES,
  teardown,
} from "./containers_helpers.ts";

for (const rt of RUNTIMES) {
  Deno.test(`containers[${rt}]: run, exit codes, lifecycle, logs, exec, volumes`, async (t) => {
    const d = await containerDaemon({ defaultRuntime: rt });
    const b = (args: string[], stdin?: string) => d.berth(args, { stdin, timeoutMs: 30000 });
    try {
      await t.step("run and exit codes", async () => {
        let r = expectCode(await b(["run", "--rm", "busybox", "echo", "hello"]), 0);
        assertEquals(r.stdout, "hello\n");
        expectCode(await b(["run", "--rm", "busybox", "sh", "-c", "exit 7"]), 7);
        r = expectCode(await b(["run", "--rm", "busybox", "nosuchcmd"]), 127);
        assertStringIncludes(r.stderr, "executable file not found");
        expectCode(await b(["run", "--rm", "busybox", "/etc"]), 126);
        // stdout and stderr stay separate without a tty
        r = expectCode(
          await b(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2"]),
          0,
        );
        assertEquals(r.stdout, "out\n");
        assertEquals(r.stderr, "err\n");
        // -i: stdin reaches the container, EOF closes it
        r = expectCode(
          await b(["run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done"], "abc\n"),
          0,
        );
        assertEquals(r.stdout, "abc\ndone\n");
        // env, workdir, user, hostname
        r = expectCode(
          await b([
            "run",
            "--rm",
            "-e",
            "FOO=bar",
            "-w",
            "/tmp",
            "-u",
            "nobody",
            "--hostname",
            "hh",
            "busybox",
            "sh",
            "-c",
            "echo $FOO $(pwd) $(id -u) $(hostname)",
          ]),
          0,
        );
        assertEquals(r.stdout, "bar /tmp 65534 hh\n");
      });

      await t.step("detached lifecycle: ps, inspect, logs, stop, start, restart, rm", async () => {
        const r = expectCode(
          await b([
            "run",
            "-d",
            "--name",
            "web",
            "--label",
            "a=b",
            "busybox",
            "sh",
            "-c",
            'trap "echo bye; exit 0" TERM; echo started; while true; do sleep 0.1; done',
          ]),
          0,
        );
        const id = r.stdout.trim();
        assertMatch(id, /^[0-9a-f]{64}$/);
        await eventually(async () => (await b(["logs", "web"])).stdout.includes("started"));
        let ps = expectCode(await b(["ps"]), 0);
        const lines = ps.stdout.trim().split("\n");
        assertMatch(
          lines[0],
          /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/,
        );
        assertMatch(
          lines[1],
          new RegExp(
            `^${
              id.slice(0, 12)
            }\\s+busybox\\s+"sh -c 'trap \\\\"echo b…"\\s+.* ago\\s+Up .*\\s+web$`,
          ),
        );
        ps = expectCode(await b(["ps", "-q", "--no-trunc"]), 0);
        assertEquals(ps.stdout, `${id}\n`);
        ps = expectCode(await b(["ps", "--format", "json"]), 0);
        const j = JSON.parse(ps.stdout.trim().split("\n")[0]);
        assertEquals(j.Names, "web");
        assertEquals(j.State, "running");
        ps = expectCode(
          await b(["ps", "-a", "--filter", "label=a=b", "--format", "{{.Names}}"]),
          0,
        );
        assertEquals(ps.stdout, "web\n");
        const insp = JSON.parse(expectCode(await b(["inspect", "web"]), 0).stdout)[0];
        assertEquals(insp.Id, id);
        assertEquals(insp.State.Running, true);
        assertEquals(insp.Name, "/web");
        assertEquals(insp.Config.Labels.a, "b");
        assertEquals(insp.HostConfig.Runtime, rt);
        assert(insp.State.Pid > 0);
        // json-file log on disk, Docker's format
        const raw = await Deno.readTextFile(insp.LogPath);
        assertMatch(
          raw.split("\n")[0],
          /^\{"log":"started\\n","stream":"stdout","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"\}$/,
        );
        const tl = expectCode(await b(["logs", "-t", "--tail", "1", "web"]), 0);
        assertMatch(tl.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z started\n$/);
        // stop: graceful (trap), exit code 0, 304 on a stopped container
        const t0 = Date.now();
        expectCode(await b(["stop", "web"]), 0);
        assert(Date.now() - t0 < 8000, "stop should not need the timeout");
        assertEquals(
          (await b(["inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}", "web"])).stdout,
          "0 exited\n",
        );
        assertStringIncludes((await b(["logs", "web"])).stdout, "bye");
        expectCode(await b(["stop", "web"]), 0);
        expectCode(await b(["start", "web"]), 0);
        assertEquals((await b(["inspect", "-f", "{{.State.Running}}", "web"])).stdout, "true\n");
        expectCode(await b(["restart", "-t", "1", "web"]), 0);
        assertEquals(
          (await b(["inspect", "-f", "{{.State.Running}} {{.RestartCount}}", "web"])).stdout,
          "true 0\n",
        );
        // rm of a running container needs -f
        let rm = await b(["rm", "web"]);
        assertEquals(rm.code, 1);
        assertStringIncludes(rm.stderr, "You cannot remove a running container");
        rm = expectCode(await b(["rm", "-f", "web"]), 0);
        assertEquals(rm.stdout, "web\n");
        expectCode(await b(["rm", "-f", "web"]), 0); // gone: still 0
        assertEquals((await b(["ps", "-aq"])).stdout, "");
      });

      await t.step(
        "stop during start-up: a SIGTERM pid 1 dropped is sent again once trapped",
        async () => {
          // pid 1 has no SIGTERM handler for its first 3 s: the kernel drops the stop's signal
          // (core/shim/redeliver.ts); once the trap is set the shim sends it again
          const id = expectCode(
            await b([
              "run",
              "-d",
              "busybox",
              "sh",
              "-c",
              "sleep 3; trap 'exit 7' TERM; while :; do sleep 0.1; done",
            ]),
            0,
          ).stdout.trim();
          const t0 = Date.now();
          expectCode(await b(["stop", "-t", "60", id]), 0);
          const took = Date.now() - t0;
          assertEquals((await b(["inspect", "-f", "{{.State.ExitCode}}", id])).stdout, "7\n");
          assert(took < 30_000, `stop took ${took} ms`);
          expectCode(await b(["rm", id]), 0);
        },
      );

      await t.step("kill, wait, exec, top, pause, rename", async () => {
        const id = expectCode(await b(["run", "-d", "--name", "kk", "busybox", "sleep", "1000"]), 0)
          .stdout.trim();
        const x = expectCode(await b(["exec", "kk", "sh", "-c", "echo in-exec; exit 5"]), 5);
        assertEquals(x.stdout, "in-exec\n");
        const e2 = expectCode(
          await b([
            "exec",
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "-u",
            "nobody",
            "kk",
            "sh",
            "-c",
            "echo $A $(pwd) $(id -u)",
          ]),
          0,
        );
        assertEquals(e2.stdout, "1 /tmp 65534\n");
        const e3 = expectCode(await b(["exec", "-i", "kk", "cat"], "piped\n"), 0);
        assertEquals(e3.stdout, "piped\n");
        // Docker: an exec that cannot start is 126 (moby daemon/exec.go), not run's 127
        expectCode(await b(["exec", "kk", "nosuch"]), 126);
        // a non-init process killed by a signal: 128+N
        expectCode(await b(["exec", "kk", "sh", "-c", "kill -TERM $$"]), 143);
        const top = expectCode(await b(["top", "kk"]), 0);
        assertMatch(top.stdout.split("\n")[0], /UID\s+PID\s+PPID/);
        assertStringIncludes(top.stdout, "sleep 1000");
        expectCode(await b(["pause", "kk"]), 0);
        assertEquals((await b(["inspect", "-f", "{{.State.Status}}", "kk"])).stdout, "paused\n");
        assertMatch((await b(["ps", "--format", "{{.Status}}"])).stdout, /\(Paused\)/);
        expectCode(await b(["unpause", "kk"]), 0);
        expectCode(await b(["rename", "kk", "k2"]), 0);
        const waiter = b(["wait", "k2"]);
        await new Promise((r) => setTimeout(r, 200));
        expectCode(await b(["kill", "k2"]), 0);
        const w = expectCode(await waiter, 0);
        assertEquals(w.stdout, "137\n");
        const kr = await b(["kill", "k2"]);
        assertEquals(kr.code, 1);
        assertStringIncludes(kr.stderr, "is not running");
        assertEquals((await b(["inspect", "-f", "{{.State.ExitCode}}", id])).stdout, "137\n");
        expectCode(await b(["rm", "k2"]), 0);
      });

      await t.step("logs -f follows until exit", async () => {
        expectCode(
          await b([
            "run",
            "-d",
            "--name",
            "ff",
            "busybox",
            "sh",
            "-c",
            "for i in 1 2 3; do echo n$i; sleep 0.3; done",
          ]),
          0,
        );
        const r = expectCode(await b(["logs", "-f", "ff"]), 0);
        assertEquals(r.stdout, "n1\nn2\nn3\n");
        expectCode(await b(["rm", "ff"]), 0);
      });

      await t.step("-it under a pty, detach keys, --init, OOM, --read-only", async () => {
        // `script` gives the client a terminal; the shell reads our keystrokes.
        // Keys are typed only once the container runs: by then the client has
        // put its terminal in raw mode (keys typed before are eaten by the
        // line discipline, ^Q as flow control): a fixed delay failed under load.
        const running = (name: string) =>
          `i=0; until [ $i -ge 200 ] || ${
            [...berthCmd(["-H", d.host, "inspect", "-f", "{{.State.Running}}", name])]
              .map((a) => `'${a}'`).join(" ")
          } 2>/dev/null | grep -q true; do i=$((i+1)); sleep 0.1; done; sleep 0.3`;
        const cmd = [
          ...berthCmd(["-H", d.host, "run", "-it", "--rm", "--name", "itc", "busybox", "sh"]),
        ]
          .map((a) => `'${a}'`).join(" ");
        const input = 'echo hel""lo; tty\nexit 3\n';
        const p = new Deno.Command("sh", {
          args: [
            "-c",
            `(${running("itc")}; printf '${input}'; sleep 1) | script -qec "${cmd}" /dev/null`,
          ],
          stdout: "piped",
          stderr: "piped",
        });
        const out = await p.output();
        const text = new TextDecoder().decode(out.stdout).replace(/\r/g, "");
        assertEquals(out.code, 3, text);
        assertStringIncludes(text, "\nhello\n");
        assertMatch(text, /\/dev\/(console|pts\/\d+)/);
        // ctrl-p ctrl-q detaches, the container keeps running
        const det = new Deno.Command("sh", {
          args: [
            "-c",
            `(${running("det")}; printf '\\020\\021'; sleep 1) | script -qec "${
              [...berthCmd(["-H", d.host, "run", "-it", "--name", "det", "busybox", "sh"])]
                .map((a) => `'${a}'`).join(" ")
            }" /dev/null`,
          ],
          stdout: "null",
          stderr: "null",
        });
        assertEquals((await det.output()).code, 0);
        assertEquals((await b(["inspect", "-f", "{{.State.Running}}", "det"])).stdout, "true\n");
        expectCode(await b(["rm", "-f", "det"]), 0);

        const init = expectCode(
          await b(["run", "--rm", "--init", "busybox", "ps", "-o", "pid,comm"]),
          0,
        );
        assertMatch(init.stdout, /\n\s+1 docker-init\n/);
        expectCode(
          await b([
            "run",
            "--name",
            "oom",
            "--memory",
            "16m",
            "busybox",
            "sh",
            "-c",
            'x=$(head -c 100000000 /dev/zero | tr "\\0" a)',
          ]),
          137,
        );
        assertEquals((await b(["inspect", "-f", "{{.State.OOMKilled}}", "oom"])).stdout, "true\n");
        expectCode(await b(["rm", "oom"]), 0);
        const ro = await b(["run", "--rm", "--read-only", "busybox", "touch", "/x"]);
        assertEquals(ro.code, 1);
        assertStringIncludes(ro.stderr, "Read-only file system");
      });

      await t.step("volumes: named volume copy-up, binds, rm -v", async () => {
        // busybox has /etc/passwd: a new named volume on /etc is filled from the image
        let r = expectCode(
          await b(["run", "--rm", "-v", "etcvol:/etc", "busybox", "ls", "/etc"]),
          0,
        );
        assertStringIncludes(r.stdout, "passwd");
        r = expectCode(await b(["volume", "ls", "-q"]), 0);
        assertEquals(r.stdout, "etcvol\n");
        r = expectCode(
          await b(["run", "--rm", "-v", "etcvol:/data", "busybox", "cat", "/data/passwd"]),
          0,
        );
        assertStringIncludes(r.stdout, "root:");
        const rmv = await b(["volume", "rm", "etcvol"]);
        assertEquals(rmv.code, 0, rmv.stderr);
        const host = await Deno.makeTempDir({ dir: d.base });
        await Deno.writeTextFile(`${host}/f`, "from-host");
        r = expectCode(
          await b([
            "run",
            "--rm",
            "-v",
            `${host}:/h:ro`,
            "busybox",
            "sh",
            "-c",
            "cat /h/f; touch /h/x",
          ]),
          1,
        );
        assertStringIncludes(r.stdout, "from-host");
        // anonymous volume removed with --rm
        expectCode(
          await b(["run", "--rm", "--mount", "type=volume,target=/anon", "busybox", "true"]),
          0,
        );
        assertEquals((await b(["volume", "ls", "-q"])).stdout, "");
        expectCode(await b(["volume", "create", "v1"]), 0);
        assertEquals(JSON.parse((await b(["volume", "inspect", "v1"])).stdout)[0].Driver, "local");
        expectCode(await b(["volume", "prune", "-f", "-a"]), 0);
        assertEquals((await b(["volume", "ls", "-q"])).stdout, "");
      });
    } finally {
      await teardown(d);
    }
  });
}
