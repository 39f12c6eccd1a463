/**
 * `berth daemon`: parse flags, make sure the daemon's V8 flags are in force
 * (./v8_flags.ts: re-exec once), then run the daemon (./serve.ts).
 * @module
 */
import { parseArgs } from "node:util";
import { messageOf } from "../../core/errdefs/mod.ts";
import { parseNormalizedNamed } from "../../core/oci/reference.ts";
import type { DaemonConfig } from "./config.ts";
import { setLogLevel } from "./log.ts";
import { reexecWithFlags } from "./v8_flags.ts";
import { lazy } from "../../core/sys/lazy.ts";
import { checkHosts, DEFAULT_UNIX, parseHost, tlsFromFlags } from "./hosts.ts";

const USAGE = `Usage:  berth daemon [OPTIONS]

Options:
      --root DIR                 Root of persistent state (default /var/lib/berth)
      --data-root DIR            Same as --root
  -H, --host HOST                Engine API address, repeatable: unix:///PATH or tcp://IP:PORT
                                 (default unix:///run/berth/berth.sock)
      --tls                      Serve tcp:// hosts over TLS (--tlscert, --tlskey)
      --tlsverify                TLS, and require client certificates signed by --tlscacert
      --tlscacert FILE           CA of client certificates (default ~/.docker/ca.pem)
      --tlscert FILE             Server certificate (default ~/.docker/cert.pem)
      --tlskey FILE              Server key (default ~/.docker/key.pem)
      --exec-root DIR            Root of runtime state (default /run/berth)
  -l, --log-level LEVEL          debug|info|warn|error (default info)
      --add-runtime NAME=PATH    Register an OCI runtime (runc-compatible CLI)
      --default-runtime NAME     Runtime used when --runtime is not given (default berth)
      --cgroup-parent PATH       Parent cgroup of containers (default /berth)
      --insecure-registry HOST   Allow plain HTTP to this registry
      --bip CIDR                 Address of the default bridge
      --ipv6                     Enable IPv6 on the default bridge
      --fixed-cidr-v6 CIDR       IPv6 subnet of the default bridge (with --ipv6)
      --default-address-pool P   Pools for user-defined networks (base=CIDR,size=N)
      --iptables=false           Write no iptables rules (no NAT, isolation or port DNAT)
  -b, --bridge none              Create no default bridge (containers get only loopback)
      --cri=false                Do not serve the CRI (Kubernetes) on its socket
      --cri-socket PATH          CRI socket (default <exec-root>/cri.sock)
      --cri-stream-address H:P   CRI exec/attach/port-forward server (default 127.0.0.1:0, any port)
      --cni-conf-dir DIR         CNI network configs for pods (default /etc/cni/net.d)
      --cni-bin-dir DIR          CNI plugins (default /opt/cni/bin, then /usr/lib/cni)
      --cri-registry-mirror HOST=URL
                                 CRI pulls from registry HOST go to URL (http://… is plain HTTP)
      --pod-infra-image REF      Image whose entrypoint holds a pod's namespaces, pulled when
                                 missing (default: berth's own pause, no image)
`;

const BOOL_FLAGS = ["--iptables", "--ipv6", "--tls", "--tlsverify", "--cri"];

/** Go's strconv.ParseBool, as dockerd's boolean flags take it. */
function parseBool(flag: string, v: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new Error(
    `invalid argument "${v}" for "--${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`,
  );
}

