/**
 * The daemon's image service: list/inspect/tag/remove, and the creation of
 * image records from layers + config (used by load, import, pull and build).
 * Load and save live in archive_load.ts / archive_save.ts.
 * @module
 */
import type { Descriptor, ImageConfig, Manifest } from "../../../core/oci/types.ts";
import { MT } from "../../../core/oci/mediatypes.ts";
import { validateRunConfig } from "../../../core/oci/validate.ts";
import { type Digest, shortId } from "../../../core/oci/digest.ts";
import { Conflict, InvalidArgument, NotFound } from "../../../core/errdefs/mod.ts";
import { chainIds } from "../../../core/store/layers.ts";
import type { ImageRecord, ImageStore } from "../../../core/store/images.ts";
import type { ContentStore } from "../../../core/store/content.ts";
import type { LayerStore } from "../../../core/store/layers.ts";
import {
  familiarName,
  familiarString,
  parseNormalizedNamed,
  referenceString,
} from "../../../core/oci/reference.ts";
import { globMatch as pathMatch } from "../../../core/dockerfile/copy_rules.ts";
import type { Events } from "../events/log.ts";
import type { ImageSummary } from "../../../core/api/types.ts";

const enc = new TextEncoder();

/** The stores of one image namespace: blobs and layers are shared, `images` (records, names) is the namespace's. */
export interface ImageStores {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  /** Blobs being written by a load, pull, import, build or commit: `collect()` keeps them. */
  pinnedBlobs: Set<string>;
}

/** What the image code (load, save, import, pull, push, prune, build, commit) works on. */
export interface ImageDeps extends ImageStores {
  imageService: ImageService;
}

/** What {@link ImageService} is built from (../daemon.ts). */
export interface ImageServiceDeps extends ImageStores {
  events: Events;
  /** IDs of containers (any state) created from image `id` (the container service's). */
  imageUsers(id: string): string[];
  /**
   * Image stores of every namespace (the Engine API's, the CRI's k8s.io):
   * blobs and layers are shared, so `collect()` keeps what any of them uses.
   */
  namespaces: ImageStore[];
}

export class ImageService {
  #s: ImageServiceDeps;
  #configs = new Map<Digest, ImageConfig>();
  #events: Events;
  constructor(deps: ImageServiceDeps) {
    this.#s = deps;
    this.#events = deps.events;
  }

  /** IDs of containers (any state) created from image `id`. */
  users(id: string): string[] {
    return this.#s.imageUsers(id);
  }

  /**
   * Log an image event (moby's LogImageEvent): `id` is the image ID, or the
   * reference for pull and push; the labels of image `imageId` while it
   * still exists.
   */
  async event(action: string, id: string, name: string, imageId = id): Promise<void> {
    let labels: Record<string, string> = {};
    try {
      labels = (await this.config(imageId as Digest)).config?.Labels ?? {};
    } catch {
      // deleted (or not an image ID): no labels, as moby
    }
    this.#events.image(action, id, name, labels);
  }

  async config(id: Digest): Promise<ImageConfig> {
    let c = this.#configs.get(id);
    if (!c) {
      c = await this.#s.content.readJson<ImageConfig>(id);
      this.#configs.set(id, c);
    }
    return c;
  }

