/**
 * The daemon's configuration: its flags, parsed (./main.ts), read by every
 * service that needs a path or a switch.
 * @module
 */
import type { ApiHost, DaemonTls } from "./hosts.ts";
import type { LogLevel } from "./log.ts";

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
  logLevel: LogLevel;
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
  /** The CRI's streaming server (exec/attach/port-forward URLs; `--cri-stream-address`, default 127.0.0.1, an ephemeral port). */
  criStreamAddress?: { host: string; port: number };
  /** CNI network configs for pods (`--cni-conf-dir`, default /etc/cni/net.d). */
  cniConfDir?: string;
  /** CNI plugins (`--cni-bin-dir`; default /opt/cni/bin, then /usr/lib/cni). */
  cniBinDir?: string;
  /** Registry host → mirror URL for CRI pulls (`--cri-registry-mirror HOST=URL`). */
  criRegistryMirrors?: Record<string, string>;
  /** An image whose entrypoint holds each pod's namespaces (`--pod-infra-image`; default berth's pause). */
  podInfraImage?: string;
}
