/**
 * readCgroupStats and updateCgroup on real cgroups: v1 controllers (this
 * host's) with a process inside — limits read back, usage counted, live
 * updates in both memory/memsw orders, the kernel's refusal of a limit under
 * the usage in runc's words — and cgroup v2 through a private cgroup2 mount
 * (no controllers there: the cpu.stat core file, which v2 always has).
 *   deno test -A core/runtime/cgroups_stats_test.ts   (root)
 */
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { Cgroup } from "./cgroups.ts";
import { parseBlkioV1, parseIoStatV2, readCgroupStats } from "./cgroups_stats.ts";
import { updateCgroup } from "./cgroups_update.ts";
import {
  cgroup2Probe,
  cgroupControllersMissing,
  scratchCgroup2,
  skipUnless,
} from "../testing/host.ts";

const V1 = "cgroup v1: stats of a live cgroup, updates in both memory orders, below-usage refusal";
const V2 = "cgroup v2: cpu usage and Docker's v2 shape on a private cgroup2 mount";
const v1Missing = cgroupControllersMissing(["memory", "pids", "cpu", "cpuacct"]);
const probe = await cgroup2Probe();

/** A shell in `procs` that burns a little CPU, then sleeps. */
function busyChild(procs: string[]): Deno.ChildProcess {
  const child = new Deno.Command("sh", {
    // 4 MB held in a shell variable once in the cgroup: anonymous memory that
    // a limit under it cannot reclaim (memory charged before the move stays
    // with the old cgroup on v1, so without it the usage could be ~0).
    args: [
      "-c",
      "read x; m=$(head -c 4000000 /dev/zero | tr '\\0' a); i=0; " +
      "while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 100",
    ],
    stdin: "piped",
  }).spawn();
  for (const f of procs) Deno.writeTextFileSync(f, String(child.pid));
  const w = child.stdin.getWriter();
  w.write(new TextEncoder().encode("go\n")).then(() => w.close());
  return child;
}

async function waitFor(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("cgroup stats parsers: v1 blkio lines and v2 io.stat", () => {
  assertEquals(parseBlkioV1("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n"), [
    { major: 8, minor: 0, op: "Read", value: 4096 },
    { major: 8, minor: 0, op: "Write", value: 0 },
  ]);
  assertEquals(parseIoStatV2("254:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n"), [
    { major: 254, minor: 0, op: "read", value: 1 },
    { major: 254, minor: 0, op: "write", value: 2 },
  ]);
  assertEquals(parseIoStatV2(""), null);
});

Deno.test({
  name: V1,
  ignore: skipUnless(V1, v1Missing),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cg = new Cgroup(`/berth-test-stats-${Deno.pid}/c1`);
    assert(cg.layout.kind !== "v2");
    let child: Deno.ChildProcess | undefined;
    try {
      cg.create({ memory: { limit: 64 << 20, swap: 128 << 20 }, pids: { limit: 50 } });
      child = busyChild(cg.procsFiles());
      const cpu = cg.find("cpuacct")!;
      await waitFor(
        () => Number(Deno.readTextFileSync(`${cpu}/cpuacct.usage`)) > 20e6,
        "the child to use some CPU",
      );
      const s = readCgroupStats(cg);
      assertEquals(s.memory_stats.limit, 64 << 20);
      assertEquals(s.pids_stats, { current: s.pids_stats.current, limit: 50 });
      assert(s.pids_stats.current! >= 1);
      assert(s.cpu_stats.cpu_usage.total_usage > 20e6);
      assertEquals(s.cpu_stats.cpu_usage.percpu_usage?.length, navigator.hardwareConcurrency);
      assert(s.memory_stats.usage! > 0 && s.memory_stats.max_usage! >= s.memory_stats.usage!);
      assert("total_inactive_file" in s.memory_stats.stats!);
      assert(s.cpu_stats.system_cpu_usage! > 0);

      const mem = cg.find("memory")!;
      const read = (f: string) => Deno.readTextFileSync(`${mem}/${f}`).trim();
      const memsw = (() => {
        try {
          read("memory.memsw.limit_in_bytes");
          return true;
        } catch {
          return false;
        }
      })();
      // raising past the current memsw: memsw first
      updateCgroup(cg, { memory: { limit: 200 << 20, swap: 400 << 20 }, pids: { limit: 60 } });
      assertEquals(read("memory.limit_in_bytes"), String(200 << 20));
      if (memsw) assertEquals(read("memory.memsw.limit_in_bytes"), String(400 << 20));
      assertEquals(readCgroupStats(cg).pids_stats.limit, 60);
      // lowering under the current memory limit: memory first
      updateCgroup(cg, { memory: { limit: 32 << 20, swap: 48 << 20 }, pids: { limit: 0 } });
      assertEquals(read("memory.limit_in_bytes"), String(32 << 20));
      if (memsw) assertEquals(read("memory.memsw.limit_in_bytes"), String(48 << 20));
      assertEquals(readCgroupStats(cg).pids_stats.limit, undefined, "pids.max is max again");
      updateCgroup(cg, { cpu: { period: 100000, quota: 50000, shares: 512 } });
      const cpuDir = cg.find("cpu")!;
      assertEquals(Deno.readTextFileSync(`${cpuDir}/cpu.cfs_quota_us`).trim(), "50000");
      assertEquals(Deno.readTextFileSync(`${cpuDir}/cpu.shares`).trim(), "512");

      // a limit under what the cgroup holds and cannot give back (memsw caps swapping)
      if (memsw) {
        await waitFor(
          () => Number(read("memory.usage_in_bytes")) > 1 << 20,
          "the child's memory to be charged",
        );
        const usage = Number(read("memory.usage_in_bytes"));
        assertThrows(
          () => updateCgroup(cg, { memory: { limit: 4096, swap: 4096 } }),
          Error,
          "unable to set memory limit to 4096 (current usage: ",
        );
        assert(usage > 4096);
      }
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      await cg.remove();
      await new Cgroup(`/berth-test-stats-${Deno.pid}`).remove();
    }
  },
});

