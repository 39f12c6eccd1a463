/**
 * Healthchecks through the docker CLI (issue 13): `--health-*` (start period
 * too) and the
 * image's HEALTHCHECK run as execs; State.Health (Status, FailingStreak,
 * Log of the last 5); `ps` shows `(health: starting)` / `(healthy)`;
 * `ps --filter health=`; `health_status` events; a probe that overruns its
 * timeout; `--no-healthcheck` and `HEALTHCHECK NONE`; checks that keep
 * running after a daemon restart (kill -9). Old code: nothing ran, no
 * State.Health.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, eventually, expectCode } from "./containers_helpers.ts";

Deno.test("health: probes, State.Health, ps, filters, events, daemon restart", async (t) => {
  const d = await containerDaemon();
  const k = (args: string[], stdin?: string) =>
    d.docker(args, { timeoutMs: 60000, stdin, env: { DOCKER_BUILDKIT: "0" } });
  const inspect = async (name: string, f: string) =>
    expectCode(await k(["inspect", "-f", f, name]), 0).stdout.trim();
  const status = (name: string) => inspect(name, "{{.State.Health.Status}}");
  const untilStatus = (name: string, want: string, ms = 15000) =>
    eventually(async () => await status(name) === want, ms, `${name} ${want}`);
  const psQ = async (filter: string) =>
    expectCode(await k(["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]), 0).stdout
      .split("\n").filter(Boolean).sort();
  const t0 = (Date.now() / 1000).toFixed(3);
  try {
    await t.step("--health-cmd: starting → healthy → unhealthy", async () => {
      expectCode(
        await k([
          "run",
          "-d",
          "--name",
          "h1",
          "--health-cmd",
          "cat /tmp/ok",
          "--health-interval",
          "300ms",
          "--health-retries",
          "2",
          "--health-start-period",
          "60s",
          "busybox",
          "sleep",
          "600",
        ]),
        0,
      );
      expectCode(await k(["run", "-d", "--name", "plain", "busybox", "sleep", "600"]), 0);
      const st = expectCode(await k(["ps", "--filter", "name=h1", "--format", "{{.Status}}"]), 0);
      assert(/^Up .* \(health: starting\)$/.test(st.stdout.trim()), st.stdout);
      assertEquals(await psQ("health=starting"), ["h1"]);
      assertEquals(await psQ("health=none"), ["plain"]);
      // failures within the start period do not count: still starting
      await eventually(
        async () => (await inspect("h1", "{{len .State.Health.Log}}")) !== "0",
        10000,
        "a first probe",
      );
      assertEquals(await status("h1"), "starting");
      assertEquals(await inspect("h1", "{{.State.Health.FailingStreak}}"), "0");
      expectCode(await k(["exec", "h1", "sh", "-c", "echo fine > /tmp/ok"]), 0);
      await untilStatus("h1", "healthy");
      const ps = expectCode(await k(["ps", "--filter", "name=h1", "--format", "{{.Status}}"]), 0);
      assert(/^Up .* \(healthy\)$/.test(ps.stdout.trim()), ps.stdout);
      assertEquals(await psQ("health=healthy"), ["h1"]);
      const h = JSON.parse(await inspect("h1", "{{json .State.Health}}"));
      assertEquals(h.FailingStreak, 0);
      assert(h.Log.length >= 1 && h.Log.length <= 5, JSON.stringify(h));
      const last = h.Log.at(-1);
      assertEquals(last.ExitCode, 0);
      assertEquals(last.Output, "fine\n");
      assert(Date.parse(last.End) >= Date.parse(last.Start));
      expectCode(await k(["exec", "h1", "rm", "/tmp/ok"]), 0);
      await untilStatus("h1", "unhealthy");
      // the log keeps the last 5 results: wait until more than 5 probes ran
      // (unhealthy can come after only 4 in all: CI failure)
      await eventually(
        async () => Number(await inspect("h1", "{{.State.Health.FailingStreak}}")) >= 6,
        10000,
        "six failing probes",
      );
      const u = JSON.parse(await inspect("h1", "{{json .State.Health}}"));
      assert(u.FailingStreak >= 2, JSON.stringify(u));
      assertEquals(u.Log.length, 5);
      assertEquals(u.Log.at(-1).ExitCode, 1);
      assertStringIncludes(u.Log.at(-1).Output, "No such file");
      assertEquals(await psQ("health=unhealthy"), ["h1"]);
      const ev = expectCode(
        await k([
          "events",
          "--since",
          t0,
          "--until",
          (Date.now() / 1000).toFixed(3),
          "--filter",
          "event=health_status",
          "--format",
          "{{.Action}} {{.Actor.Attributes.name}}",
        ]),
        0,
      ).stdout;
      assertEquals(ev, "health_status: healthy h1\nhealth_status: unhealthy h1\n");
      const bad = await k(["ps", "--filter", "health=bogus"]);
      assertEquals(bad.code, 1);
      assertStringIncludes(bad.stderr, "Unrecognised filter value for health: bogus");
    });

    await t.step("image HEALTHCHECK, --no-healthcheck, HEALTHCHECK NONE", async () => {
      expectCode(
        await k(
          ["build", "-q", "-t", "hc:1", "-"],
          'FROM busybox\nHEALTHCHECK --interval=200ms --retries=1 CMD ["true"]\n',
        ),
        0,
      );
      expectCode(
        await k(["build", "-q", "-t", "hc:none", "-"], "FROM hc:1\nHEALTHCHECK NONE\n"),
        0,
      );
      expectCode(await k(["run", "-d", "--name", "img", "hc:1", "sleep", "600"]), 0);
      expectCode(
        await k(["run", "-d", "--name", "nohc", "--no-healthcheck", "hc:1", "sleep", "600"]),
        0,
      );
      expectCode(await k(["run", "-d", "--name", "hcnone", "hc:none", "sleep", "600"]), 0);
      await untilStatus("img", "healthy", 10000);
      assertEquals(await inspect("img", "{{json .Config.Healthcheck.Test}}"), '["CMD","true"]');
      assertEquals(await inspect("nohc", "{{json .State.Health}}"), "null");
      assertEquals(await inspect("hcnone", "{{json .State.Health}}"), "null");
      assertEquals(await psQ("health=none"), ["hcnone", "nohc", "plain"]);
      const r = await k(["run", "-d", "--health-interval", "500us", "hc:1"]);
      assertEquals(r.code, 125);
      assertStringIncludes(r.stderr, "Interval in Healthcheck cannot be less than 1ms");
      const c = await k(["run", "-d", "--no-healthcheck", "--health-retries", "2", "hc:1"]);
      assertEquals(c.code, 125);
      assertStringIncludes(c.stderr, "--no-healthcheck conflicts with --health-* options");
    });

    await t.step("the berth client's --health-* flags, ps and filter", async () => {
      const b = (args: string[]) => d.berth(args, { timeoutMs: 60000 });
      expectCode(
        await b([
          "run",
          "-d",
          "--name",
          "bh",
          "--health-cmd",
          "true",
          "--health-interval",
          "200ms",
          "--health-timeout",
          "1s",
          "--health-start-period",
          "5s",
          "--health-retries",
          "4",
          "busybox",
          "sleep",
          "600",
        ]),
        0,
      );
      assertEquals(
        await inspect("bh", "{{json .Config.Healthcheck}}"),
        '{"Test":["CMD-SHELL","true"],"Interval":200000000,"Timeout":1000000000,"StartPeriod":5000000000,"Retries":4}',
      );
      await untilStatus("bh", "healthy", 10000);
      const ps = expectCode(
        await b(["ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}"]),
        0,
      );
      assert(/^bh Up .* \(healthy\)$/m.test(ps.stdout), ps.stdout);
      const bad = await b(["run", "-d", "--no-healthcheck", "--health-cmd", "true", "busybox"]);
      assertEquals(bad.code, 125);
      assertStringIncludes(bad.stderr, "--no-healthcheck conflicts with --health-* options");
      expectCode(await b(["rm", "-f", "bh"]), 0);
    });

    await t.step("a probe past its timeout fails with exit -1", async () => {
      expectCode(
        await k([
          "run",
          "-d",
          "--name",
          "slow",
          "--health-cmd",
          "sleep 5",
          "--health-timeout",
          "200ms",
          "--health-interval",
          "300ms",
          "--health-retries",
          "1",
          "busybox",
          "sleep",
          "600",
        ]),
        0,
      );
      await untilStatus("slow", "unhealthy");
      const h = JSON.parse(await inspect("slow", "{{json .State.Health}}"));
      assertEquals(h.Log[0].ExitCode, -1);
      assertEquals(h.Log[0].Output, "Health check exceeded timeout (200ms)");
      expectCode(await k(["rm", "-f", "slow"]), 0);
    });

    await t.step("checks keep running across a daemon restart", async () => {
      expectCode(await k(["exec", "h1", "sh", "-c", "echo again > /tmp/ok"]), 0);
      await untilStatus("h1", "healthy");
      await d.kill9();
      await d.restart();
      // the saved state is there at once, and probes go on
      assertEquals(await status("h1"), "healthy");
      expectCode(await k(["exec", "h1", "rm", "/tmp/ok"]), 0);
      await untilStatus("h1", "unhealthy");
      expectCode(await k(["exec", "h1", "sh", "-c", "echo back > /tmp/ok"]), 0);
      await untilStatus("h1", "healthy");
      // stopped: no more probes, the state stays; a start begins at starting
      expectCode(await k(["stop", "-t", "0", "h1"]), 0);
      expectCode(await k(["start", "h1"]), 0);
      assertEquals(await status("h1"), "starting");
    });
  } finally {
    await d.stop();
  }
});
