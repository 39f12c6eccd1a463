/**
 * `ps`: docker's container table (CONTAINER ID, IMAGE, COMMAND, CREATED,
 * STATUS, PORTS, NAMES), -a, -q, -n, -l, -s, --no-trunc, --filter, --format
 * (json, table, Go-template).
 * @module
 */
import { command, filterFlag, filtersQuery, type Globals, out, parse } from "../cli.ts";
import { goTime, humanSize, printFormatted, since } from "../format.ts";

import type { ContainerSummary, Port } from "../../../core/api/types.ts";

function ellipsis(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : chars.slice(0, n - 1).join("") + "…";
}

/** docker's DisplayablePorts (without range folding). */
export function displayPorts(ports: Port[]): string {
  const out: string[] = [];
  const sorted = [...ports].sort((a, b) =>
    (a.PrivatePort - b.PrivatePort) || String(a.Type).localeCompare(String(b.Type))
  );
  for (const p of sorted) {
    if (p.PublicPort) {
      const ip = p.IP?.includes(":") ? `[${p.IP}]` : (p.IP ?? "");
      out.push(`${ip}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`);
    } else out.push(`${p.PrivatePort}/${p.Type}`);
  }
  return out.join(", ");
}

function row(c: ContainerSummary, trunc: boolean): Record<string, string> {
  let image: string = c.Image ?? "";
  if (trunc) {
    if (image.startsWith("sha256:")) image = image.slice(7, 19);
    else if (image.includes("@")) image = image.slice(0, image.indexOf("@"));
  }
  const labels = Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
  const mounts = (c.Mounts ?? []).map((m) =>
    m.Name ? (trunc ? ellipsis(m.Name, 15) : m.Name) : m.Source
  ).join(",");
  const nets = Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(",");
  const size = c.SizeRw !== undefined
    ? `${humanSize(c.SizeRw)} (virtual ${humanSize(c.SizeRootFs ?? 0)})`
    : "0B";
  return {
    ID: trunc ? c.Id.slice(0, 12) : c.Id,
    Image: image || "<no image>",
    Command: JSON.stringify(trunc ? ellipsis(c.Command ?? "", 20) : (c.Command ?? "")),
    CreatedAt: goTime(c.Created),
    RunningFor: since(c.Created),
    Ports: displayPorts(c.Ports ?? []),
    State: c.State,
    Status: c.Status,
    Size: size,
    Names: (c.Names ?? []).map((n) => n.replace(/^\//, "")).filter((n) =>
      !trunc || !n.includes("/")
    ).join(","),
    Labels: labels,
    Mounts: mounts,
    Networks: nets,
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === "volume").length),
  };
}

export async function ps(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "List containers")
    .option("-a, --all", "Show all containers (default shows just running)")
    .option(
      "-f, --filter <filter>",
      "Filter output based on conditions provided",
      filterFlag,
    )
    .option("--format <string>", "Format output using a custom template")
    .option("-n, --last <int>", "Show n last created containers (includes all states)")
    .option("-l, --latest", "Show the latest created container (includes all states)")
    .option("--no-trunc", "Don't truncate output")
    .option("-q, --quiet", "Only display container IDs")
    .option("-s, --size", "Display total file sizes");
  const { opts } = parse(c, args, name);
  let limit = opts.last !== undefined ? Number(opts.last) : -1;
  if (opts.latest) limit = 1;
  const list = await g.api().json<ContainerSummary[]>("GET", "/containers/json", {
    query: {
      all: opts.all,
      limit: limit > 0 ? limit : undefined,
      size: opts.size,
      filters: filtersQuery(opts.filter),
    },
  });
  const trunc = opts.trunc !== false;
  if (opts.quiet) {
    out(list.map((x) => (trunc ? x.Id.slice(0, 12) : x.Id) + "\n").join(""));
    return 0;
  }
  const rows = list.map((x) => row(x, trunc));
  const dflt = opts.size
    ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
    : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
  out(printFormatted(rows, opts.format, {
    defaultTable: dflt,
    headers: {
      ID: "CONTAINER ID",
      Image: "IMAGE",
      Command: "COMMAND",
      RunningFor: "CREATED",
      CreatedAt: "CREATED AT",
      Status: "STATUS",
      Ports: "PORTS",
      Names: "NAMES",
      Size: "SIZE",
      State: "STATE",
      Labels: "LABELS",
      Mounts: "MOUNTS",
      Networks: "NETWORKS",
      LocalVolumes: "LOCAL VOLUMES",
    },
  }));
  return 0;
}