  async list(opts: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<
    ImageSummary[]
  > {
    const out: ImageSummary[] = [];
    const f = opts.filters ?? {};
    for (const r of this.#s.images.list()) {
      let tags = this.#s.images.repoTags(r.id);
      let digests = this.#s.images.repoDigests(r.id);
      if (!opts.all && tags.length === 0 && digests.length === 0 && this.#isParent(r.id)) continue;
      const cfg = await this.config(r.id);
      const labels = cfg.config?.Labels ?? null;
      if (f.dangling?.length) {
        const want = f.dangling[0] === "true" || f.dangling[0] === "1";
        if (want !== (tags.length === 0)) continue;
      }
      if (f.label?.length && !matchLabels(labels ?? {}, f.label)) continue;
      if (f.reference?.length) {
        // Patterns are ORed, and only the references that match are shown
        // (moby v20.10.24 daemon/images/images.go Images).
        const pats = f.reference;
        const hit = (ref: string) => pats.some((p) => familiarMatch(p, ref));
        tags = tags.filter(hit);
        digests = digests.filter(hit);
        if (!tags.length && !digests.length) continue;
      }
      out.push({
        Id: r.id,
        ParentId: r.parent ?? "",
        RepoTags: tags,
        RepoDigests: digests,
        Created: Math.floor(Date.parse(r.created || cfg.created || r.addedAt) / 1000) || 0,
        Size: r.size,
        SharedSize: -1,
        Labels: labels,
        Containers: this.#s.imageUsers(r.id).length,
      });
    }
    out.sort((a, b) => b.Created - a.Created || a.Id.localeCompare(b.Id));
    return out;
  }

  #isParent(id: Digest): boolean {
    return this.#s.images.list().some((r) => r.parent === id);
  }

  async inspect(name: string): Promise<Record<string, unknown>> {
    const r = this.#s.images.resolve(name);
    const cfg = await this.config(r.id);
    return {
      Id: r.id,
      RepoTags: this.#s.images.repoTags(r.id),
      RepoDigests: this.#s.images.repoDigests(r.id),
      Parent: r.parent ?? "",
      Comment: (cfg.history?.at(-1)?.comment as string) ?? "",
      Created: cfg.created ?? r.created,
      DockerVersion: (cfg.docker_version as string) ?? "",
      Author: cfg.author ?? "",
      // Go's container.Config has no omitempty on OnBuild: null when none.
      Config: { ...cfg.config, OnBuild: cfg.config?.OnBuild ?? null },
      Architecture: cfg.architecture,
      Variant: cfg.variant,
      Os: cfg.os,
      Size: r.size,
      VirtualSize: r.size,
      GraphDriver: {
        Name: "overlay2",
        Data: {
          LowerDir: r.chainIds.slice(0, -1).reverse().map((c) => this.#s.layers.diffDir(c)).join(
            ":",
          ),
          UpperDir: r.chainIds.length ? this.#s.layers.diffDir(r.chainIds.at(-1)!) : "",
        },
      },
      RootFS: { Type: "layers", Layers: r.diffIds },
      Metadata: { LastTagTime: this.#s.images.lastTagTime(r.id) ?? "0001-01-01T00:00:00Z" },
      Descriptor: { mediaType: r.manifestMediaType, digest: r.manifestDigest, size: 0 },
    };
  }

  async history(name: string): Promise<unknown[]> {
    const r = this.#s.images.resolve(name);
    const cfg = await this.config(r.id);
    const hist = cfg.history ?? [];
    const out: unknown[] = [];
    let layer = r.chainIds.length - 1;
    const sizes = await Promise.all(
      r.chainIds.map((c) => this.#s.layers.meta(c).then((m) => m.size).catch(() => 0)),
    );
    for (let i = hist.length - 1; i >= 0; i--) {
      const h = hist[i];
      const size = h.empty_layer ? 0 : (sizes[layer--] ?? 0);
      out.push({
        Id: i === hist.length - 1 ? r.id : "<missing>",
        Created: Math.floor(Date.parse(h.created ?? "") / 1000) || 0,
        CreatedBy: h.created_by ?? "",
        Tags: i === hist.length - 1 ? this.#s.images.repoTags(r.id) : null,
        Size: size,
        Comment: h.comment ?? "",
      });
    }
    return out;
  }

  async tag(source: string, repo: string, tag: string | null): Promise<void> {
    const r = this.#s.images.resolve(source);
    if (!repo) throw new InvalidArgument("repository name must have at least one component");
    const ref = parseNormalizedNamed(tag ? `${repo}:${tag}` : repo);
    if (ref.digest) throw new InvalidArgument("refusing to create a tag with a digest reference");
    // moby reference/store.go addReference: a repository named after the
    // digest algorithm would read as an image ID.
    if (familiarName(ref) === "sha256") {
      throw new InvalidArgument(
        "refusing to create an ambiguous tag using digest algorithm as name",
      );
    }
    await this.#s.images.tag(r.id, referenceString(ref));
    await this.event("tag", r.id, familiarString(ref));
  }

  /** Docker's rmi semantics; an untag or delete event per line of the answer. */
  async remove(
    name: string,
    opts: { force?: boolean; noprune?: boolean } = {},
  ): Promise<Array<{ Untagged: string } | { Deleted: string }>> {
    const id = this.#s.images.resolve(name).id;
    // an image without a readable config has no labels for the event
    const labels = (await this.config(id).catch(() => undefined))?.config?.Labels ?? {};
    const out = await this.#remove(name, opts);
    for (const o of out) {
      if ("Untagged" in o) this.#events.image("untag", id, id, labels);
      else this.#events.image("delete", o.Deleted, o.Deleted, o.Deleted === id ? labels : {});
    }
    return out;
  }

  async #remove(
    name: string,
    opts: { force?: boolean; noprune?: boolean },
  ): Promise<Array<{ Untagged: string } | { Deleted: string }>> {
    const store = this.#s.images;
    const rec = store.resolve(name);
    const out: Array<{ Untagged: string } | { Deleted: string }> = [];
    const refKey = store.refKey(name);
    const users = this.#s.imageUsers(rec.id);
    const byRef = refKey !== undefined && !/^(sha256:)?[a-f0-9]+$/.test(name);
    if (byRef) {
      const remaining = store.refsOf(rec.id).filter((k) => k !== refKey);
      if (
        remaining.filter((k) => !k.includes("@")).length > 0 || users.length === 0 || opts.force
      ) {
        await store.untag(name);
        out.push({ Untagged: displayRef(refKey!) });
        const left = store.refsOf(rec.id);
        // Untagging the last tag also drops digest references, as docker does.
        if (left.every((k) => k.includes("@")) && users.length === 0) {
          for (const k of await store.untagAll(rec.id)) out.push({ Untagged: displayRef(k) });
          out.push(...await this.#deleteImage(rec, opts.noprune));
        }
        return out;
      }
      throw new Conflict(
        `conflict: unable to remove repository reference "${name}" (must force) - container ${
          shortId(users[0])
        } is using its referenced image ${shortId(rec.id)}`,
      );
    }
    // By ID.
    const tags = store.refsOf(rec.id).filter((k) => !k.includes("@"));
    if (users.length > 0) {
      throw new Conflict(
        `conflict: unable to delete ${shortId(rec.id)} (${
          opts.force ? "cannot be forced" : "must be forced"
        }) - image is being used by container ${shortId(users[0])}`,
      );
    }
    if (tags.length > 1 && !opts.force) {
      throw new Conflict(
        `conflict: unable to delete ${
          shortId(rec.id)
        } (must be forced) - image is referenced in multiple repositories`,
      );
    }
    if (this.#isParent(rec.id) && !opts.force) {
      throw new Conflict(
        `conflict: unable to delete ${
          shortId(rec.id)
        } (cannot be forced) - image has dependent child images`,
      );
    }
    for (const k of await store.untagAll(rec.id)) out.push({ Untagged: displayRef(k) });
    out.push(...await this.#deleteImage(rec, opts.noprune));
    return out;
  }

  /**
   * Delete an image record, then (unless `noprune`) its untagged parents
   * that nothing else uses, as docker does for build intermediates.
   */
  async #deleteImage(rec: ImageRecord, noprune?: boolean): Promise<Array<{ Deleted: string }>> {
    const out: Array<{ Deleted: string }> = [];
    let cur: ImageRecord | undefined = rec;
    while (cur) {
      await this.#s.images.delete(cur.id);
      this.#configs.delete(cur.id);
      out.push({ Deleted: cur.id });
      if (noprune || !cur.parent) break;
      const parent = this.#s.images.getById(cur.parent);
      if (
        !parent || this.#s.images.refsOf(parent.id).length > 0 || this.#isParent(parent.id) ||
        this.#s.imageUsers(parent.id).length > 0
      ) break;
      cur = parent;
    }
    await this.collect();
    return out;
  }

  /**
   * Remove blobs and unpacked layers no image references any more. Layers in
   * use by containers stay because their image records stay.
   */
  async collect(): Promise<void> {
    const liveBlobs = new Set<string>();
    const liveChains = new Set<string>();
    // Every namespace's images keep their blobs and layers (the CRI's too).
    const recs = this.#s.namespaces.flatMap((st) => st.list());
    for (const r of recs) {
      liveBlobs.add(r.id);
      liveBlobs.add(r.manifestDigest);
      if (r.indexDigest) liveBlobs.add(r.indexDigest);
      for (const l of r.layers) liveBlobs.add(l.digest);
      for (const c of r.chainIds) liveChains.add(c);
    }
    const pinned = this.#s.pinnedBlobs;
    for await (const d of this.#s.content.list()) {
      if (!liveBlobs.has(d) && !pinned.has(d)) await this.#s.content.delete(d);
    }
    for await (const c of this.#s.layers.list()) {
      if (!liveChains.has(c)) await this.#s.layers.remove(c);
    }
  }

  /**
   * Record an image whose config, layer blobs and unpacked layers are in the
   * stores. Writes the manifest blob if not given. Returns the record.
   */
  async commit(opts: {
    config: ImageConfig;
    configDigest?: Digest;
    layers: Descriptor[];
    manifestDigest?: Digest;
    manifestMediaType?: string;
    indexDigest?: Digest;
    parent?: Digest;
    tags?: string[];
  }): Promise<ImageRecord> {
    // Every image enters here (pull, load, build, import): what containers inherit is typed.
    if (opts.config.config != null) validateRunConfig(opts.config.config);
    const cs = this.#s.content;
    let configDigest = opts.configDigest;
    let configSize: number;
    if (!configDigest) {
      const b = enc.encode(JSON.stringify(opts.config));
      const info = await cs.ingestBytes(b);
      configDigest = info.digest;
      configSize = info.size;
    } else {
      configSize = (await cs.info(configDigest)).size;
    }
    const diffIds = opts.config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== opts.layers.length) {
      throw new InvalidArgument(
        `image config has ${diffIds.length} diff_ids but there are ${opts.layers.length} layers`,
      );
    }
    const chains = chainIds(diffIds);
    let size = 0;
    for (const c of chains) {
      const m = await this.#s.layers.meta(c).catch(() => {
        throw new NotFound(`layer ${c} is not unpacked`);
      });
      size += m.size;
    }
    let manifestDigest = opts.manifestDigest;
    let manifestMediaType = opts.manifestMediaType ?? MT.dockerManifest;
    if (!manifestDigest) {
      const allOci = opts.layers.every((l) => l.mediaType.startsWith("application/vnd.oci."));
      manifestMediaType = allOci ? MT.ociManifest : MT.dockerManifest;
      const m: Manifest = {
        schemaVersion: 2,
        mediaType: manifestMediaType,
        config: {
          mediaType: allOci ? MT.ociConfig : MT.dockerConfig,
          digest: configDigest,
          size: configSize,
        },
        layers: opts.layers.map((l) => ({
          mediaType: l.mediaType,
          digest: l.digest,
          size: l.size,
        })),
      };
      manifestDigest = (await cs.ingestBytes(enc.encode(JSON.stringify(m)))).digest;
    }
    const rec: ImageRecord = {
      id: configDigest,
      manifestDigest,
      manifestMediaType,
      indexDigest: opts.indexDigest,
      layers: opts.layers,
      diffIds,
      chainIds: chains,
      size,
      created: opts.config.created ?? new Date().toISOString(),
      parent: opts.parent,
      addedAt: new Date().toISOString(),
    };
    const existing = this.#s.images.getById(configDigest);
    if (!existing || existing.manifestDigest !== manifestDigest) await this.#s.images.put(rec);
    for (const t of opts.tags ?? []) await this.#s.images.tag(rec.id, t);
    return this.#s.images.getById(rec.id)!;
  }
}

function displayRef(key: string): string {
  // docker prints the familiar form: busybox:latest
  const s = key.startsWith("docker.io/library/")
    ? key.slice("docker.io/library/".length)
    : key.startsWith("docker.io/")
    ? key.slice("docker.io/".length)
    : key;
  return s;
}

function matchLabels(labels: Record<string, string>, wants: string[]): boolean {
  return wants.every((w) => {
    const i = w.indexOf("=");
    if (i < 0) return w in labels;
    return labels[w.slice(0, i)] === w.slice(i + 1);
  });
}

/**
 * docker/distribution reference.FamiliarMatch: the pattern (Go path.Match)
 * against the familiar string (busybox:latest, busybox@sha256:…), else
 * against the repository name alone.
 */
function familiarMatch(pattern: string, ref: string): boolean {
  const name = ref.replace(/@.*$/, "").replace(/:[^:/]*$/, "");
  try {
    return pathMatch(pattern, ref) || pathMatch(pattern, name);
  } catch {
    return false; // a malformed pattern matches nothing
  }
}
