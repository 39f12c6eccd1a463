/**
 * What the daemon's handlers can reach. Each area (images, containers,
 * networks, volumes, distribution, build) adds its service here; handlers take
 * what they need from `ctx.services`.
 * @module
 */
import type { ContentStore } from "../../core/store/content.ts";
import type { LayerStore } from "../../core/store/layers.ts";
import type { ImageStore } from "../../core/store/images.ts";
import type { ImageService } from "./images/service.ts";
import type { DaemonConfig } from "./config.ts";

export interface Services {
  config: DaemonConfig;
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  imageService: ImageService;
  /** IDs of containers (any state) created from image `id`; set by the container service. */
  imageUsers: (id: string) => string[];
  /**
   * Image stores of every namespace (the Engine API's, the CRI's k8s.io):
   * blobs and layers are shared, so `collect()` keeps what any of them uses.
   */
  imageNamespaces?: ImageStore[];
  /** The CRI's image namespace (`images/k8s.io`), opened at start (modes/daemon/cri/listen.ts). */
  criImages?: ImageStore;
  /** Blobs being written by a load, pull, import or build: `collect()` keeps them. */
  pinnedBlobs: Set<string>;
  /** The event log (modes/daemon/events/log.ts): services emit through it. */
  events: import("./events/log.ts").Events;
  /** The network area (modes/daemon/networks/service.ts); set at its start. */
  network?: import("./networks/service.ts").NetworkService;
  /** Filled in by other areas as they land. */
  [area: string]: unknown;
}
