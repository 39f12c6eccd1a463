/**
 * `POST /containers/{id}/update` through the docker CLI and the berth client:
 * limits applied to the live cgroup (read back from cgroupfs) and persisted
 * (inspect, and the next start's cgroup), Docker 20.10's messages and
 * warnings (recorded from dockerd on this host), and a changed restart policy
 * that the next exit obeys.
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { containerDaemon, eventually, expectCode, teardown } from "./containers_helpers.ts";
import { cgroupControllersMissing, skipUnless } from "../core/testing/host.ts";
import type { TestDaemon } from "./fixtures/daemon.ts";
import { http1 } from "../modes/client/http1.ts";

const NAME = "update: live cgroup limits, persisted HostConfig, Docker's errors, restart policy";
const missing = cgroupControllersMissing(["memory", "pids", "cpu"]);

function cgfile(d: TestDaemon, ctrl: string, id: string, file: string): string {
  return Deno.readTextFileSync(`/sys/fs/cgroup/${ctrl}${d.cgroupParent}/${id}/${file}`).trim();
}

Deno.test({
  name: NAME,
  ignore: skipUnless(NAME, missing),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await containerDaemon();
    try {
      const id = expectCode(
        await d.docker([
          "run",
          "-d",
          "--name",
          "up",
          "-m",
          "64m",
          "--pids-limit",
          "50",
          "busybox",
          "sleep",
          "1000",
        ]),
        0,
        "run",
      ).stdout.trim();
      const u = expectCode(
        await d.docker(["update", "--memory", "100m", "--pids-limit", "60", "up"]),
        0,
        "update",
      );
      assertEquals(u.stdout, "up\n");
      assertEquals(cgfile(d, "memory", id, "memory.limit_in_bytes"), String(100 << 20));
      assertEquals(cgfile(d, "pids", id, "pids.max"), "60");
      const hc = JSON.parse(
        (await d.docker(["inspect", "-f", "{{json .HostConfig}}", "up"])).stdout,
      );
      assertEquals([hc.Memory, hc.MemorySwap, hc.PidsLimit], [100 << 20, 128 << 20, 60]);
      const ev = await d.docker([
        "events",
        "--since",
        "0",
        "--until",
        String(Math.ceil(Date.now() / 1000) + 1),
        "--filter",
        "event=update",
        "--format",
        "{{.Type}} {{.Actor.Attributes.name}}",
      ]);
      assertEquals(ev.stdout, "container up\n", "an update event, as moby logs one");

      // Docker's words (dockerd 20.10 on this host)
      const over = await d.docker(["update", "--memory", "200m", "up"]);
      assertEquals(over.code, 1);
      assertEquals(
        over.stderr.trim(),
        `Error response from daemon: Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`,
      );
      const tiny = await d.docker(["update", "--memory", "1m", "up"]);
      assertEquals(
        tiny.stderr.trim(),
        "Error response from daemon: Minimum memory limit allowed is 6MB",
      );
      const cpus = await d.docker(["update", "--cpuset-cpus", "7", "up"]);
      assertEquals(
        cpus.stderr.trim(),
        `Error response from daemon: Requested CPUs are not available - requested 7, available: 0-${
          navigator.hardwareConcurrency - 1
        }`,
      );
      const kmem = expectCode(await d.docker(["update", "--kernel-memory", "50m", "up"]), 0);
      assertEquals(
        kmem.stdout,
        "up\nSpecifying a kernel memory limit is deprecated and will be removed in a future release.\n",
      );
      const none = await d.docker(["update", "up"]);
      assertEquals(
        none.stderr.trim(),
        "you must provide one or more flags when using this command",
      );

      // under the usage: the kernel refuses, the daemon says so (runc's words), nothing persisted
      expectCode(
        await d.docker(["exec", "up", "sh", "-c", "dd if=/dev/zero of=/dev/shm/x bs=1M count=30"]),
        0,
      );
      const low = await d.docker(["update", "-m", "10m", "--memory-swap", "10m", "up"]);
      assertEquals(low.code, 1);
      assert(
        low.stderr.includes(
          `Cannot update container ${id}: unable to set memory limit to 10485760 (current usage: `,
        ),
        low.stderr,
      );
      assertEquals(
        (await d.docker(["inspect", "-f", "{{.HostConfig.Memory}}", "up"])).stdout.trim(),
        String(100 << 20),
      );

      // the berth client: --cpus, --cpu-shares, --memory-reservation
      expectCode(
        await d.berth([
          "update",
          "--cpus",
          "0.5",
          "-c",
          "512",
          "--memory-reservation",
          "20m",
          "up",
        ]),
        0,
      );
      assertEquals(cgfile(d, "cpu", id, "cpu.cfs_quota_us"), "50000");
      assertEquals(cgfile(d, "cpu", id, "cpu.shares"), "512");
      assertEquals(cgfile(d, "memory", id, "memory.soft_limit_in_bytes"), String(20 << 20));
      const period = await d.berth(["update", "--cpu-period", "50000", "up"]);
      assertEquals(
        period.stderr.trim(),
        `Error response from daemon: Cannot update container ${id}: Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set`,
      );

      // a stopped container: persisted, and its next start uses it
      expectCode(await d.docker(["create", "--name", "later", "busybox", "sleep", "1000"]), 0);
      expectCode(
        await d.docker([
          "update",
          "-m",
          "50m",
          "--memory-swap",
          "100m",
          "--pids-limit",
          "7",
          "later",
        ]),
        0,
      );
      const laterId = expectCode(await d.docker(["start", "later"]), 0) &&
        (await d.docker(["inspect", "-f", "{{.Id}}", "later"])).stdout.trim();
      assertEquals(cgfile(d, "memory", laterId, "memory.limit_in_bytes"), String(50 << 20));
      assertEquals(cgfile(d, "pids", laterId, "pids.max"), "7");

      // restart policy: --rm refuses it; a new on-failure policy restarts the next failure
      const rm = expectCode(
        await d.docker(["run", "-d", "--rm", "--name", "gone", "busybox", "sleep", "1000"]),
        0,
      ).stdout.trim();
      const refuse = await d.docker(["update", "--restart", "always", "gone"]);
      assertEquals(
        refuse.stderr.trim(),
        `Error response from daemon: Cannot update container ${rm}: Restart policy cannot be updated because AutoRemove is enabled for the container`,
      );
      expectCode(
        await d.docker(["run", "-d", "--name", "flaky", "busybox", "sh", "-c", "sleep 3; exit 3"]),
        0,
      );
      expectCode(await d.docker(["update", "--restart", "on-failure:2", "flaky"]), 0);
      const restarts = async () =>
        (await d.docker(["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "flaky"])).stdout
          .trim();
      await eventually(async () => (await restarts()) === "2 exited", 30000, "two restarts");
      assertEquals(
        (await d.docker(["inspect", "-f", "{{json .HostConfig.RestartPolicy}}", "flaky"])).stdout
          .trim(),
        `{"Name":"on-failure","MaximumRetryCount":2}`,
      );

      // From moby's integration suite (TestUpdatePidsLimit): 0 and any
      // negative value unset the limit and read back as 0; below API 1.40
      // PidsLimit is not updated.
      const update = (version: string, body: string) =>
        http1(
          d.socket,
          "POST",
          `/v${version}/containers/up/update`,
          { "Content-Type": "application/json" },
          new TextEncoder().encode(body),
        );
      for (const v of [0, -1, -2]) {
        expectCode(await d.docker(["update", "--pids-limit", "60", "up"]), 0);
        assertEquals((await update("1.41", `{"PidsLimit":${v}}`)).status, 200);
        const pl = await d.docker(["inspect", "-f", "{{json .HostConfig.PidsLimit}}", "up"]);
        assertEquals([pl.stdout.trim(), cgfile(d, "pids", id, "pids.max")], ["0", "max"]);
      }
      expectCode(await d.docker(["update", "--pids-limit", "32", "up"]), 0);
      assertEquals((await update("1.39", '{"PidsLimit":16}')).status, 200);
      assertEquals(cgfile(d, "pids", id, "pids.max"), "32");
      assertEquals(
        (await d.docker(["inspect", "-f", "{{.HostConfig.PidsLimit}}", "up"])).stdout.trim(),
        "32",
      );

      // TestUpdateRestartPolicy: between a failure and its restart the
      // container is "restarting", never "exited", so a poller sees "exited"
      // only after the last retry.
      expectCode(
        await d.docker([
          "run",
          "-d",
          "--name",
          "retry",
          "--restart",
          "on-failure:3",
          "busybox",
          "sh",
          "-c",
          "sleep 1; false",
        ]),
        0,
      );
      let seen = "";
      await eventually(
        async () => {
          seen = (await d.docker(["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "retry"]))
            .stdout.trim();
          return seen.startsWith("exited");
        },
        60000,
        "retries done",
      );
      assertEquals(seen, "exited 3");

      // TestKillWithStopSignalAndRestartPolicies: a kill with the container's
      // StopSignal turns the restart policy off; another signal does not.
      for (const [stop, want] of [["TERM", "exited 0"], ["CONT", "running 1"]]) {
        const c = `ks-${stop}`;
        expectCode(
          await d.docker([
            "run",
            "-d",
            "--name",
            c,
            "--restart",
            "always",
            "--stop-signal",
            stop,
            "busybox",
            "top",
          ]),
          0,
        );
        expectCode(await d.docker(["kill", "-s", "TERM", c]), 0);
        await eventually(
          async () =>
            (await d.docker(["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", c])).stdout
              .trim() === want,
          15000,
          `${c}: ${want}`,
        );
      }
    } finally {
      await teardown(d);
    }
  },
});
