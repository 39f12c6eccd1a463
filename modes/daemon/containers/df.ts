/**
 * GET /system/df: disk usage of images (with layer sharing), containers
 * (writable layer sizes), volumes (with reference counts) and the build
 * cache, in Docker's shape (API 1.41: LayersSize, Images, Containers,
 * Volumes, BuildCache).
 * @module
 */
import type { ContainerService } from "./service.ts";
import { du, type VolumeService } from "./volumes.ts";
import { listContainers } from "./ops.ts";
import type { ImageDeps } from "../images/service.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** Which parts to compute (API 1.42's `type`); all when empty. */
export type DfType = "container" | "image" | "volume" | "build-cache";

/** What the disk usage is read from (the daemon, ../daemon.ts). */
export interface DfDeps extends ImageDeps {
  containers: ContainerService;
  volumes: VolumeService;
}

export async function diskUsage(s: DfDeps, types: DfType[] = []): Promise<Json> {
  const want = (t: DfType) => types.length === 0 || types.includes(t);
  const out: Json = {};
  if (want("image")) Object.assign(out, await images(s));
  if (want("container")) {
    const list = await listContainers(s.containers, {
      all: true,
      limit: -1,
      size: true,
      filters: {},
    });
    for (const c of list) if (!c.SizeRw) delete c.SizeRw; // omitempty, as Docker
    out.Containers = list;
  }
  if (want("volume")) {
    const vs = s.volumes;
    const vols: Json[] = [];
    for (const v of vs.list()) {
      const { Anonymous: _a, Populated: _p, ...view } = v as Json;
      vols.push({
        ...view,
        UsageData: { Size: await du(v.Mountpoint), RefCount: vs.users(v.Name).length },
      });
    }
    out.Volumes = vols;
  }
  if (want("build-cache")) out.BuildCache = []; // the legacy builder caches in images
  return out;
}

async function images(s: ImageDeps): Promise<Json> {
  const recs = s.images.list();
  const refs = new Map<string, number>();
  for (const r of recs) for (const c of new Set(r.chainIds)) refs.set(c, (refs.get(c) ?? 0) + 1);
  const sizes = new Map<string, number>();
  for (const c of refs.keys()) {
    sizes.set(c, await s.layers.meta(c).then((m) => m.size, () => 0));
  }
  const list = await s.imageService.list({ all: true });
  for (const i of list) {
    const r = s.images.getById(i.Id);
    let shared = 0;
    for (const c of new Set(r?.chainIds ?? [])) if ((refs.get(c) ?? 0) > 1) shared += sizes.get(c)!;
    Object.assign(i, { SharedSize: shared, VirtualSize: i.Size });
  }
  return {
    LayersSize: [...sizes.values()].reduce((a, b) => a + b, 0),
    Images: list,
  };
}
