/**
 * `POST /commit` (moby daemon/commit.go, 20.10): a new image from a
 * container. The new layer is the container's overlay upper dir as a layer
 * tar (core/archive diffFromUpper, streamed into the content store and the
 * layer store at once), minus what the runtime made there (mount points of
 * /etc/hosts etc., /dev, /proc, /sys, volume destinations: Docker keeps
 * those in its init layer) and directories left unchanged but for them.
 * The config is the request's Config with the `changes` (Dockerfile
 * instructions, parsed by the builder's parser) applied, filled from the
 * container's config (moby's merge). The container is paused meanwhile
 * unless `pause=0`. Docker always adds a layer, even an empty one.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { ImageRunConfig } from "../../../core/oci/types.ts";
import { MT } from "../../../core/oci/mediatypes.ts";
import { diffFromUpper } from "../../../core/archive/mod.ts";
import { familiarString, parseNormalizedNamed } from "../../../core/oci/reference.ts";
import { parseDockerfile } from "../../../core/dockerfile/parser.ts";
import { InstructionParser } from "../../../core/dockerfile/instructions.ts";
import { applyMeta } from "../../../core/dockerfile/dispatch.ts";
import { commitState, imageState, teeLockstep } from "../build/state.ts";
import type { ContainerService } from "./service.ts";
import type { ImageDeps } from "../images/service.ts";
import type { ContainerRecord } from "../../../core/store/containers.ts";
import type { ConfigBody, ContainerConfig } from "../../../core/api/types.ts";

/** moby validCommitCommands. */
const VALID = [
  "cmd",
  "entrypoint",
  "healthcheck",
  "env",
  "expose",
  "label",
  "onbuild",
  "stopsignal",
  "user",
  "volume",
  "workdir",
];

const RUN_CONFIG_KEYS = [
  "User",
  "ExposedPorts",
  "Env",
  "Entrypoint",
  "Cmd",
  "Volumes",
  "WorkingDir",
  "Labels",
  "StopSignal",
  "Healthcheck",
  "OnBuild",
  "Shell",
] as const;

export interface CommitRequest {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause: boolean;
  changes: string[];
  /** the request body (a container Config), or null */
  config?: ConfigBody | null;
}

/** The image-config fields of a container Config (or of a commit body); empty ones left out. */
function runConfigOf(c: ConfigBody | ContainerConfig | null | undefined): ImageRunConfig {
  const out: Record<string, unknown> = {};
  for (const k of RUN_CONFIG_KEYS) {
    const v = c?.[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) {
      out[k] = structuredClone(v);
    }
  }
  return out as ImageRunConfig;
}

/** moby dockerfile.BuildFromConfig: the changes applied to `cfg` (mutated). */
export function applyCommitChanges(cfg: ImageRunConfig, changes: string[]): void {
  const text = changes.join("\n");
  if (!text.trim()) return;
  const df = parseDockerfile(text);
  for (const n of df.nodes) {
    if (!VALID.includes(n.cmd)) throw new InvalidArgument(`${n.cmd} is not a valid change command`);
  }
  const ip = new InstructionParser("Dockerfile");
  let cmdSet = false;
  for (const n of df.nodes) {
    const env = new Map<string, string>();
    for (const e of cfg.Env ?? []) {
      const i = e.indexOf("=");
      if (i > 0) env.set(e.slice(0, i), e.slice(i + 1));
    }
    const r = applyMeta(ip.parse(n), cfg, { env, escape: df.escape, cmdSet });
    if (r.cmdSet) cmdSet = true;
  }
}

/** moby daemon/commit.go merge(userConf, imageConf): fill what the user left out. */
export function mergeCommitConfig(user: ImageRunConfig, ctr: ImageRunConfig): ImageRunConfig {
  const u = user;
  if (!u.User) u.User = ctr.User;
  if (!u.ExposedPorts || !Object.keys(u.ExposedPorts).length) u.ExposedPorts = ctr.ExposedPorts;
  else u.ExposedPorts = { ...(ctr.ExposedPorts ?? {}), ...u.ExposedPorts };
  if (!u.Env?.length) u.Env = ctr.Env;
  else {
    const keys = new Set(u.Env.map((e) => e.split("=")[0]));
    for (const e of ctr.Env ?? []) if (!keys.has(e.split("=")[0])) u.Env.push(e);
  }
  if (!u.Labels || !Object.keys(u.Labels).length) u.Labels = ctr.Labels;
  else u.Labels = { ...(ctr.Labels ?? {}), ...u.Labels };
  if (!u.Entrypoint?.length && !u.Cmd?.length) {
    u.Cmd = ctr.Cmd;
    u.Entrypoint = ctr.Entrypoint;
  }
  if (!u.OnBuild?.length) u.OnBuild = ctr.OnBuild;
  if (!u.WorkingDir) u.WorkingDir = ctr.WorkingDir;
  if (!u.Volumes || !Object.keys(u.Volumes).length) u.Volumes = ctr.Volumes;
  else u.Volumes = { ...(ctr.Volumes ?? {}), ...u.Volumes };
  if (!u.StopSignal) u.StopSignal = ctr.StopSignal;
  if (!u.Healthcheck) u.Healthcheck = ctr.Healthcheck;
  for (const k of Object.keys(u) as (keyof ImageRunConfig)[]) {
    if (u[k] === undefined || u[k] === "") delete u[k];
  }
  return u;
}

