/**
 * The main job (`task up`, tools/up.ts) on a private root, exec root and
 * socket: it starts a daemon, and its last line is the demo container's
 * output; run again, it finds that daemon answering. The daemon it started is
 * stopped and everything removed.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { rootMissing, skipUnless } from "../core/testing/host.ts";
import { cleanupTree, killLeftovers, REPO, run } from "./fixtures/daemon.ts";
import { DEMO_OUTPUT } from "../tools/up.ts";
import { instanceTag } from "../modes/daemon/networks/state.ts";

async function stopPid(pid: number): Promise<void> {
  const alive = () => {
    try {
      return !Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]?.startsWith("Z");
    } catch {
      return false;
    }
  };
  for (const [sig, ms] of [["SIGTERM", 15000], ["SIGKILL", 5000]] as const) {
    if (!alive()) return;
    try {
      Deno.kill(pid, sig);
    } catch { /* gone */ }
    const until = Date.now() + ms;
    while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  }
}

const NAME = "task up on a private root and socket: starts a daemon, ends with the demo's output";
Deno.test({ name: NAME, ignore: skipUnless(NAME, rootMissing()) }, async () => {
  const base = await Deno.makeTempDir({ prefix: "berth-up-" });
  const root = `${base}/root`, execRoot = `${base}/run`, sock = `${base}/berth.sock`;
  const cgroupParent = `/${base.slice(base.lastIndexOf("/") + 1)}`;
  const args = [
    "--root",
    root,
    "--exec-root",
    execRoot,
    "-H",
    `unix://${sock}`,
    "--cgroup-parent",
    cgroupParent,
  ];
  const up = () =>
    run([Deno.execPath(), "run", "-A", "--no-check", `${REPO}/tools/up.ts`, ...args], {
      timeoutMs: 180000,
    });
  try {
    let r = await up();
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split("\n");
    assertEquals(lines.at(-1), DEMO_OUTPUT, r.stdout);
    const pid = Number(/^starting berth daemon \(pid (\d+), log: (.*)\)$/m.exec(r.stdout)?.[1]);
    assert(pid > 0, r.stdout);
    assertEquals(Number(await Deno.readTextFile(`${execRoot}/daemon.pid`)), pid);
    assertStringIncludes(
      await Deno.readTextFile(`${execRoot}/daemon.log`),
      `API listen on ${sock}`,
    );
    // Again: the same daemon answers, the demo runs again.
    r = await up();
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertStringIncludes(r.stdout, `berth daemon already answering on ${sock}`);
    assertEquals(r.stdout.trim().split("\n").at(-1), DEMO_OUTPUT, r.stdout);
    // Stopped, the daemon takes its default bridge down (nothing attached).
    await stopPid(pid);
    const bridge = `berth${await instanceTag(root)}`;
    assert(!await Deno.stat(`/sys/class/net/${bridge}`).then(() => true, () => false), bridge);
  } finally {
    const pid = Number(await Deno.readTextFile(`${execRoot}/daemon.pid`).catch(() => "0"));
    if (pid > 0) await stopPid(pid);
    await killLeftovers(base, root, cgroupParent);
    await cleanupTree(base);
  }
});
