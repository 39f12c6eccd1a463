/**
 * A killed shim orphans nothing (issue 11 item 4). `kill -9` of a
 * container's shim, with the daemon up (seen live) and with the daemon down
 * (found at restart): every process of the container's cgroup is killed
 * (init and an exec'd process), the cgroup dirs, the runtime's state, the
 * rootfs mount and the network endpoint are gone, the container reports
 * Exited (137) as Docker does after a dead shim, and `rm -f` leaves nothing.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { hasRunc } from "../core/runtime/testutil.ts";
import {
  cgroupDirs,
  containerDaemon,
  entries,
  eventually,
  expectCode,
  mountsUnder,
  RUNTIMES,
  teardown,
} from "./containers_helpers.ts";
import type { TestDaemon } from "./fixtures/daemon.ts";
import { isAlive } from "../core/runtime/proc.ts";

/** Alive = exists and not a zombie (a zombie's parent may not be ours to reap). */

/** Every pid in the container's cgroups. */
async function cgroupPids(d: TestDaemon, id: string): Promise<number[]> {
  const out = new Set<number>();
  for (const dir of await cgroupDirs(d, [id])) {
    const t = await Deno.readTextFile(`${dir}/cgroup.procs`).catch(() => "");
    for (const p of t.split("\n").filter(Boolean)) out.add(Number(p));
  }
  return [...out];
}

/** A running container with an exec'd process beside its init; its pids and shim pid. */
async function startVictim(d: TestDaemon, rt: string) {
  const id = expectCode(
    await d.berth(["run", "-d", "--runtime", rt, "busybox", "sleep", "1000"]),
    0,
    "run",
  ).stdout.trim();
  expectCode(await d.berth(["exec", "-d", id, "sleep", "999"]), 0, "exec -d");
  let pids: number[] = [];
  await eventually(async () => (pids = await cgroupPids(d, id)).length >= 2, 10000, "exec'd");
  const shimPid = Number(await Deno.readTextFile(`${d.execRoot}/shims/${id}/shim.pid`));
  assert(isAlive(shimPid), "shim runs");
  const ip = (await d.berth(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", id])).stdout;
  assert(ip.trim() !== "", "container has an address");
  return { id, pids, shimPid };
}

/** Nothing of the container is left but its record, which says what happened. */
async function assertReaped(d: TestDaemon, rt: string, id: string, pids: number[]) {
  await eventually(
    async () =>
      (await d.berth(["inspect", "-f", "{{.State.Status}}", id])).stdout.trim() === "exited",
    15000,
    "exited",
  );
  const st = (await d.berth(["inspect", "-f", "{{.State.ExitCode}}|{{.State.Error}}", id])).stdout;
  assertEquals(st.split("|")[0], "137", st);
  assertStringIncludes(st, "shim");
  await eventually(
    () => Promise.resolve(pids.every((p) => !isAlive(p))),
    5000,
    "container processes gone",
  )
    .catch((e) => {
      throw new Error(`${e.message}: ${pids.filter((p) => isAlive(p))} still run`);
    });
  assertEquals(await cgroupDirs(d, [id]), []);
  assertEquals((await entries(`${d.execRoot}/rt/${rt}`)).filter((e) => id.startsWith(e)), []);
  assertEquals(await mountsUnder(`${d.execRoot}/shims/${id}`), []);
  assertEquals(await entries(`${d.execRoot}/shims`), []);
  assertEquals(await entries(`${d.root}/networks/endpoints`), []);
  const n = await d.berth(["network", "inspect", "-f", "{{len .Containers}}", "bridge"]);
  assertEquals(n.stdout.trim(), "0");
  expectCode(await d.berth(["rm", "-f", id]), 0, "rm -f");
  assertEquals(await entries(`${d.root}/containers`), []);
  assertEquals(
    await entries(`${d.execRoot}/rt/${rt}`).then((e) => e.filter((x) => x[0] !== ".")),
    [],
  );
  assertEquals(await mountsUnder(d.base), []);
}

for (const rt of RUNTIMES) {
  const ignore = rt === "runc" && !hasRunc;
  if (ignore) console.log(`containers[runc]: shim death tests skipped: no runc`);

  Deno.test({
    name: `containers[${rt}]: kill -9 of the shim kills and cleans up the container`,
    ignore,
    async fn() {
      const d = await containerDaemon();
      try {
        const { id, pids, shimPid } = await startVictim(d, rt);
        Deno.kill(shimPid, "SIGKILL");
        await assertReaped(d, rt, id, pids);
      } finally {
        await teardown(d);
      }
    },
  });

  Deno.test({
    name: `containers[${rt}]: a shim killed while the daemon is down is reaped at restart`,
    ignore,
    async fn() {
      const d = await containerDaemon();
      try {
        const { id, pids, shimPid } = await startVictim(d, rt);
        await d.kill9();
        Deno.kill(shimPid, "SIGKILL");
        await new Promise((r) => setTimeout(r, 300));
        assert(
          pids.some((p) => isAlive(p)),
          "the container outlives its shim until the daemon is back",
        );
        await d.restart();
        await assertReaped(d, rt, id, pids);
      } finally {
        await teardown(d);
      }
    },
  });
}
