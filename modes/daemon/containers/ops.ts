/**
 * Smaller container operations: `ps` listing with Docker's filters, `top`,
 * `prune`, `changes` and disk sizes.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { ContainerRecord } from "../../../core/store/containers.ts";
import type {
  ContainerSummary,
  ContainerTopResponse,
  FilesystemChange,
  PruneReport,
} from "../../../core/api/types.ts";
import { S_IFCHR, S_IFMT } from "../../../core/sys/libc_fs.ts";
import type { ContainerService } from "./service.ts";
import { summaryView } from "./views.ts";
import { linkNames } from "./links.ts";
import { du } from "./volumes.ts";
import { healthOf } from "./health.ts";
import { pruneFilter } from "../prune_filters.ts";

function labelMatch(labels: Record<string, string>, want: string[]): boolean {
  return want.every((l) => {
    const i = l.indexOf("=");
    if (i < 0) return l in labels;
    return labels[l.slice(0, i)] === l.slice(i + 1);
  });
}

const HEALTH = ["starting", "healthy", "unhealthy", "none"];
const STATUSES = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

export async function listContainers(
  svc: ContainerService,
  o: { all: boolean; limit: number; size: boolean; filters: Record<string, string[]> },
): Promise<ContainerSummary[]> {
  const f = o.filters;
  for (const s of f.status ?? []) {
    if (!STATUSES.includes(s)) throw new InvalidArgument(`invalid filter 'status=${s}'`);
  }
  for (const h of f.health ?? []) {
    if (!HEALTH.includes(h)) {
      throw new InvalidArgument(`Unrecognised filter value for health: ${h}`);
    }
  }
  let recs = svc.store.list().sort((a, b) => b.Created.localeCompare(a.Created));
  const created = (ref: string) => svc.resolve(ref).Created;
  const before = f.before?.length ? created(f.before[0]) : undefined;
  const since = f.since?.length ? created(f.since[0]) : undefined;
  const all = o.all || o.limit > 0 || !!before || !!since;
  // As moby's filters.Args.Match: a value that is not a regexp matches nothing (no error).
  const nameRes = (f.name ?? []).map((x) => {
    try {
      return new RegExp(x);
    } catch {
      return undefined;
    }
  });
  recs = recs.filter((r) => {
    if (!all && !r.State.Running && !f.status?.length) return false;
    if (f.status?.length && !f.status.includes(r.State.Status)) return false;
    if (f.id?.length && !f.id.some((x) => r.Id.startsWith(x))) return false;
    if (nameRes.length && !nameRes.some((re) => re?.test(r.Name.slice(1)))) return false;
    if (f.label?.length && !labelMatch(r.Config.Labels ?? {}, f.label)) return false;
    if (
      f.exited?.length && (r.State.Running || !r.HasBeenStartedBefore ||
        !f.exited.includes(String(r.State.ExitCode)))
    ) return false;
    if (f.ancestor?.length && !f.ancestor.some((a) => ancestorMatch(svc, r, a))) return false;
    if (
      f.volume?.length &&
      !r.MountPoints.some((m) =>
        f.volume.includes(m.Name ?? "") || f.volume.includes(m.Destination)
      )
    ) return false;
    if (f.network?.length && !f.network.includes(r.HostConfig.NetworkMode)) return false;
    if (f.health?.length && !f.health.includes(healthOf(r))) return false;
    if (f["is-task"]?.length && f["is-task"][0] === "true") return false;
    if (before && r.Created >= before) return false;
    if (since && r.Created <= since) return false;
    return true;
  });
  if (o.limit > 0) recs = recs.slice(0, o.limit);
  const now = Date.now();
  const out = recs.map((r) => {
    const v = summaryView(r, now);
    // "/parent/alias" of legacy links; sorted, as moby's memdb name index yields them
    const links = linkNames(r, svc.store);
    if (links.length) v.Names = [...v.Names, ...links].sort();
    return v;
  });
  if (o.size) {
    for (let i = 0; i < recs.length; i++) {
      const rw = await du(`${svc.store.dirOf(recs[i].Id)}/upper`);
      out[i].SizeRw = rw;
      const img = svc.images.getById(recs[i].Image);
      out[i].SizeRootFs = rw + (img?.size ?? 0);
    }
  }
  return out;
}

function ancestorMatch(svc: ContainerService, r: ContainerRecord, a: string): boolean {
  if (r.Config.Image === a) return true;
  const img = svc.images.tryResolve(a);
  return !!img && img.id === r.Image;
}

/** `docker top`: host `ps` filtered to the container's pids (as moby does). */
export async function top(
  svc: ContainerService,
  ref: string,
  psArgs: string,
): Promise<ContainerTopResponse> {
  const r = svc.resolve(ref);
  const shim = svc.shimOf(r);
  const pids = new Set(((await shim.call({ op: "pids" })).pids as number[]) ?? []);
  const args = (psArgs || "-ef").split(/\s+/).filter(Boolean);
  const out = await new Deno.Command("ps", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new InvalidArgument(
      `Error running ps: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  const lines = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim());
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf("PID");
  if (pidCol < 0) throw new InvalidArgument(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const l of lines.slice(1)) {
    const f = l.trim().split(/\s+/);
    if (!pids.has(Number(f[pidCol]))) continue;
    const row = f.slice(0, titles.length - 1);
    row.push(f.slice(titles.length - 1).join(" "));
    processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

export async function prune(
  svc: ContainerService,
  filters: Record<string, string[]>,
): Promise<PruneReport> {
  const deleted: string[] = [];
  let reclaimed = 0;
  const pf = pruneFilter(filters, ["label", "label!", "until"]);
  for (const r of svc.store.list()) {
    if (r.State.Running) continue;
    if (!pf.labels(r.Config.Labels) || !pf.before(Date.parse(r.Created))) continue;
    const size = await du(`${svc.store.dirOf(r.Id)}/upper`);
    try {
      await svc.remove(r.Id, {});
      deleted.push(r.Id);
      reclaimed += size;
    } catch { /* raced: skip */ }
  }
  return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}

/** `GET /containers/{id}/changes` from the overlay upper dir. */
export async function changes(
  svc: ContainerService,
  ref: string,
): Promise<FilesystemChange[] | null> {
  const r = svc.resolve(ref);
  const upper = `${svc.store.dirOf(r.Id)}/upper`;
  const lowers = r.Layers.map((c) => svc.layers.diffDir(c)).reverse();
  const inLower = async (rel: string) => {
    for (const l of lowers) {
      try {
        await Deno.lstat(`${l}/${rel}`);
        return true;
      } catch { /* next */ }
    }
    return false;
  };
  const out: FilesystemChange[] = [];
  const walk = async (rel: string) => {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(rel ? `${upper}/${rel}` : upper));
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      const st = await Deno.lstat(`${upper}/${p}`);
      if (((st.mode ?? 0) & S_IFMT) === S_IFCHR && st.rdev === 0) {
        out.push({ Path: `/${p}`, Kind: 2 });
        continue;
      }
      const existed = await inLower(p);
      out.push({ Path: `/${p}`, Kind: existed ? 0 : 1 });
      if (e.isDirectory) await walk(p);
    }
  };
  await walk("");
  // Mount points the runtime created in the upper dir are not changes (Docker
  // keeps them in an init layer): drop them, and directories left with no
  // changed descendant because of that.
  const hidden = new Set([
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/.dockerenv",
    "/dev",
    "/proc",
    "/sys",
    ...r.MountPoints.map((m) => m.Destination),
  ]);
  const kept = out.filter((c) =>
    !hidden.has(c.Path) && ![...hidden].some((h) => c.Path.startsWith(h + "/"))
  );
  const result = kept.filter((c) =>
    c.Kind !== 0 || !out.some((o) => o.Path.startsWith(c.Path + "/")) ||
    kept.some((o) => o.Path.startsWith(c.Path + "/"))
  );
  return result.length ? result : null;
}
