/**
 * `GET /containers/{id}/stats` through the raw API, the docker CLI (`stats
 * --no-stream`, `--format`, the live table), the berth client and docker-py:
 * Docker 20.10's JSON shape (recorded from a dockerd on this hybrid host: the
 * keys of a v1 answer and the exact zero answer for a stopped container),
 * the container's limits and usage from its cgroup, precpu primed for
 * `stream=false`, not for `one-shot`, a stream's preread chaining, and the
 * network counters of the container's eth0.
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, teardown } from "./containers_helpers.ts";
import { hasPyDocker, py } from "./fixtures/pydocker.ts";

const NAME =
  "stats: Docker's JSON (v1 keys, zeros when stopped), stream/one-shot, CLI table, client, docker-py";

/** The shape dockerd 20.10 answered here for a running container (`-m 64m --pids-limit 50`). */
const DOCKER_V1_KEYS = {
  top: [
    "blkio_stats",
    "cpu_stats",
    "id",
    "memory_stats",
    "name",
    "num_procs",
    "pids_stats",
    "precpu_stats",
    "preread",
    "read",
    "storage_stats",
  ],
  blkio: [
    "io_merged_recursive",
    "io_queue_recursive",
    "io_service_bytes_recursive",
    "io_service_time_recursive",
    "io_serviced_recursive",
    "io_time_recursive",
    "io_wait_time_recursive",
    "sectors_recursive",
  ],
  cpu: ["cpu_usage", "online_cpus", "system_cpu_usage", "throttling_data"],
  cpuUsage: ["percpu_usage", "total_usage", "usage_in_kernelmode", "usage_in_usermode"],
  memory: ["limit", "max_usage", "stats", "usage"],
  memoryStats: [
    "active_anon",
    "active_file",
    "cache",
    "dirty",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "inactive_anon",
    "inactive_file",
    "mapped_file",
    "pgfault",
    "pgmajfault",
    "pgpgin",
    "pgpgout",
    "rss",
    "rss_huge",
    "total_active_anon",
    "total_active_file",
    "total_cache",
    "total_dirty",
    "total_inactive_anon",
    "total_inactive_file",
    "total_mapped_file",
    "total_pgfault",
    "total_pgmajfault",
    "total_pgpgin",
    "total_pgpgout",
    "total_rss",
    "total_rss_huge",
    "total_unevictable",
    "total_writeback",
    "unevictable",
    "writeback",
  ],
};

/** dockerd 20.10's answer for a created container, `stream=false` (name/id aside). */
const DOCKER_ZERO =
  `{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{},"name":"/NAME","id":"ID"}`;

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;
const keys = (o: Json) => Object.keys(o).sort();

async function get(
  socket: string,
  path: string,
): Promise<{ status: number; text: string; ms: number }> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  const t0 = performance.now();
  try {
    const res = await fetch(`http://d${path}`, { client });
    return { status: res.status, text: await res.text(), ms: performance.now() - t0 };
  } finally {
    client.close();
  }
}

/** The first `n` objects of a stats stream. */
async function streamed(socket: string, path: string, n: number): Promise<Json[]> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  const ac = new AbortController();
  try {
    const res = await fetch(`http://d${path}`, { client, signal: ac.signal });
    const out: Json[] = [];
    let buf = "";
    const dec = new TextDecoder();
    for await (const c of res.body!) {
      buf += dec.decode(c, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0 && out.length < n) {
        out.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
      if (out.length >= n) break;
    }
    ac.abort();
    return out;
  } finally {
    client.close();
  }
}

const memoryCgroup = (d: { cgroupParent: string }, id: string) =>
  `/sys/fs/cgroup/memory${d.cgroupParent}/${id}`;

