/**
 * The CRI ImageService over the daemon's stores. CRI images live in their own
 * namespace (`images/k8s.io/`: records and names), over the content store
 * and layers the Engine API uses, so blobs and layers are shared but names
 * are not (docs/cri.md). Pulls go through the Engine API's pull
 * (../images/distribution.ts) over the stores with the CRI's image store in
 * place of the Engine API's; its image events go to a log nobody reads, as
 * containerd's k8s.io namespace emits nothing to moby.
 * @module
 */
import type { Credentials } from "../../../core/distribution/mod.ts";
import { Conflict, InvalidArgument, messageOf } from "../../../core/errdefs/mod.ts";
import { parseNormalizedNamed, referenceString } from "../../../core/oci/reference.ts";
import type { ImageRecord, ImageStore } from "../../../core/store/images.ts";
import { ImageService, type ImageStores } from "../images/service.ts";
import { pullOne, type RegistryDeps } from "../images/distribution.ts";
import type { JsonStream } from "../context.ts";
import { Events } from "../events/log.ts";
import type { DaemonConfig } from "../config.ts";
import type { Msg, Unary } from "./types.ts";

/** CRI AuthConfig → the distribution client's credentials. */
export function credentialsOf(a: Msg | null | undefined): Credentials | undefined {
  if (!a) return undefined;
  let { username, password } = a as { username?: string; password?: string };
  if (!username && a.auth) {
    const plain = new TextDecoder().decode(
      Uint8Array.from(atob(a.auth), (c) => c.charCodeAt(0)),
    );
    const i = plain.indexOf(":");
    if (i < 0) throw new InvalidArgument("invalid auth: want base64 of username:password");
    [username, password] = [plain.slice(0, i), plain.slice(i + 1)];
  }
  const c: Credentials = {
    username: username || undefined,
    password: password || undefined,
    identityToken: a.identity_token || undefined,
    registryToken: a.registry_token || undefined,
  };
  return c.username || c.identityToken || c.registryToken ? c : undefined;
}

/** What {@link CriImages} is built from: the daemon's stores (`images` is the Engine API's). */
export interface CriImageDeps extends ImageStores {
  config: DaemonConfig;
  /** The CRI's image namespace (`images/k8s.io`, ../daemon.ts). */
  criImages: ImageStore;
}

export class CriImages {
  readonly store: ImageStore;
  /** The stores as the CRI's namespace sees them, with its own image service. */
  readonly #view: RegistryDeps & { config: DaemonConfig };
  readonly #svc: ImageService;
  readonly #pulling = new Map<string, Promise<ImageRecord>>();
  /** IDs of the CRI containers made from an image (set by ./containers.ts). */
  users: (imageId: string) => string[] = () => [];

