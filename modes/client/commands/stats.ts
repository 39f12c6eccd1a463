/**
 * `berth stats [-a] [--no-stream] [--no-trunc] [--format] [CONTAINER...]`:
 * docker's stats table (CPU % from cpu_stats − precpu_stats, memory without
 * the inactive file cache, network and block I/O sums, pids). `--no-stream`
 * prints one table; otherwise the screen is redrawn every 500 ms as docker
 * does.
 * @module
 */
import { command, type Globals, parse, reportError } from "../cli.ts";
import { bytesSize, humanSize, printFormatted } from "../format.ts";

interface StatsJson {
  id: string;
  name: string;
  read: string;
  cpu_stats?: CpuJson;
  precpu_stats?: CpuJson;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

interface CpuJson {
  cpu_usage: { total_usage: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** One row of the table (docker's formatter field names; JSON keys sorted). */
export interface StatsRow {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

const DEFAULT_TABLE =
  "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
const HEADERS = {
  Container: "CONTAINER",
  ID: "CONTAINER ID",
  Name: "NAME",
  CPUPerc: "CPU %",
  MemUsage: "MEM USAGE / LIMIT",
  MemPerc: "MEM %",
  NetIO: "NET I/O",
  BlockIO: "BLOCK I/O",
  PIDs: "PIDS",
};

/** docker's calculateCPUPercentUnix. */
function cpuPercent(s: StatsJson): number {
  const cur = s.cpu_stats, pre = s.precpu_stats;
  if (!cur || !pre) return 0;
  const cpuDelta = cur.cpu_usage.total_usage - pre.cpu_usage.total_usage;
  const sysDelta = (cur.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cur.online_cpus || cur.cpu_usage.percpu_usage?.length || 0;
  return sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
}

/** docker's calculateMemUsageUnixNoCache: usage without inactive file pages. */
function memUsage(m: NonNullable<StatsJson["memory_stats"]>): number {
  const usage = m.usage ?? 0, st = m.stats ?? {};
  const cache = "total_inactive_file" in st
    ? st.total_inactive_file
    : "inactive_file" in st
    ? st.inactive_file
    : 0;
  return cache < usage ? usage - cache : usage;
}

export function toRow(s: StatsJson, container: string, trunc: boolean): StatsRow {
  const m = s.memory_stats ?? {};
  const mem = memUsage(m), limit = m.limit ?? 0;
  let rx = 0, tx = 0, rd = 0, wr = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === "read") rd += e.value;
    else if (op === "write") wr += e.value;
  }
  return {
    BlockIO: `${humanSize(rd)} / ${humanSize(wr)}`,
    CPUPerc: `${cpuPercent(s).toFixed(2)}%`,
    Container: container,
    ID: trunc ? s.id.slice(0, 12) : s.id,
    MemPerc: `${(limit > 0 ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    Name: s.name.replace(/^\//, ""),
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

/** JSON objects from a newline-delimited stream. */
async function* objects(body: ReadableStream<Uint8Array>): AsyncGenerator<StatsJson> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buf.trim()) yield JSON.parse(buf);
}

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] [CONTAINER...]",
    "Display a live stream of container(s) resource usage statistics",
  )
    .option("-a, --all", "Show all containers (default shows just running)")
    .option("--format <string>", "Format output using a custom template")
    .option("--no-stream", "Disable streaming stats and only pull the first result")
    .option("--no-trunc", "Do not truncate output");
  const { opts, args: pos } = parse(c, args, name);
  const api = g.api();
  const trunc = opts.trunc !== false;
  const noStream = opts.stream === false;
  let targets = pos;
  if (!targets.length) {
    const list = await api.json<{ Id: string }[]>("GET", "/containers/json", {
      query: { all: !!opts.all },
    });
    targets = list.map((x) => x.Id);
  }
  const rows = new Map<string, StatsRow>();
  const errors: unknown[] = [];
  const render = () =>
    printFormatted(targets.filter((t) => rows.has(t)).map((t) => rows.get(t)!), opts.format, {
      defaultTable: DEFAULT_TABLE,
      headers: HEADERS,
    });
  if (noStream) {
    await Promise.all(targets.map(async (t) => {
      try {
        const res = await api.request("GET", `/containers/${encodeURIComponent(t)}/stats`, {
          query: { stream: "0" },
        });
        for await (const s of objects(res.body!)) {
          rows.set(t, toRow(s, t, trunc));
          break;
        }
      } catch (e) {
        errors.push(e);
      }
    }));
    if (errors.length) {
      for (const e of errors) reportError(e);
      return 1;
    }
    await Deno.stdout.write(new TextEncoder().encode(render()));
    return 0;
  }
  const ac = new AbortController();
  Deno.addSignalListener("SIGINT", () => ac.abort());
  const streams = targets.map(async (t) => {
    try {
      const res = await api.request("GET", `/containers/${encodeURIComponent(t)}/stats`, {
        query: { stream: "1" },
        signal: ac.signal,
      });
      for await (const s of objects(res.body!)) rows.set(t, toRow(s, t, trunc));
    } catch (e) {
      if (!ac.signal.aborted) errors.push(e);
    }
  });
  const enc = new TextEncoder();
  while (!ac.signal.aborted) {
    if (errors.length && rows.size === 0) {
      for (const e of errors) reportError(e);
      ac.abort();
      return 1;
    }
    // the docker CLI's redraw: home, each line cleared to its end, the rest cleared
    const frame = render().split("\n").map((l) => l + "\x1b[K").join("\n");
    await Deno.stdout.write(enc.encode("\x1b[H" + frame + "\x1b[J"));
    await new Promise((r) => setTimeout(r, 500));
  }
  await Promise.allSettled(streams);
  return 0;
}