/** `--cri-socket`: unix:///PATH or /PATH (the CRI is served on a unix socket only). */
function criSocket(v: string | undefined): string | undefined {
  const p = v?.replace(/^unix:\/\//, "");
  if (p !== undefined && !p.startsWith("/")) {
    throw new Error(`invalid --cri-socket ${v}: want unix:///PATH or an absolute path`);
  }
  return p;
}

/** `--pod-infra-image`: a reference, refused here when it does not parse. */
function podInfraImage(v: string | undefined): string | undefined {
  if (v === undefined || v === "") return undefined;
  try {
    parseNormalizedNamed(v);
  } catch (e) {
    throw new Error(`invalid --pod-infra-image ${v}: ${messageOf(e)}`);
  }
  return v;
}

/** `--cri-stream-address HOST:PORT` (`[::1]:PORT` for IPv6; port 0 = any free one). */
export function criStreamAddress(
  v: string | undefined,
): { host: string; port: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(v);
  const port = Number(m?.[3]);
  if (!m || port > 65535) {
    throw new Error(`invalid --cri-stream-address ${v}: want HOST:PORT`);
  }
  return { host: m[1] ?? m[2] ?? "", port };
}

export function parseDaemonArgs(args: string[]): DaemonConfig {
  const { values } = parseArgs({
    // A bare --iptables is --iptables=true (a Go boolean flag).
    args: args.map((a) => BOOL_FLAGS.includes(a) ? `${a}=true` : a),
    options: {
      root: { type: "string" },
      "data-root": { type: "string" },
      host: { type: "string", short: "H", multiple: true },
      tls: { type: "string" },
      tlsverify: { type: "string" },
      tlscacert: { type: "string" },
      tlscert: { type: "string" },
      tlskey: { type: "string" },
      "exec-root": { type: "string" },
      "log-level": { type: "string", short: "l" },
      "add-runtime": { type: "string", multiple: true },
      "default-runtime": { type: "string" },
      "cgroup-parent": { type: "string" },
      "insecure-registry": { type: "string", multiple: true },
      bip: { type: "string" },
      ipv6: { type: "string" },
      "fixed-cidr-v6": { type: "string" },
      "default-address-pool": { type: "string", multiple: true },
      iptables: { type: "string" },
      bridge: { type: "string", short: "b" },
      cri: { type: "string" },
      "cri-socket": { type: "string" },
      "cri-stream-address": { type: "string" },
      "cni-conf-dir": { type: "string" },
      "cni-bin-dir": { type: "string" },
      "cri-registry-mirror": { type: "string", multiple: true },
      "pod-infra-image": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const tlsFlags = {
    tls: values.tls === undefined ? undefined : parseBool("tls", values.tls),
    tlsverify: values.tlsverify === undefined
      ? undefined
      : parseBool("tlsverify", values.tlsverify),
    tlscacert: values.tlscacert,
    tlscert: values.tlscert,
    tlskey: values.tlskey,
  };
  const tls = tlsFromFlags(tlsFlags);
  const hosts = (values.host ?? [`unix://${DEFAULT_UNIX}`]).map((h) => parseHost(h, !!tls));
  const insecureTcp = checkHosts(hosts, tls, tlsFlags).map((h) => h.url);
  const execRoot = values["exec-root"] ?? "/run/berth";
  const unix = hosts.find((h) => h.proto === "unix");
  const level = (values["log-level"] ?? "info") as DaemonConfig["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(level)) {
    throw new Error(`invalid log level: ${level}`);
  }
  const cgroupParent = (values["cgroup-parent"] ?? "/berth").replace(/\/+$/, "");
  if (!cgroupParent.startsWith("/") || cgroupParent.split("/").includes("..")) {
    throw new Error(`invalid --cgroup-parent ${values["cgroup-parent"]}: want an absolute path`);
  }
  const bridge = values.bridge ?? "";
  if (bridge !== "" && bridge !== "none") {
    throw new Error(`invalid --bridge ${bridge}: berth makes its own default bridge; only "none"`);
  }
  const runtimes: Record<string, string> = {};
  for (const r of values["add-runtime"] ?? []) {
    const i = r.indexOf("=");
    if (i < 1) throw new Error(`invalid --add-runtime ${r}: want NAME=PATH`);
    runtimes[r.slice(0, i)] = r.slice(i + 1);
  }
  const criRegistryMirrors: Record<string, string> = {};
  for (const m of values["cri-registry-mirror"] ?? []) {
    const i = m.indexOf("=");
    const url = i > 0 ? URL.parse(m.slice(i + 1)) : null;
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== "/") {
      throw new Error(`invalid --cri-registry-mirror ${m}: want HOST=http(s)://HOST[:PORT]`);
    }
    criRegistryMirrors[m.slice(0, i)] = url.origin;
  }
  return {
    root: values.root ?? values["data-root"] ?? "/var/lib/berth",
    execRoot,
    // the build's self-pull needs a unix socket: a private one when -H names none
    socket: unix?.proto === "unix" ? unix.path : `${execRoot}/api-internal.sock`,
    hosts,
    tls,
    insecureTcp,
    logLevel: level,
    runtimes,
    defaultRuntime: values["default-runtime"] ?? "berth",
    cgroupParent,
    insecureRegistries: values["insecure-registry"] ?? [],
    bip: values.bip,
    ipv6: parseBool("ipv6", values.ipv6 ?? "false"),
    fixedCidrV6: values["fixed-cidr-v6"],
    defaultAddressPools: values["default-address-pool"],
    iptables: parseBool("iptables", values.iptables ?? "true"),
    bridge,
    cri: parseBool("cri", values.cri ?? "true"),
    criSocket: criSocket(values["cri-socket"]),
    criStreamAddress: criStreamAddress(values["cri-stream-address"]),
    cniConfDir: values["cni-conf-dir"] ?? "/etc/cni/net.d",
    cniBinDir: values["cni-bin-dir"],
    criRegistryMirrors,
    podInfraImage: podInfraImage(values["pod-infra-image"]),
  };
}

export async function main(args: string[]): Promise<number> {
  let config: DaemonConfig;
  try {
    config = parseDaemonArgs(args);
  } catch (e) {
    console.error(`berth daemon: ${messageOf(e)}\nSee 'berth daemon --help'.`);
    return 125;
  }
  setLogLevel(config.logLevel);
  reexecWithFlags(args);
  // Not a literal import: the first process (before the re-exec) need not
  // read the daemon's module graph (core/sys/lazy.ts).
  const { serve } = await lazy<typeof import("./serve.ts")>("modes/daemon/serve.ts");
  try {
    return await serve(config);
  } catch (e) {
    // dockerd's one line, no stack: e.g. a host tool or kernel feature is missing.
    console.error(`failed to start daemon: ${messageOf(e)}`);
    return 1;
  }
}