  constructor(d: CriImageDeps) {
    this.store = d.criImages;
    const stores = {
      content: d.content,
      layers: d.layers,
      images: this.store,
      pinnedBlobs: d.pinnedBlobs,
    };
    this.#svc = new ImageService({
      ...stores,
      events: new Events(),
      imageUsers: (id) => this.users(id),
      namespaces: [d.images, d.criImages],
    });
    this.#view = { ...stores, config: d.config, imageService: this.#svc };
  }

  /** An image's config (the OCI image config JSON). */
  config(id: string): ReturnType<ImageService["config"]> {
    return this.#svc.config(id);
  }

  /** Pull `image` into the k8s.io store (`--insecure-registry` and loopback: plain HTTP). */
  async pull(image: string, auth?: Credentials): Promise<ImageRecord> {
    let ref;
    try {
      ref = parseNormalizedNamed(image);
    } catch (e) {
      throw new InvalidArgument(`failed to pull image "${image}": ${messageOf(e)}`);
    }
    const progress = { write: () => Promise.resolve() } as unknown as JsonStream;
    try {
      await pullOne(this.#view, ref, progress, {
        auth,
        mirrors: this.#view.config.criRegistryMirrors,
      });
    } finally {
      await this.#svc.collect();
    }
    return this.store.resolve(referenceString(ref));
  }

  /** The image `ref` names, pulled when the store has none (containerd's ensureImageExists). */
  async ensure(ref: string): Promise<ImageRecord> {
    const have = this.store.tryResolve(ref);
    if (have) return have;
    // pods started at once share one pull
    let p = this.#pulling.get(ref);
    if (!p) {
      p = this.pull(ref).finally(() => this.#pulling.delete(ref));
      this.#pulling.set(ref, p);
    }
    return await p;
  }

  #find(spec: Msg): ImageRecord | undefined {
    const name = spec?.image ?? "";
    if (!name) throw new InvalidArgument("image spec is required");
    return this.store.tryResolve(name);
  }

  async #image(r: ImageRecord): Promise<Msg> {
    const refs = this.store.refsOf(r.id);
    const user = (await this.#svc.config(r.id)).config?.User ?? "";
    const u = user.split(":")[0];
    return {
      id: r.id,
      repo_tags: refs.filter((x) => !x.includes("@")),
      repo_digests: refs.filter((x) => x.includes("@")),
      // As containerd: what the image takes in the content store (compressed).
      size: r.layers.reduce((n, l) => n + l.size, 0),
      uid: /^\d+$/.test(u) ? { value: Number(u) } : null,
      username: /^\d+$/.test(u) ? "" : u,
      spec: { image: r.id, annotations: {} },
      pinned: false,
    };
  }

  handlers(): Record<string, Unary> {
    return {
      ListImages: async (req: Msg) => {
        const want = req.filter?.image?.image;
        const recs = want ? [this.store.tryResolve(want)].filter((r) => r) : this.store.list();
        return { images: await Promise.all(recs.map((r) => this.#image(r as ImageRecord))) };
      },
      ImageStatus: async (req: Msg) => {
        const r = this.#find(req.image);
        if (!r) return { image: null, info: {} };
        const info: Record<string, string> = {};
        if (req.verbose) {
          info.info = JSON.stringify({
            imageSpec: await this.#svc.config(r.id),
            manifestDigest: r.manifestDigest,
            chainID: r.chainIds.at(-1),
            diffIDs: r.diffIds,
            layers: r.layers,
          });
        }
        return { image: await this.#image(r), info };
      },
      PullImage: async (req: Msg) => ({
        image_ref: (await this.pull(req.image?.image ?? "", credentialsOf(req.auth))).id,
      }),
      RemoveImage: async (req: Msg) => {
        // Every name of the image goes, as containerd's CRI; a missing image is no error.
        const r = this.#find(req.image);
        if (!r) return {};
        // its layers are the lower dirs of the containers' root filesystems
        const users = this.users(r.id);
        if (users.length) {
          throw new Conflict(
            `image ${r.id} is in use by container ${users[0].slice(0, 12)}: remove it first`,
          );
        }
        await this.store.untagAll(r.id);
        await this.store.delete(r.id);
        await this.#svc.collect();
        return {};
      },
      ImageFsInfo: async () => {
        const dir = `${this.#view.config.root}/layers`;
        const { bytes, inodes } = await usage(dir);
        return {
          image_filesystems: [{
            timestamp: Date.now() * 1e6,
            fs_id: { mountpoint: dir },
            used_bytes: { value: bytes },
            inodes_used: { value: inodes },
          }],
          container_filesystems: [],
        };
      },
    };
  }
}

/** Disk use (allocated blocks, as du) and inode count of a tree, not following links. */
export async function usage(dir: string): Promise<{ bytes: number; inodes: number }> {
  let bytes = 0, inodes = 0;
  const seen = new Set<number>();
  const walk = async (p: string) => {
    const st = await Deno.lstat(p);
    if (st.ino !== null && st.nlink !== null && st.nlink > 1 && !st.isDirectory) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    inodes++;
    bytes += (st.blocks ?? 0) * 512;
    if (!st.isDirectory) return;
    for await (const e of Deno.readDir(p)) await walk(`${p}/${e.name}`);
  };
  try {
    await walk(dir);
  } catch (e) {
    // A layer removed while walking: a figure for kubelet's GC, not an error.
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return { bytes, inodes };
}
