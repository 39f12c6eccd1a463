/**
 * The daemon's composition root: {@link openDaemon} builds every store and
 * service once, in dependency order, and hands each constructor exactly what
 * it uses (a small typed deps object). The result, a {@link Daemon}, is what
 * the Engine API's handlers reach through `ctx.daemon` and what the CRI
 * serves from. Services never import this module (only consumers do: the
 * routes, the CRI, serve.ts), so it closes no import circle.
 *
 * Building does no work beyond opening the stores: starting (recovering
 * networks and containers) is ./areas.ts, called by ./serve.ts. The build
 * service is loaded and built on first use ({@link Daemon.build}). Notes:
 * docs/daemon.md.
 *
 * @example
 * ```ts ignore
 * const d = await openDaemon(config);
 * await startAreas(d);
 * const images = await d.imageService.list({ all: true });
 * ```
 * @module
 */
import { ContentStore } from "../../core/store/content.ts";
import { LayerStore } from "../../core/store/layers.ts";
import { ImageStore } from "../../core/store/images.ts";
import { ContainerStore } from "../../core/store/containers.ts";
import type { BuildService } from "./build/service.ts";
import type { DaemonConfig } from "./config.ts";
import { Events } from "./events/log.ts";
import { ImageService } from "./images/service.ts";
import { instanceTag, NetState } from "./networks/state.ts";
import { NetworkService } from "./networks/service.ts";
import { ContainerService } from "./containers/service.ts";
import { VolumeService } from "./containers/volumes.ts";
import { ExecService } from "./containers/exec.ts";

/** Where the CRI's image records and names live, below the root (docs/cri.md). */
export const CRI_IMAGES = "images/k8s.io";

/** The daemon: its configuration, stores and services, built once by {@link openDaemon}. */
export interface Daemon {
  readonly config: DaemonConfig;
  /** The event log (./events/log.ts): services emit through it, /events reads it. */
  readonly events: Events;
  /** Blobs (content-addressed), shared by every image namespace. */
  readonly content: ContentStore;
  /** Unpacked layers, shared by every image namespace. */
  readonly layers: LayerStore;
  /** The Engine API's image records and names. */
  readonly images: ImageStore;
  /** The CRI's image namespace (`images/k8s.io`), over the same blobs and layers. */
  readonly criImages: ImageStore;
  /** Blobs being written by a load, pull, import, build or commit: collection keeps them. */
  readonly pinnedBlobs: Set<string>;
  /** The Engine API's image service (list, inspect, tag, remove, collect). */
  readonly imageService: ImageService;
  readonly network: NetworkService;
  readonly containers: ContainerService;
  readonly volumes: VolumeService;
  readonly execs: ExecService;
  /** The build service, loaded and built on the first call (keeps start-up lean). */
  build(): Promise<BuildService>;
}

/**
 * Open the stores and build the services. Services that refer to each other
 * (images ↔ containers, containers ↔ volumes and execs) get late-bound
 * functions: each is called only after everything here is built.
 */
export async function openDaemon(config: DaemonConfig): Promise<Daemon> {
  const content = new ContentStore(config.root);
  const layers = new LayerStore(config.root);
  const images = new ImageStore(config.root);
  // always opened, so the Engine API's collection keeps CRI images' blobs and layers
  const criImages = new ImageStore(config.root, CRI_IMAGES);
  await Promise.all([content.init(), layers.init(), images.init(), criImages.init()]);
  const events = new Events();
  const pinnedBlobs = new Set<string>();
  const imageService = new ImageService({
    content,
    layers,
    images,
    pinnedBlobs,
    events,
    imageUsers: (id) => containers.imageUsers(id),
    namespaces: [images, criImages],
  });
  const store = new ContainerStore(config.root);
  const network = new NetworkService(
    new NetState({ config, containers: store }, await instanceTag(config.root)),
    events,
  );
  const volumes = new VolumeService({
    root: config.root,
    events,
    users: (name) => containers.volumeUsers(name),
  });
  const containers: ContainerService = new ContainerService({
    config,
    store,
    images,
    imageService,
    layers,
    volumes,
    events,
    network,
    dropExecs: (id) => execs.dropContainer(id),
  });
  const execs = new ExecService(containers);
  const stores = { content, layers, images, pinnedBlobs, imageService };
  let build: Promise<BuildService> | undefined;
  return {
    config,
    events,
    content,
    layers,
    images,
    criImages,
    pinnedBlobs,
    imageService,
    network,
    containers,
    volumes,
    execs,
    build: () =>
      build ??= import("./build/service.ts").then((m) =>
        new m.BuildService({ config, stores, network })
      ).catch(
        (e) => {
          build = undefined; // the next request tries again
          throw e;
        },
      ),
  };
}