function sameMeta(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

/**
 * The walk filter for the container's diff: paths the runtime made are not
 * changes, nor a directory that only holds them and is as in the image.
 */
function diffFilter(upper: string, lowers: string[], r: ContainerRecord): (rel: string) => boolean {
  const hidden = [
    "etc/hosts",
    "etc/hostname",
    "etc/resolv.conf",
    ".dockerenv",
    "dev",
    "proc",
    "sys",
    ...r.MountPoints.map((m) => m.Destination.replace(/^\/+|\/+$/g, "")),
  ].filter((h) => h);
  const isHidden = (rel: string) => hidden.some((h) => rel === h || rel.startsWith(h + "/"));
  const lowerStat = (rel: string) => {
    for (const l of lowers) {
      try {
        return Deno.lstatSync(`${l}/${rel}`);
      } catch { /* not in this layer */ }
    }
    return undefined;
  };
  const drop = new Set<string>();
  const visit = (rel: string): boolean => {
    let kept = false;
    for (const e of Deno.readDirSync(rel ? `${upper}/${rel}` : upper)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (isHidden(p)) continue;
      if (!e.isDirectory) {
        kept = true;
        continue;
      }
      if (visit(p)) {
        kept = true;
        continue;
      }
      const lo = lowerStat(p);
      const st = Deno.lstatSync(`${upper}/${p}`);
      if (lo?.isDirectory && sameMeta(lo, st)) drop.add(p);
      else kept = true;
    }
    return kept;
  };
  visit("");
  return (rel) => !isHidden(rel) && !drop.has(rel);
}

/** Commit a container of `s.containers` into `s`'s image stores; returns the new image ID. */
export async function commitContainer(
  s: ImageDeps & { containers: ContainerService },
  q: CommitRequest,
): Promise<string> {
  const svc = s.containers;
  let ref: string | undefined;
  if (q.repo) {
    ref = q.tag ? `${q.repo}:${q.tag}` : q.repo;
    if (parseNormalizedNamed(ref).digest) {
      throw new InvalidArgument("cannot commit to digest reference");
    }
  } else if (q.tag) {
    throw new InvalidArgument("tag is specified without a repository");
  }
  const r = svc.resolve(q.container);
  // the config first: a bad change fails before anything is paused or written
  // moby CreateImageFromContainer: no Config in the request (an empty body)
  // means the container's, so the changes' $VARs see the container's Env
  const user = runConfigOf(q.config ?? r.Config);
  applyCommitChanges(user, q.changes);
  const runConfig = mergeCommitConfig(user, runConfigOf(r.Config));
  const pause = q.pause && r.State.Running && !r.State.Paused && !r.State.Restarting;
  if (pause) await svc.pause(r.Id);
  let emptyDir: string | undefined;
  try {
    const parent = await imageState(s, r.Image as `sha256:${string}`);
    let upper = `${svc.store.dirOf(r.Id)}/upper`;
    // never started: no upper dir yet, and no change (an empty layer, as Docker's)
    const fresh = await Deno.stat(upper).then(() => false, () => true);
    if (fresh) upper = emptyDir = await Deno.makeTempDir({ prefix: "berth-commit-" });
    const lowers = r.Layers.map((c) => s.layers.diffDir(c)).reverse();
    const [x, y] = teeLockstep(diffFromUpper(upper, { filter: diffFilter(upper, lowers, r) }));
    const parentChain = parent.chainIds.at(-1);
    const [blob, meta] = await Promise.all([
      s.content.ingest(x),
      s.layers.create(parentChain, y),
    ]);
    s.pinnedBlobs.add(blob.digest);
    if (blob.digest !== meta.diffId) {
      throw new Error(`layer digest mismatch: ${blob.digest} vs ${meta.diffId}`);
    }
    const next = await commitState(s, parent, {
      runConfig,
      createdBy: (r.Config.Cmd ?? []).join(" "),
      layer: {
        desc: { mediaType: MT.dockerLayer, digest: blob.digest, size: blob.size },
        diffId: meta.diffId,
        chainId: meta.chainId,
      },
      author: q.author ?? "",
      comment: q.comment ?? "",
    });
    if (ref) await s.imageService.tag(next.id!, ref, null);
    // moby: imageRef is the familiar reference given, the comment as sent
    svc.events.container("commit", r, {
      comment: q.comment ?? "",
      imageID: next.id!,
      imageRef: ref ? familiarString(parseNormalizedNamed(ref)) : "",
    });
    return next.id!;
  } finally {
    if (emptyDir) await Deno.remove(emptyDir).catch(() => {}); // empty; a leftover is harmless
    if (pause) {
      await svc.unpause(r.Id).catch((e) => {
        throw new Error(`commit: cannot unpause ${r.Id}: ${(e as Error).message}`);
      });
    }
  }
}
