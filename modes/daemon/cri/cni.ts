/**
 * Pod networking through CNI plugins (the CNI spec 1.0, as libcni runs
 * them): the network is the first `.conf`/`.conflist`/`.json` of the conf
 * dir in name order (containerd's choice); each plugin of its list is
 * exec'd from the bin dirs with `CNI_COMMAND`, `CNI_CONTAINERID`,
 * `CNI_NETNS`, `CNI_IFNAME`, `CNI_ARGS`, `CNI_PATH` in its environment and
 * its config (plus `name`, `cniVersion`, `prevResult`, `runtimeConfig`) on
 * stdin. ADD runs the list in order, each plugin getting the previous one's
 * result; DEL runs it in reverse with the ADD's result; CHECK in order.
 * The loopback plugin brings `lo` up too, always, as containerd does
 * (beside the list, at the same time).
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

export interface CniNetwork {
  /** the file it came from */
  file: string;
  name: string;
  cniVersion: string;
  plugins: Json[];
}

export interface CniPod {
  /** the sandbox id (CNI_CONTAINERID) */
  id: string;
  netns: string;
  name: string;
  namespace: string;
  uid: string;
  /** runtimeConfig.portMappings for plugins with that capability */
  portMappings?: { hostPort: number; containerPort: number; protocol: string; hostIP?: string }[];
}

export class CniError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = "CniError";
  }
}

/** The conf files of a dir, in name order (libcni's ConfFiles). */
export async function cniConfFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if ((e.isFile || e.isSymlink) && /\.(conf|conflist|json)$/.test(e.name)) names.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort().map((n) => `${dir}/${n}`);
}

/** Parse one conf file: a `.conflist` as is, a single plugin's `.conf` as a list of one. */
export function parseCniConf(file: string, text: string): CniNetwork {
  let j: Json;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new CniError(`error parsing CNI config ${file}: ${(e as Error).message}`);
  }
  if (!j || typeof j !== "object") throw new CniError(`CNI config ${file} is not an object`);
  if (file.endsWith(".conflist") || Array.isArray(j.plugins)) {
    if (!j.name) throw new CniError(`CNI config list ${file} has no name`);
    if (!Array.isArray(j.plugins) || !j.plugins.length) {
      throw new CniError(`CNI config list ${file} has no plugins`);
    }
    for (const p of j.plugins) {
      if (!p?.type) throw new CniError(`a plugin of CNI config list ${file} has no type`);
    }
    return { file, name: j.name, cniVersion: j.cniVersion ?? "0.2.0", plugins: j.plugins };
  }
  if (!j.type) throw new CniError(`CNI config ${file} has no type`);
  return { file, name: j.name ?? "", cniVersion: j.cniVersion ?? "0.2.0", plugins: [j] };
}

/** The network pods join: the first conf file that parses, or undefined (none at all). */
export async function loadCniNetwork(dir: string): Promise<CniNetwork | undefined> {
  const files = await cniConfFiles(dir);
  if (!files.length) return undefined;
  return parseCniConf(files[0], await Deno.readTextFile(files[0]));
}

