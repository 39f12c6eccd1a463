/**
 * kill -9 of the daemon in the middle of a RUN step leaks nothing (issue 11
 * item 5): after the restart, the step's processes and its netns holder are
 * gone, nothing is mounted under the root, build-tmp is empty, and the
 * step's veth, endpoint record, IPAM lease, cgroup and runtime state are
 * gone. Builds run their steps with the daemon's default runtime
 * (modes/daemon/build/runner.ts): both the built-in one and runc are tested.
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { hasRunc } from "../core/runtime/testutil.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { berthCmd, startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import { entries, eventually, mountsUnder } from "./containers_helpers.ts";
import { isAlive } from "../core/runtime/proc.ts";

/** Live processes whose argv is exactly `argv`. */
async function pidsOf(argv: string[]): Promise<number[]> {
  const want = argv.join("\0") + "\0";
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    if (cmd === want && isAlive(Number(e.name))) out.push(Number(e.name));
  }
  return out;
}

/** The first line of /proc/<pid>/cgroup naming the daemon's cgroup parent. */
async function inParent(pid: number, parent: string): Promise<boolean> {
  const t = await Deno.readTextFile(`/proc/${pid}/cgroup`).catch(() => "");
  return t.includes(`${parent}/build-`);
}

function linkExists(name: string): boolean {
  return new Deno.Command("ip", { args: ["link", "show", name], stdout: "null", stderr: "null" })
    .outputSync().success;
}

async function leaseOwners(d: TestDaemon): Promise<string[]> {
  const owners: string[] = [];
  for (const f of await entries(`${d.root}/networks/ipam`)) {
    if (!f.endsWith(".json")) continue;
    const t = JSON.parse(await Deno.readTextFile(`${d.root}/networks/ipam/${f}`));
    owners.push(...Object.values(t.leases ?? {}) as string[]);
  }
  return owners;
}

/** cgroup dirs named build-* under the daemon's parent, in every hierarchy. */
async function buildCgroups(d: TestDaemon): Promise<string[]> {
  const out: string[] = [];
  const bases = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"];
  for (const e of await entries("/sys/fs/cgroup")) bases.push(`/sys/fs/cgroup/${e}`);
  for (const b of bases) {
    for (const e of await entries(`${b}${d.cgroupParent}`)) {
      if (e.startsWith("build-")) out.push(`${b}${d.cgroupParent}/${e}`);
    }
  }
  return out;
}

for (const runtime of ["berth", "runc"]) {
  Deno.test({
    name:
      `build: kill -9 of the daemon during a RUN step leaks nothing after the restart (${runtime})`,
    ignore: runtime === "runc" && !hasRunc,
    async fn() {
      const img = await busyboxArchive();
      const d = await startDaemon({ args: ["--default-runtime", runtime] });
      let client: Deno.ChildProcess | undefined;
      let ours: number[] = [];
      try {
        assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
        const ctx = `${d.base}/ctx`;
        await Deno.mkdir(ctx);
        await Deno.writeTextFile(`${ctx}/Dockerfile`, "FROM busybox\nRUN sleep 1234\n");
        const [cmd, ...args] = berthCmd(["-H", d.host, "build", "--no-cache", ctx]);
        client = new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).spawn();
        // the step runs, with its network wired
        let step: number[] = [];
        await eventually(
          async () => (step = await pidsOf(["sleep", "1234"])).length > 0,
          30000,
          "RUN step",
        );
        ours = [...step];
        assert(await inParent(step[0], d.cgroupParent), "the step runs in the daemon's cgroup");
        const daemonPid = d.proc.pid;
        const holders: number[] = [];
        for (const p of await pidsOf(["sleep", "2147483647"])) {
          const st = await Deno.readTextFile(`/proc/${p}/stat`);
          if (Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]) === daemonPid) {
            holders.push(p);
          }
        }
        assert(holders.length > 0, "a netns holder runs");
        ours = [...step, ...holders];
        const eps = await entries(`${d.root}/networks/endpoints`);
        assertEquals(eps.length, 1, "the step's endpoint record");
        const ep = JSON.parse(await Deno.readTextFile(`${d.root}/networks/endpoints/${eps[0]}`));
        const veths = Object.values(ep.endpoints).map((e) => (e as { hostVeth: string }).hostVeth);
        assert(veths.length > 0 && veths.every(linkExists), "the step's veth");
        assert((await leaseOwners(d)).includes(ep.id), "the step's lease");
        assert((await mountsUnder(`${d.root}/build-tmp`)).length > 0, "the step's overlay");

        await d.kill9();
        await new Promise((r) => setTimeout(r, 300));
        assert(step.every((p) => isAlive(p)), "the step outlives the daemon until the restart");
        await d.restart();

        await eventually(
          () => Promise.resolve(!step.some((p) => isAlive(p)) && !holders.some((p) => isAlive(p))),
          10000,
          "step and netns holder killed",
        ).catch((e) => {
          throw new Error(
            `${e.message}: ${[...step, ...holders].filter((p) => isAlive(p))} still run`,
          );
        });
        assertEquals(await mountsUnder(d.root), []);
        assertEquals(await entries(`${d.root}/build-tmp`), []);
        assertEquals(veths.filter(linkExists), []);
        assertEquals(await entries(`${d.root}/networks/endpoints`), []);
        assertEquals((await leaseOwners(d)).filter((o) => o === ep.id), []);
        assertEquals(await buildCgroups(d), []);
        assertEquals(await entries(`${d.execRoot}/build-runtime`), []);
        const n = await d.berth(["network", "inspect", "-f", "{{len .Containers}}", "bridge"]);
        assertEquals(n.stdout.trim(), "0");
        // and builds work again
        await Deno.writeTextFile(`${ctx}/Dockerfile`, "FROM busybox\nRUN echo again\n");
        const r = await d.berth(["build", "--no-cache", ctx]);
        assertEquals(r.code, 0, r.stderr);
      } finally {
        try {
          client?.kill("SIGKILL");
        } catch { /* exited when the daemon died */ }
        await client?.status;
        for (const p of ours.filter((p) => isAlive(p))) Deno.kill(p, "SIGKILL");
        await d.stop();
      }
    },
  });
}