Deno.test({
  name: NAME,
  ignore: (() => {
    try {
      Deno.statSync("/sys/fs/cgroup/memory/memory.stat");
      return false;
    } catch {
      console.log(`${NAME}: skipped, no cgroup v1 memory controller (the v1 shape is checked)`);
      return true;
    }
  })(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await containerDaemon();
    try {
      const run = expectCode(
        await d.docker([
          "run",
          "-d",
          "--name",
          "sx",
          "-m",
          "64m",
          "--pids-limit",
          "50",
          "busybox",
          "sh",
          "-c",
          "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; sleep 1000",
        ]),
        0,
        "run",
      );
      const id = run.stdout.trim();
      expectCode(await d.docker(["create", "--name", "st", "busybox", "true"]), 0, "create");
      const stId = (await d.docker(["inspect", "-f", "{{.Id}}", "st"])).stdout.trim();

      // a container that does not run: Docker's zeros, byte for byte
      const z = await get(d.socket, "/v1.41/containers/st/stats?stream=false");
      assertEquals(z.status, 200);
      assertEquals(z.text.trim(), DOCKER_ZERO.replace("NAME", "st").replace("ID", stId));

      // stream=false: primed precpu, ~1 s
      const r = await get(d.socket, "/v1.41/containers/sx/stats?stream=false");
      assertEquals(r.status, 200, r.text);
      const s: Json = JSON.parse(r.text);
      assertEquals(keys(s), DOCKER_V1_KEYS.top.concat(s.networks ? ["networks"] : []).sort());
      assertEquals(keys(s.blkio_stats), DOCKER_V1_KEYS.blkio);
      assertEquals(keys(s.cpu_stats), DOCKER_V1_KEYS.cpu);
      assertEquals(keys(s.cpu_stats.cpu_usage), DOCKER_V1_KEYS.cpuUsage);
      assertEquals(keys(s.memory_stats), DOCKER_V1_KEYS.memory);
      assertEquals(keys(s.memory_stats.stats), DOCKER_V1_KEYS.memoryStats);
      assertEquals([s.name, s.id], ["/sx", id]);
      assertEquals(s.memory_stats.limit, 64 << 20);
      assertEquals(s.pids_stats.limit, 50);
      assert(s.pids_stats.current >= 1);
      const usage = Number(await Deno.readTextFile(`${memoryCgroup(d, id)}/memory.usage_in_bytes`));
      assert(Math.abs(s.memory_stats.usage - usage) < 4 << 20, `usage ${s.memory_stats.usage}`);
      assert(s.cpu_stats.cpu_usage.total_usage > 0, "the loop used CPU");
      assertEquals(s.cpu_stats.online_cpus, navigator.hardwareConcurrency);
      assert(s.preread !== "0001-01-01T00:00:00Z", "precpu primed");
      assert(s.precpu_stats.system_cpu_usage < s.cpu_stats.system_cpu_usage);
      assert(r.ms >= 900, `stream=false samples a second apart (${r.ms} ms)`);
      // the container's own view of its eth0
      const inside = expectCode(await d.docker(["exec", "sx", "cat", "/proc/net/dev"]), 0);
      const eth0 = inside.stdout.split("\n").find((l) => l.trim().startsWith("eth0:"));
      if (eth0) {
        const rx = Number(eth0.split(":")[1].trim().split(/\s+/)[0]);
        assertEquals(keys(s.networks.eth0), [
          "rx_bytes",
          "rx_dropped",
          "rx_errors",
          "rx_packets",
          "tx_bytes",
          "tx_dropped",
          "tx_errors",
          "tx_packets",
        ]);
        const again: Json = JSON.parse(
          (await get(d.socket, "/containers/sx/stats?stream=false&one-shot=true")).text,
        );
        assert(again.networks.eth0.rx_bytes >= rx, "rx_bytes counts what eth0 saw");
        assertEquals(keys(again.networks), ["eth0"], "lo is left out");
      }

      // one-shot: at once, nothing primed
      const o = await get(d.socket, "/containers/sx/stats?stream=false&one-shot=true");
      const os: Json = JSON.parse(o.text);
      assertEquals(os.preread, "0001-01-01T00:00:00Z");
      assertEquals(os.precpu_stats.cpu_usage.total_usage, 0);
      assert(o.ms < 900, `one-shot is immediate (${o.ms} ms)`);

      // a stream: one object a second, each preread the previous read
      const [a, b] = await streamed(d.socket, "/containers/sx/stats", 2);
      assertEquals(a.preread, "0001-01-01T00:00:00Z");
      assertEquals(b.preread, a.read);
      assert(Date.parse(b.read) - Date.parse(a.read) >= 900);

      // docker CLI: the table, --format, and the live table (killed after a few redraws)
      const t = expectCode(await d.docker(["stats", "--no-stream", "sx", "st"]), 0, "stats");
      const lines = t.stdout.trim().split("\n");
      assertEquals(
        lines[0].split(/\s{2,}/),
        [
          "CONTAINER ID",
          "NAME",
          "CPU %",
          "MEM USAGE / LIMIT",
          "MEM %",
          "NET I/O",
          "BLOCK I/O",
          "PIDS",
        ],
      );
      assert(
        /^\w{12}\s+sx\s+\d+\.\d\d%\s+[\d.]+\w?i?B \/ 64MiB\s+[\d.]+%/.test(lines[1]),
        lines[1],
      );
      assert(
        /^\w{12}\s+st\s+0\.00%\s+0B \/ 0B\s+0\.00%\s+0B \/ 0B\s+0B \/ 0B\s+0$/.test(lines[2]),
        lines[2],
      );
      const f = expectCode(
        await d.docker(["stats", "--no-stream", "--format", "{{json .}}", "sx"]),
        0,
      );
      const row: Json = JSON.parse(f.stdout);
      assertEquals(keys(row), [
        "BlockIO",
        "CPUPerc",
        "Container",
        "ID",
        "MemPerc",
        "MemUsage",
        "Name",
        "NetIO",
        "PIDs",
      ]);
      assertEquals([row.Name, row.ID, row.PIDs], ["sx", id.slice(0, 12), "1"]);
      const live = await d.docker(["stats", "sx"], { timeoutMs: 3500 });
      assert(live.stdout.includes("\x1b[H") && /sx\s+\d+\.\d\d%/.test(live.stdout), live.stdout);
      const missing = await d.docker(["stats", "--no-stream", "nosuch"]);
      assertEquals(missing.code, 1);
      assert(missing.stderr.includes("No such container: nosuch"), missing.stderr);

      // berth client: same table, --no-trunc, -a
      const bt = expectCode(await d.berth(["stats", "--no-stream", "--no-trunc", "-a"]), 0);
      assert(bt.stdout.includes(id) && bt.stdout.includes(stId), bt.stdout);
      const bf = expectCode(
        await d.berth([
          "stats",
          "--no-stream",
          "--format",
          "{{.Name}} {{.MemUsage}} {{.PIDs}}",
          "sx",
        ]),
        0,
      );
      assert(/^sx [\d.]+\w?i?B \/ 64MiB 1\n$/.test(bf.stdout), bf.stdout);
      const bl = await d.berth(["stats", "sx"], { timeoutMs: 2500 });
      assert(bl.stdout.includes("\x1b[H") && /sx\s+\d+\.\d\d%/.test(bl.stdout), bl.stdout);

      if (await hasPyDocker()) {
        const p = await py(
          d,
          `s = hi.containers.get("sx").stats(stream=False)\nprint(s["name"], s["memory_stats"]["limit"], s["pids_stats"]["current"] >= 1)`,
        );
        assertEquals(p.stdout.trim(), `/sx ${64 << 20} True`, p.stderr);
      }
    } finally {
      await teardown(d);
    }
  },
});