/** CNI versions ordered (CHECK exists from 0.4.0). */
function versionAtLeast(v: string, want: string): boolean {
  const a = v.split(".").map(Number), b = want.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Where plugins are looked up: `--cni-bin-dir`, else /opt/cni/bin then /usr/lib/cni (Debian's). */
export function cniBinDirs(flag: string | undefined): string[] {
  return flag ? [flag] : ["/opt/cni/bin", "/usr/lib/cni"];
}

export class Cni {
  readonly binDirs: string[];
  constructor(binDirs: string[]) {
    this.binDirs = binDirs;
  }

  async #find(type: string): Promise<string> {
    if (!/^[A-Za-z0-9_.-]+$/.test(type)) throw new CniError(`invalid CNI plugin type "${type}"`);
    for (const d of this.binDirs) {
      try {
        const st = await Deno.stat(`${d}/${type}`);
        if (st.isFile) return `${d}/${type}`;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    throw new CniError(
      `failed to find plugin "${type}" in path [${this.binDirs.join(" ")}]`,
    );
  }

  /** Throws when a plugin of the network (or loopback) is not in the bin dirs. */
  async checkPlugins(net: CniNetwork): Promise<void> {
    await this.#find("loopback");
    for (const p of net.plugins) await this.#find(p.type);
  }

  /** Exec one plugin; its result (ADD) or undefined. */
  async exec(
    command: "ADD" | "DEL" | "CHECK",
    conf: Json,
    pod: CniPod,
    ifname: string,
  ): Promise<Json> {
    const bin = await this.#find(conf.type);
    const env: Record<string, string> = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: pod.id,
      CNI_NETNS: pod.netns,
      CNI_IFNAME: ifname,
      CNI_ARGS: [
        "IgnoreUnknown=1",
        `K8S_POD_NAMESPACE=${pod.namespace}`,
        `K8S_POD_NAME=${pod.name}`,
        `K8S_POD_INFRA_CONTAINER_ID=${pod.id}`,
        `K8S_POD_UID=${pod.uid}`,
      ].join(";"),
      CNI_PATH: this.binDirs.join(":"),
      PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    };
    const child = new Deno.Command(bin, {
      env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(conf)));
    await w.close();
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) {
      let msg = text || new TextDecoder().decode(out.stderr).trim();
      try {
        const e = JSON.parse(text);
        msg = e.msg + (e.details ? `; ${e.details}` : "");
      } catch { /* not the spec's JSON error: the raw text says it */ }
      throw new CniError(`plugin type="${conf.type}" failed (${command.toLowerCase()}): ${msg}`);
    }
    if (command !== "ADD") return undefined;
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new CniError(`plugin type="${conf.type}" returned no JSON result: ${text}`);
    }
  }

  /** The conf a plugin of a list gets. */
  #pluginConf(net: CniNetwork, p: Json, prev: Json, pod: CniPod): Json {
    const conf: Json = { ...p, name: net.name, cniVersion: net.cniVersion };
    if (prev !== undefined) conf.prevResult = prev;
    const rc: Json = {};
    if (p.capabilities?.portMappings && pod.portMappings?.length) {
      rc.portMappings = pod.portMappings;
    }
    if (Object.keys(rc).length) conf.runtimeConfig = rc;
    delete conf.capabilities;
    return conf;
  }

  #loopback(): Json {
    return { cniVersion: "0.3.1", name: "cni-loopback", type: "loopback" };
  }

  /** Set up lo and eth0; the network's result. On failure, what was added is deleted. */
  async add(net: CniNetwork, pod: CniPod): Promise<Json> {
    let prev: Json = undefined;
    const chain = async () => {
      for (const p of net.plugins) {
        prev = await this.exec("ADD", this.#pluginConf(net, p, prev, pod), pod, "eth0");
      }
    };
    // lo and eth0 do not depend on each other: set up at once (each exec is ~0.3 s or more
    // on a busy host)
    const [lo, eth] = await Promise.allSettled([
      this.exec("ADD", this.#loopback(), pod, "lo"),
      chain(),
    ]);
    if (lo.status === "rejected" || eth.status === "rejected") {
      await this.del(net, pod, prev).catch(() => {/* the ADD's error is the one to report */});
      throw lo.status === "rejected" ? lo.reason : (eth as PromiseRejectedResult).reason;
    }
    return prev;
  }

  /** Tear down (reverse order). Every plugin runs; the first error is thrown at the end. */
  async del(net: CniNetwork, pod: CniPod, result: Json): Promise<void> {
    let first: unknown;
    for (const p of [...net.plugins].reverse()) {
      await this.exec("DEL", this.#pluginConf(net, p, result, pod), pod, "eth0").catch((e) =>
        first ??= e
      );
    }
    await this.exec("DEL", this.#loopback(), pod, "lo").catch((e) => first ??= e);
    if (first) throw first;
  }

  /** CHECK (CNI ≥ 0.4.0; older versions have none and pass). */
  async check(net: CniNetwork, pod: CniPod, result: Json): Promise<void> {
    if (!versionAtLeast(net.cniVersion, "0.4.0")) return;
    for (const p of net.plugins) {
      await this.exec("CHECK", this.#pluginConf(net, p, result, pod), pod, "eth0");
    }
  }
}

/** The IPs of a result (1.0/0.4/0.3 `ips`, 0.2 `ip4`/`ip6`), without prefix length; IPv4 first. */
export function resultIps(result: Json): string[] {
  const out: string[] = [];
  for (const ip of result?.ips ?? []) if (ip?.address) out.push(String(ip.address).split("/")[0]);
  if (result?.ip4?.ip) out.push(String(result.ip4.ip).split("/")[0]);
  if (result?.ip6?.ip) out.push(String(result.ip6.ip).split("/")[0]);
  return [...out.filter((x) => !x.includes(":")), ...out.filter((x) => x.includes(":"))];
}

/** CRI PortMapping → CNI runtimeConfig.portMappings (host_port 0: not published). */
export function portMappingsOf(pms: Json[] | undefined) {
  return (pms ?? []).filter((p) => p?.host_port > 0).map((p) => {
    const proto = String(p.protocol ?? "TCP").toLowerCase();
    if (!["tcp", "udp", "sctp"].includes(proto)) {
      throw new InvalidArgument(`unknown port protocol ${p.protocol}`);
    }
    return {
      hostPort: Number(p.host_port),
      containerPort: Number(p.container_port),
      protocol: proto,
      ...(p.host_ip ? { hostIP: String(p.host_ip) } : {}),
    };
  });
}
