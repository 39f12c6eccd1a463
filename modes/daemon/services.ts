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
import type { ApiHost, DaemonTls } from "./hosts.ts";

export interface DaemonConfig {
  root: string;
  execRoot: string;
  /** Engine API unix socket path (the first unix -H, or a private one). */
  socket: string;
  /** Every -H, parsed (./hosts.ts); absent: `socket` only. */
  hosts?: ApiHost[];
  /** --tls/--tlsverify for the tcp hosts. */
  tls?: DaemonTls;
  /** tcp hosts served without client verification (warned about at start). */
  insecureTcp?: string[];
  logLevel: "debug" | "info" | "warn" | "error";
  /** name → path of an OCI runtime CLI (runc-compatible). */
  runtimes: Record<string, string>;
  defaultRuntime: string;
  /** cgroupfs parent of containers' and build steps' cgroups (dockerd's --cgroup-parent) */
  cgroupParent: string;
  insecureRegistries: string[];
  bip?: string;
  /** dockerd's --ipv6: IPv6 on the default bridge (addresses from --fixed-cidr-v6) */
  ipv6?: boolean;
  fixedCidrV6?: string;
  defaultAddressPools?: string[];
  /** dockerd's --iptables (default true): false writes no rules (no NAT, no isolation). */
  iptables?: boolean;
  /** dockerd's --bridge: "none" makes no default bridge (its containers get only lo). */
  bridge?: string;
  /** Serve the CRI (default true; `--cri=false`). */
  cri?: boolean;
  /** The CRI's unix socket (default `<exec-root>/cri.sock`). */
  criSocket?: string;
  /** CNI network configs for pods (`--cni-conf-dir`, default /etc/cni/net.d). */
  cniConfDir?: string;
}

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

/** Leveled logging to stderr. */
export function makeLogger(level: DaemonConfig["logLevel"]) {
  const order = ["debug", "info", "warn", "error"];
  const min = order.indexOf(level);
  const at = (l: string) => (msg: string) => {
    if (order.indexOf(l) >= min) {
      console.error(`time="${new Date().toISOString()}" level=${l} msg=${JSON.stringify(msg)}`);
    }
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export const log = { ...makeLogger("info") };
export function setLogLevel(level: DaemonConfig["logLevel"]): void {
  Object.assign(log, makeLogger(level));
}