Deno.test({
  name: V2,
  ignore: skipUnless(V2, probe.missing),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const scratch = await scratchCgroup2("berth-cg2s-");
    const { mnt, layout: l } = scratch;
    const cg = new Cgroup(`/berth-test-v2s-${Deno.pid}/c1`, l);
    let child: Deno.ChildProcess | undefined;
    try {
      cg.create(undefined);
      child = busyChild(cg.procsFiles());
      const dir = `${mnt}${cg.path}`;
      const usage = () =>
        Number(/usage_usec (\d+)/.exec(Deno.readTextFileSync(`${dir}/cpu.stat`))![1]);
      await waitFor(() => usage() > 20000, "the child to use some CPU");
      const s = readCgroupStats(cg);
      const usec = usage();
      assert(s.cpu_stats.cpu_usage.total_usage >= 20000 * 1000);
      assert(s.cpu_stats.cpu_usage.total_usage <= usec * 1000);
      assertEquals(s.cpu_stats.cpu_usage.percpu_usage, undefined, "v2 has no per-CPU usage");
      assertEquals(
        Object.keys(s.cpu_stats.cpu_usage).sort(),
        ["total_usage", "usage_in_kernelmode", "usage_in_usermode"],
      );
      // Docker's v2 blkio: only io_service_bytes_recursive is ever filled; the rest null
      assertEquals(Object.values(s.blkio_stats).filter((v) => v !== null).length, 0);
      if (!probe.controllers.includes("memory")) assertEquals(s.memory_stats, {});
      // updates write v2's files (cpu.max, pids.max, …); one whose controller is off says so
      if (!probe.controllers.includes("pids")) {
        assertThrows(
          () => updateCgroup(cg, { pids: { limit: 5 } }),
          Error,
          "the pids controller is not enabled",
        );
      }
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      await cg.remove();
      await Deno.remove(`${mnt}/berth-test-v2s-${Deno.pid}`).catch(() => {});
      await scratch.release();
    }
  },
});
