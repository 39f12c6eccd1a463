/**
 * `berth system df [-v] [--format]` from GET /system/df, laid out as the
 * docker CLI does (summary table, or the four verbose sections).
 * @module
 */
import { command, type Globals, out, parse } from "../cli.ts";
import { printFormatted, since } from "../format.ts";

import type { ContainerSummary, DiskUsage, ImageSummary, Volume } from "../../../core/api/types.ts";

/** go-units HumanSize (decimal, 4 significant digits), as `system df` prints sizes. */
function size4(n: number): string {
  return sizeP(n, 4);
}

function sizeP(n: number, p: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0, s = n;
  while (s >= 1000 && i < units.length - 1) {
    s /= 1000;
    i++;
  }
  return `${Number(s.toPrecision(p))}${units[i]}`;
}

function withPct(part: number, total: number): string {
  return total > 0 ? `${size4(part)} (${Math.floor((part * 100) / total)}%)` : size4(part);
}

function summary(df: DiskUsage): Record<string, string>[] {
  const images = df.Images ?? [];
  const ctrs = df.Containers ?? [];
  const vols = df.Volumes ?? [];
  const cache = df.BuildCache ?? [];
  const layers = df.LayersSize ?? 0;
  let used = 0;
  for (const i of images) {
    if (i.Containers && i.VirtualSize !== -1 && i.SharedSize !== -1) {
      used += (i.VirtualSize ?? i.Size) - i.SharedSize;
    }
  }
  const active = (c: ContainerSummary) => c.State === "running" || c.State === "paused";
  const ctrSize = ctrs.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const ctrFree = ctrs.filter((c) => !active(c)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const vSize = (v: Volume) => Math.max(0, v.UsageData?.Size ?? 0);
  const volSize = vols.reduce((n, v) => n + vSize(v), 0);
  const volFree = vols.filter((v) => !((v.UsageData?.RefCount ?? 0) > 0)).reduce(
    (n, v) => n + vSize(v),
    0,
  );
  const cacheSize = cache.reduce((n, b) => n + (b.Size ?? 0), 0);
  const cacheFree = cache.filter((b) => !b.InUse && !b.Shared).reduce((n, b) => n + b.Size, 0);
  return [
    {
      Type: "Images",
      TotalCount: String(images.length),
      Active: String(images.filter((i) => i.Containers > 0).length),
      Size: size4(layers),
      Reclaimable: withPct(layers - used, layers),
    },
    {
      Type: "Containers",
      TotalCount: String(ctrs.length),
      Active: String(ctrs.filter(active).length),
      Size: size4(ctrSize),
      Reclaimable: withPct(ctrFree, ctrSize),
    },
    {
      Type: "Local Volumes",
      TotalCount: String(vols.length),
      Active: String(vols.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Size: size4(volSize),
      Reclaimable: withPct(volFree, volSize),
    },
    {
      Type: "Build Cache",
      TotalCount: String(cache.length),
      Active: String(cache.filter((b) => b.InUse).length),
      Size: size4(cacheSize),
      Reclaimable: size4(cacheFree),
    },
  ];
}

function imageRow(i: ImageSummary): Record<string, string> {
  let repo = "<none>", tag = "<none>";
  const t: string | undefined = i.RepoTags?.[0];
  if (t && t !== "<none>:<none>") {
    const at = t.lastIndexOf(":");
    const slash = t.lastIndexOf("/");
    [repo, tag] = at > slash ? [t.slice(0, at), t.slice(at + 1)] : [t, "<none>"];
    repo = repo.replace(/^docker\.io\/library\//, "").replace(/^docker\.io\//, "");
  }
  return {
    Repository: repo,
    Tag: tag,
    ID: String(i.Id).replace(/^sha256:/, "").slice(0, 12),
    CreatedSince: since(i.Created),
    Size: sizeP(i.Size, 3),
    SharedSize: i.SharedSize === -1 ? "N/A" : size4(i.SharedSize),
    UniqueSize: i.SharedSize === -1 ? "N/A" : size4(i.Size - i.SharedSize),
    Containers: String(i.Containers),
  };
}

function ellipsis(s: string, n: number): string {
  const cs = [...s];
  return cs.length <= n ? s : cs.slice(0, n - 1).join("") + "…";
}

function containerRow(c: ContainerSummary): Record<string, string> {
  let image: string = c.Image ?? "";
  if (image.startsWith("sha256:")) image = image.slice(7, 19);
  return {
    ID: String(c.Id).slice(0, 12),
    Image: image,
    Command: JSON.stringify(ellipsis(c.Command ?? "", 20)),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === "volume").length),
    Size: size4(c.SizeRw ?? 0),
    RunningFor: since(c.Created),
    Status: c.Status,
    Names: String(c.Names?.[0] ?? "").replace(/^\//, ""),
  };
}

function section(
  rows: Record<string, string>[],
  tmpl: string,
  headers: Record<string, string>,
): string {
  return printFormatted(rows, undefined, { defaultTable: tmpl, headers });
}

function verbose(df: DiskUsage): string {
  const cache = df.BuildCache ?? [];
  const cacheSize = cache.reduce((n, b) => n + (b.Size ?? 0), 0);
  return "Images space usage:\n\n" +
    section(
      (df.Images ?? []).map(imageRow),
      "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
      {
        Repository: "REPOSITORY",
        Tag: "TAG",
        ID: "IMAGE ID",
        CreatedSince: "CREATED",
        Size: "SIZE",
        SharedSize: "SHARED SIZE",
        UniqueSize: "UNIQUE SIZE",
        Containers: "CONTAINERS",
      },
    ) +
    "\nContainers space usage:\n\n" +
    section(
      (df.Containers ?? []).map(containerRow),
      "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
      {
        ID: "CONTAINER ID",
        Image: "IMAGE",
        Command: "COMMAND",
        LocalVolumes: "LOCAL VOLUMES",
        Size: "SIZE",
        RunningFor: "CREATED",
        Status: "STATUS",
        Names: "NAMES",
      },
    ) +
    "\nLocal Volumes space usage:\n\n" +
    section(
      (df.Volumes ?? []).map((v) => ({
        Name: v.Name,
        Links: String(v.UsageData?.RefCount ?? 0),
        Size: v.UsageData?.Size === -1 ? "N/A" : size4(v.UsageData?.Size ?? 0),
      })),
      "table {{.Name}}\t{{.Links}}\t{{.Size}}",
      { Name: "VOLUME NAME", Links: "LINKS", Size: "SIZE" },
    ) +
    `\nBuild cache usage: ${size4(cacheSize)}\n\n` +
    section(
      cache.map((b) => ({
        ID: String(b.ID).slice(0, 12),
        CacheType: b.Type,
        Size: size4(b.Size),
        CreatedSince: since(Date.parse(b.CreatedAt) / 1000),
        LastUsedSince: b.LastUsedAt ? since(Date.parse(b.LastUsedAt) / 1000) : "",
        UsageCount: String(b.UsageCount),
        Shared: String(b.Shared),
      })),
      "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
      {
        ID: "CACHE ID",
        CacheType: "CACHE TYPE",
        Size: "SIZE",
        CreatedSince: "CREATED",
        LastUsedSince: "LAST USED",
        UsageCount: "USAGE",
        Shared: "SHARED",
      },
    );
}

export async function systemDf(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "Show berth disk usage")
    .option("--format <string>", "Format output using a custom template")
    .option("-v, --verbose", "Show detailed information on space usage");
  const { opts } = parse(c, args, name);
  const df = await g.api().json<DiskUsage>("GET", "/system/df");
  if (opts.verbose && !opts.format) {
    out(verbose(df));
    return 0;
  }
  out(printFormatted(summary(df), opts.format, {
    defaultTable: "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
    headers: {
      Type: "TYPE",
      TotalCount: "TOTAL",
      Active: "ACTIVE",
      Size: "SIZE",
      Reclaimable: "RECLAIMABLE",
    },
  }));
  return 0;
}
