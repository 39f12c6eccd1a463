/**
 * `POST /images/prune` as moby v20.10.24 daemon/images/image_prune.go: by
 * default only dangling (untagged) images go; `dangling=false` (`-a`) takes
 * every image no container uses. Untagged parents of other images are left
 * to their children's removal. `until`, `label` and `label!` are honoured
 * (./../prune_filters.ts): an image whose labels do not match stays.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { ImageDeps } from "./service.ts";
import { pruneFilter } from "../prune_filters.ts";

export async function pruneImages(
  s: ImageDeps,
  f: Record<string, string[]>,
): Promise<{ ImagesDeleted: unknown[] | null; SpaceReclaimed: number }> {
  const pf = pruneFilter(f, ["dangling", "label", "label!", "until"]);
  let danglingOnly = true;
  if (f.dangling?.length) {
    if (f.dangling.includes("false") || f.dangling.includes("0")) danglingOnly = false;
    else if (!f.dangling.includes("true") && !f.dangling.includes("1")) {
      throw new InvalidArgument(`Invalid filter 'dangling=[${f.dangling.join(" ")}]'`);
    }
  }
  const isParent = (id: string) => s.images.list().some((r) => r.parent === id);
  const deleted: unknown[] = [];
  const before = s.images.list().reduce((n, r) => n + r.size, 0);
  for (const img of s.images.list()) {
    if (!s.images.getById(img.id)) continue; // went with an image removed above
    const tags = s.images.repoTags(img.id);
    const refs = tags.length + s.images.repoDigests(img.id).length;
    if (refs === 0 && isParent(img.id)) continue;
    if (danglingOnly && tags.length) continue;
    const cfg = await s.imageService.config(img.id);
    if (!pf.before(Date.parse(img.created || cfg.created || img.addedAt))) continue;
    if (cfg.config && !pf.labels(cfg.config.Labels)) continue;
    if (s.imageService.users(img.id).length) continue;
    try {
      deleted.push(...await s.imageService.remove(img.id, { force: true }));
    } catch { /* in use or removed meanwhile: left, as moby skips conflicts */ }
  }
  const after = s.images.list().reduce((n, r) => n + r.size, 0);
  return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: before - after };
}
