/**
 * Daemon restarts kill nothing: SIGKILL the daemon while containers run and
 * log; they keep going; the restarted daemon reconnects (ps, logs -f, exec,
 * stop, attach), reports the true exit code of containers that exited while
 * it was down, and applies restart policies.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import {
  containerDaemon,
  eventually,
  expectCode,
  RUNTIMES,
  shimPids,
  teardown,
} from "./containers_helpers.ts";

for (const rt of RUNTIMES) {
  Deno.test(`containers[${rt}]: kill -9 the daemon, containers survive`, async () => {
    const d = await containerDaemon({ defaultRuntime: rt });
    const b = (args: string[], stdin?: string) => d.berth(args, { stdin, timeoutMs: 30000 });
    try {
      expectCode(
        await b([
          "run",
          "-d",
          "--name",
          "logger",
          "busybox",
          "sh",
          "-c",
          "i=0; while true; do echo line$i; i=$((i+1)); sleep 0.1; done",
        ]),
        0,
      );
      expectCode(
        await b(["run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 1; exit 42"]),
        0,
      );
      expectCode(await b(["run", "-d", "-i", "--name", "cat", "busybox", "cat"]), 0);
      expectCode(
        await b([
          "run",
          "-d",
          "--name",
          "always",
          "--restart",
          "always",
          "busybox",
          "sh",
          "-c",
          "sleep 0.5; exit 3",
        ]),
        0,
      );
      expectCode(
        await b([
          "run",
          "-d",
          "--name",
          "onfail",
          "--restart",
          "on-failure:2",
          "busybox",
          "sh",
          "-c",
          "exit 1",
        ]),
        0,
      );
      await eventually(async () => (await b(["logs", "logger"])).stdout.includes("line3"));
      const pid = Number((await b(["inspect", "-f", "{{.State.Pid}}", "logger"])).stdout);
      assert(pid > 0);

      await d.kill9();
      await new Promise((r) => setTimeout(r, 1500)); // "short" exits meanwhile
      // the container is alive and its log grows without the daemon
      await Deno.stat(`/proc/${pid}`);
      const logPath = `${d.root}/containers`;
      assert((await shimPids(d.execRoot)).length >= 2, "shims must survive the daemon");

      const t0 = performance.now();
      await d.restart();
      const recoverMs = performance.now() - t0;
      assert(recoverMs < 10000);
      let ps = expectCode(await b(["ps", "--format", "{{.Names}} {{.Status}}"]), 0);
      assertMatch(ps.stdout, /logger Up/);
      assertMatch(ps.stdout, /cat Up/);
      assertEquals(
        (await b(["inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}", "short"])).stdout,
        "42 exited\n",
      );
      // logs kept flowing while the daemon was down
      const lines = (await b(["logs", "logger"])).stdout.trim().split("\n");
      assert(lines.length >= 20, `only ${lines.length} lines logged`);
      // exec and attach work against the recovered shim
      assertEquals(expectCode(await b(["exec", "logger", "echo", "ok"]), 0).stdout, "ok\n");
      // logs -f follows and ends at stop
      const follow = b(["logs", "-f", "--tail", "1", "logger"]);
      await new Promise((r) => setTimeout(r, 400));
      expectCode(await b(["stop", "-t", "1", "logger"]), 0);
      const f = expectCode(await follow, 0);
      assertMatch(f.stdout, /^line\d+\n/);
      assertEquals((await b(["inspect", "-f", "{{.State.ExitCode}}", "logger"])).stdout, "137\n");
      // restart policies: always keeps coming back; on-failure stops after 2 retries
      await eventually(
        async () => Number((await b(["inspect", "-f", "{{.RestartCount}}", "always"])).stdout) >= 2,
        15000,
        "always restarts",
      );
      let last = "";
      await eventually(
        async () =>
          (last = (await b(["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "onfail"]))
            .stdout) === "2 exited\n",
        15000,
        "on-failure:2",
      ).catch((e) => {
        throw new Error(`${e.message}: ${last}`);
      });
      expectCode(await b(["rm", "-f", "always", "cat", "short", "onfail", "logger"]), 0);
      ps = expectCode(await b(["ps", "-aq"]), 0);
      assertEquals(ps.stdout, "");
      // (a warm shim the killed daemon was still booting gives up after 10 s)
      await eventually(
        async () => (await shimPids(d.execRoot)).length <= 1,
        15000,
        "no shims but the warm one",
      ).catch(async (e) => {
        const info = [];
        for (const p of await shimPids(d.execRoot)) {
          const cmd = (await Deno.readTextFile(`/proc/${p}/cmdline`).catch(() => "")).split("\0")
            .slice(-3).join(" ");
          const kids = await Deno.readTextFile(`/proc/${p}/task/${p}/children`).catch(() => "");
          info.push(`${p}: ${cmd} children=[${kids}]`);
        }
        throw new Error(`${e.message}\n${info.join("\n")}`);
      });
      void logPath;
      assertStringIncludes(await Deno.readTextFile(d.logPath), "recovered");
    } finally {
      await teardown(d);
    }
  });
}
