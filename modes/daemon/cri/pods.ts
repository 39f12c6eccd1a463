/**
 * CRI pod sandboxes. A pod's shared namespaces (network, IPC, UTS, and pid
 * when the pod shares one) are created by its holder: berth's own `pause`
 * (./pause.ts) run through a shim and the daemon's OCI runtime like any
 * container, with a rootfs of its own (no image). Its network namespace is
 * pinned by a bind mount at `<exec-root>/cri/netns/<id>` (the path CNI
 * plugins get, and what survives the holder for the CNI DEL), its /dev/shm
 * is a tmpfs at `<exec-root>/cri/<id>/shm` that every container of the pod
 * binds. The pod's hostname, hosts and resolv.conf files live beside its
 * record in `<root>/cri/sandboxes/<id>/` (docs/cri.md).
 * @module
 */
import { Conflict, InvalidArgument, messageOf, NotFound } from "../../../core/errdefs/mod.ts";
import { resolveUser } from "../../../core/oci/user.ts";
import { generateSpec } from "../../../core/oci/runtime_spec.ts";
import { readExitFile, ShimClient, ShimPool } from "../../../core/shim/client.ts";
import type { ShimConfig } from "../../../core/shim/protocol.ts";
import { reapContainer } from "../../../core/shim/reap.ts";
import { writeFileAtomic } from "../../../core/store/atomic.ts";
import { buildHosts } from "../../../core/net/etc_files.ts";
import { mount, unmount } from "../containers/mount_linux.ts";
import { mountRootfs, unmountRootfs } from "../containers/rootfs.ts";
import { containerCgroupsPath } from "../containers/spec.ts";
import { newId } from "../containers/names.ts";
import { log, logFailure } from "../log.ts";
import { removeIfExists } from "../../../core/errdefs/ignore.ts";
import type { DaemonConfig } from "../config.ts";
import type { LayerStore } from "../../../core/store/layers.ts";
import {
  Cni,
  cniBinDirs,
  type CniNetwork,
  type CniPod,
  loadCniNetwork,
  portMappingsOf,
  resultIps,
} from "./cni.ts";
import { pauseRootfs } from "./pause.ts";
import { KeyedSerial, RecordDir } from "./records.ts";
import type { Msg, Unary } from "./types.ts";
import type { EventType } from "./containers.ts";
import type { CriImages } from "./images.ts";

const MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_BIND = 4096;

export interface SandboxRecord {
  id: string;
  /** the PodSandboxConfig as kubelet sent it */
  config: Msg;
  runtimeHandler: string;
  /** OCI runtime that runs the pod's processes */
  runtime: string;
  /** ns since the epoch */
  createdAt: number;
  state: "SANDBOX_READY" | "SANDBOX_NOTREADY";
  /** the holder's pid (host's pid namespace) */
  pid: number;
  /** the pinned network namespace (absent: the host's network) */
  netns?: string;
  /** /dev/shm of the pod's containers */
  shm: string;
  /** the CNI network joined and the ADD's result (for the DEL) */
  network?: { file: string; name: string; result: Msg; ips: string[] };
  /** the holder's cgroup (cgroupfs path) */
  cgroup?: string;
  /** `--pod-infra-image`'s image when the holder is its entrypoint (absent: berth's pause) */
  image?: { ref: string; id: string; layers: string[] };
}

/** The mode of a NamespaceOption field ("POD" when unset). */
export function nsMode(sb: { config: Msg }, which: "network" | "pid" | "ipc"): string {
  return sb.config?.linux?.security_context?.namespace_options?.[which] || "POD";
}

/** crictl's and containerd's name of a pod: k8s_POD_<name>_<namespace>_<uid>_<attempt>. */
function podName(m: Msg): string {
  return `k8s_POD_${m.name}_${m.namespace}_${m.uid}_${m.attempt ?? 0}`;
}

function labelsMatch(have: Record<string, string> | undefined, want: Record<string, string>) {
  return Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
}

/** What {@link CriPods} (and ./containers.ts through it) uses of the daemon. */
export interface CriPodDeps {
  config: DaemonConfig;
  /** Image layers: CRI containers' rootfs lowers. */
  layers: LayerStore;
}

export class CriPods {
  readonly s: CriPodDeps;
  readonly store: RecordDir<SandboxRecord>;
  readonly serial = new KeyedSerial();
  readonly cni: Cni;
  /** called with a sandbox id to stop (or remove) its containers first (./containers.ts) */
  containersOf?: {
    stopAll(sandboxId: string): Promise<void>;
    removeAll(sandboxId: string): Promise<void>;
    /** a GetContainerEvents event of the pod itself (keyed by its id, as containerd) */
    podEvent(sandboxId: string, type: EventType): void;
  };
  /** the k8s.io images (set by ./containers.ts): `--pod-infra-image` is pulled through them */
  images?: CriImages;
  /** pods whose CONTAINER_STOPPED_EVENT was sent (once per pod: its holder exits once) */
  readonly #stopSent = new Set<string>();

  /** Warm shims (booted ahead of need, as the Engine API's), for holders and containers. */
  readonly #pool: ShimPool;

  constructor(s: CriPodDeps) {
    this.s = s;
    this.#pool = new ShimPool(`${s.config.execRoot}/cs`, s.config.defaultRuntime);
    this.store = new RecordDir(`${s.config.root}/cri/sandboxes`, "pod sandbox");
    this.cni = new Cni(cniBinDirs(s.config.cniBinDir));
  }

  async init(): Promise<void> {
    await this.store.load();
    for (const sb of this.store.list()) {
      if (sb.state === "SANDBOX_READY") this.#watchHolder(sb);
    }
    await Deno.mkdir(`${this.s.config.execRoot}/cs`, { recursive: true, mode: 0o700 });
    this.#pool.fill();
  }

  /** A shim for `dir` (a warm one when there is one); the pool is refilled after `then`. */
  async spawnShim(dir: string, cfg: ShimConfig): Promise<ShimClient> {
    try {
      return await this.#pool.take(dir, cfg);
    } finally {
      // once this start is done with the CPU (see ShimPool.fill)
      setTimeout(() => this.#pool.fill(), 1000);
    }
  }

  get execDir(): string {
    return `${this.s.config.execRoot}/cri`;
  }

  /** The shim's (and bundle's) directory of a pod's holder or a container. */
  shimDir(id: string): string {
    return `${this.execDir}/${id}`;
  }

  /**
   * A container is coming to this pod: its shim boots the runtime's init now
   * (the built-in runtime's, kept 15 s), so that the container's create takes
   * a warm one (docs/cri.md "Containers"). Not awaited: only a hint.
   */
  prewarm(sb: SandboxRecord): void {
    new ShimClient(this.shimDir(sb.id), this.shimSocket(sb.id)).call({ op: "prewarm" })
      .catch((e) => log.debug(`CRI: prewarm in pod ${sb.id.slice(0, 12)}: ${messageOf(e)}`));
  }

  shimSocket(id: string): string {
    return `${this.s.config.execRoot}/cs/${id.slice(0, 24)}`;
  }

  /** The id the runtime (and the pod's shim, as a task) knows a pod or container by. */
  taskId(id: string): string {
    return id.slice(0, 32);
  }

  /** The OCI runtime's state root for CRI processes (apart from the Engine API's `rt/`). */
  runtimeRoot(name: string): string {
    return `${this.s.config.execRoot}/crt/${name}`;
  }

  runtimeFor(handler: string): string {
    if (!handler) return this.s.config.defaultRuntime;
    if (handler === "berth" || handler === "runc" || handler in this.s.config.runtimes) {
      return handler;
    }
    throw new InvalidArgument(`no runtime for "${handler}" is configured`);
  }

  shimConfig(id: string, runtime: string, extra: Partial<ShimConfig> = {}): ShimConfig {
    return {
      id: this.taskId(id),
      socket: this.shimSocket(id),
      bundle: this.shimDir(id),
      runtime: {
        name: runtime,
        path: runtime === "berth" ? undefined : (this.s.config.runtimes[runtime] ?? runtime),
        root: this.runtimeRoot(runtime),
      },
      tty: false,
      openStdin: false,
      stdinOnce: false,
      logPath: "",
      ...extra,
    };
  }

  /** Is the pod's holder still there? */
  async holderAlive(sb: SandboxRecord): Promise<boolean> {
    const dir = this.shimDir(sb.id);
    if (await readExitFile(dir)) return false;
    return await new ShimClient(dir, this.shimSocket(sb.id)).alive();
  }

  async #state(sb: SandboxRecord): Promise<SandboxRecord["state"]> {
    if (sb.state !== "SANDBOX_READY") return sb.state;
    return await this.holderAlive(sb) ? "SANDBOX_READY" : "SANDBOX_NOTREADY";
  }

  /** The pod's files: hostname, hosts, resolv.conf. */
  async #writeEtc(sb: SandboxRecord, hostname: string): Promise<void> {
    const dir = this.store.dirOf(sb.id);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(`${dir}/hostname`, `${hostname}\n`);
    const hostNet = nsMode(sb, "network") === "NODE";
    await writeFileAtomic(
      `${dir}/hosts`,
      hostNet ? await Deno.readTextFile("/etc/hosts") : buildHosts({ hostname, ips: [] }),
    );
    const dns = sb.config.dns_config;
    let resolv: string;
    if (dns && (dns.servers?.length || dns.searches?.length || dns.options?.length)) {
      // as containerd: the pod's DNS config replaces the host's
      resolv = [
        ...(dns.searches?.length ? [`search ${dns.searches.join(" ")}`] : []),
        ...(dns.servers ?? []).map((x: string) => `nameserver ${x}`),
        ...(dns.options?.length ? [`options ${dns.options.join(" ")}`] : []),
      ].join("\n") + "\n";
    } else {
      resolv = await Deno.readTextFile("/etc/resolv.conf").catch(() => "");
    }
    await writeFileAtomic(`${dir}/resolv.conf`, resolv);
  }

  cniPod(sb: SandboxRecord): CniPod {
    const m = sb.config.metadata ?? {};
    return {
      id: sb.id,
      netns: sb.netns ?? "",
      name: m.name ?? "",
      namespace: m.namespace ?? "",
      uid: m.uid ?? "",
      portMappings: portMappingsOf(sb.config.port_mappings),
    };
  }

  async run(req: Msg): Promise<Msg> {
    const config = req.config;
    const m = config?.metadata;
    if (!m?.name || !m?.namespace || !m?.uid) {
      throw new InvalidArgument("sandbox config must include metadata (name, uid, namespace)");
    }
    const name = podName(m);
    const taken = this.store.list().find((x) => podName(x.config.metadata) === name);
    if (taken) {
      throw new Conflict(
        `failed to reserve sandbox name "${name}": name "${name}" is reserved for "${taken.id}"`,
      );
    }
    const runtime = this.runtimeFor(req.runtime_handler ?? "");
    const sb: SandboxRecord = {
      id: newId(),
      config,
      runtimeHandler: req.runtime_handler ?? "",
      runtime,
      createdAt: Date.now() * 1e6,
      state: "SANDBOX_NOTREADY",
      pid: 0,
      shm: "",
    };
    sb.shm = `${this.shimDir(sb.id)}/shm`;
    return await this.serial.run(sb.id, async () => {
      try {
        await this.#start(sb);
      } catch (e) {
        await this.#teardown(sb).catch((te) => log.warn(`CRI: undoing pod ${sb.id}: ${te}`));
        await this.store.remove(sb.id);
        throw e;
      }
      // as containerd 1.7: CREATED then STARTED, keyed by the pod's id, once it is ready
      this.containersOf?.podEvent(sb.id, "CONTAINER_CREATED_EVENT");
      this.containersOf?.podEvent(sb.id, "CONTAINER_STARTED_EVENT");
      this.#watchHolder(sb);
      return { pod_sandbox_id: sb.id };
    });
  }

  /** The pod's CONTAINER_STOPPED_EVENT, when it has not been sent yet. */
  #stopped(sb: SandboxRecord): void {
    if (this.#stopSent.has(sb.id)) return;
    this.#stopSent.add(sb.id);
    this.containersOf?.podEvent(sb.id, "CONTAINER_STOPPED_EVENT");
  }

  /**
   * Hold a wait on the holder's shim: a holder that dies by itself sends the
   * pod's CONTAINER_STOPPED_EVENT (as containerd's sandbox exit monitor); its
   * state is read from the shim when asked, and StopPodSandbox still tears
   * the pod's network down.
   */
  #watchHolder(sb: SandboxRecord): void {
    new ShimClient(this.shimDir(sb.id), this.shimSocket(sb.id)).wait()
      .catch(() => null) // a broken connection: the holder went with its shim
      .then(() =>
        this.serial.run(sb.id, () => {
          if (this.store.get(sb.id) === sb && sb.state === "SANDBOX_READY") this.#stopped(sb);
          return Promise.resolve();
        })
      ).catch(logFailure(`CRI: watching the holder of pod ${sb.id.slice(0, 12)}`));
  }

  async #start(sb: SandboxRecord): Promise<void> {
    const t0 = performance.now();
    const lap = (what: string) =>
      log.debug(`CRI pod ${sb.id.slice(0, 12)}: ${what} +${(performance.now() - t0).toFixed(0)}ms`);
    const lx = sb.config.linux ?? {};
    const hostNet = nsMode(sb, "network") === "NODE";
    const hostIpc = nsMode(sb, "ipc") === "NODE";
    const hostPid = nsMode(sb, "pid") === "NODE";
    const hostname = hostNet ? Deno.hostname() : (sb.config.hostname || Deno.hostname());
    const confDir = this.s.config.cniConfDir ?? "/etc/cni/net.d";
    const net = hostNet ? undefined : await loadCniNetwork(confDir);
    if (!hostNet && !net) {
      throw new Conflict(
        `failed to setup network for sandbox "${sb.id}": cni plugin not initialized ` +
          `(no network config in ${confDir})`,
      );
    }
    // the record first, so a crash below leaves something Remove can find
    await this.store.save(sb);
    await this.#writeEtc(sb, hostname);
    const dir = this.shimDir(sb.id);
    await Deno.mkdir(sb.shm, { recursive: true, mode: 0o755 });
    if (hostIpc) mount("/dev/shm", sb.shm, "", MS_BIND, "");
    else mount("shm", sb.shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    const holder = await this.#holder(sb);
    lap("holder rootfs");
    const sysctls: Record<string, string> = { ...(lx.sysctls ?? {}) };
    const spec = generateSpec({
      id: sb.id,
      rootfs: holder.rootfs,
      cgroupsPath: containerCgroupsPath(this.s.config.cgroupParent, lx.cgroup_parent, sb.id),
      config: { ...holder.config, Hostname: hostname },
      user: holder.user,
      host: {
        ReadonlyRootfs: true,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        NetworkMode: hostNet ? "host" : "",
        UTSMode: hostNet ? "host" : "",
        IpcMode: hostIpc ? "host" : "",
        PidMode: hostPid ? "host" : "",
        Sysctls: sysctls,
      },
    });
    sb.cgroup = spec.linux?.cgroupsPath;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.mkdir(`${this.s.config.execRoot}/cs`, { recursive: true, mode: 0o700 });
    await writeFileAtomic(`${dir}/config.json`, JSON.stringify(spec));
    lap("spec");
    const shim = await this.spawnShim(dir, this.shimConfig(sb.id, sb.runtime));
    lap("shim up");
    const created = await shim.call({ op: "create" });
    lap("created");
    sb.pid = Number(created.pid);
    this.prewarm(sb); // a pod always gets a container: its init boots beside the CNI ADD
    if (net) {
      // pin the network namespace: CNI plugins get its path, and the DEL still finds it
      // after the holder is gone
      const pin = `${this.execDir}/netns/${sb.id}`;
      await Deno.mkdir(`${this.execDir}/netns`, { recursive: true, mode: 0o700 });
      await Deno.writeFile(pin, new Uint8Array(), { mode: 0o400 });
      mount(`/proc/${sb.pid}/ns/net`, pin, "", MS_BIND, "");
      sb.netns = pin;
      await this.store.save(sb);
      // recorded before the ADD: a failure half way still gets its DEL
      sb.network = { file: net.file, name: net.name, result: null, ips: [] };
      await this.store.save(sb);
      const result = await this.cni.add(net, this.cniPod(sb));
      lap("CNI ADD");
      sb.network = { file: net.file, name: net.name, result, ips: resultIps(result) };
    }
    await shim.call({ op: "start" });
    sb.state = "SANDBOX_READY";
    await this.store.save(sb);
    lap("started");
  }

  /**
   * The holder's rootfs and process: berth's pause (a shared read-only dir),
   * or `--pod-infra-image`'s entrypoint and cmd (its env, working dir and
   * user too) on an overlay of the image's layers, the image pulled through
   * the CRI's image path when missing (as containerd's sandbox_image).
   */
  async #holder(
    sb: SandboxRecord,
  ): Promise<{ rootfs: string; config: Msg; user?: Awaited<ReturnType<typeof resolveUser>> }> {
    const ref = this.s.config.podInfraImage;
    if (!ref) return { rootfs: await pauseRootfs(this.s.config.root), config: { Cmd: ["/pause"] } };
    if (!this.images) throw new Error("the CRI's image service is not wired to its pods");
    let image;
    try {
      image = await this.images.ensure(ref);
    } catch (e) {
      throw new Conflict(`failed to get sandbox image "${ref}": ${messageOf(e)}`);
    }
    const ic = (await this.images.config(image.id)).config ?? {};
    if (!ic.Entrypoint?.length && !ic.Cmd?.length) {
      throw new InvalidArgument(
        `failed to generate sandbox container spec: sandbox image "${ref}" has no command`,
      );
    }
    sb.image = { ref, id: image.id, layers: [...image.chainIds] };
    await this.store.save(sb);
    const rootfs = await mountRootfs({
      lowers: sb.image.layers.map((l) => this.s.layers.diffDir(l)),
      containerDir: this.store.dirOf(sb.id),
      target: `${this.shimDir(sb.id)}/rootfs`,
    });
    return {
      rootfs,
      config: {
        Entrypoint: ic.Entrypoint ?? [],
        Cmd: ic.Cmd ?? [],
        Env: ic.Env ?? [],
        WorkingDir: ic.WorkingDir ?? "",
        User: ic.User ?? "",
      },
      user: await resolveUser(rootfs, ic.User ?? ""),
    };
  }

  /** Undo what a start set up (every step tolerates it not having happened). */
  async #teardown(sb: SandboxRecord): Promise<void> {
    const problems: string[] = [];
    const dir = this.shimDir(sb.id);
    if (sb.network && sb.netns) {
      let net: CniNetwork | undefined;
      try {
        // the network as it was joined (the conf dir may have changed since)
        const { parseCniConf } = await import("./cni.ts");
        net = parseCniConf(sb.network.file, await Deno.readTextFile(sb.network.file));
      } catch (e) {
        problems.push(`CNI config ${sb.network.file}: ${(e as Error).message}`);
      }
      if (net) {
        try {
          await this.cni.del(net, this.cniPod(sb), sb.network.result ?? undefined);
          sb.network = undefined;
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
    }
    const shim = new ShimClient(dir, this.shimSocket(sb.id));
    if (await shim.alive()) {
      const exited = shim.wait().catch(() => null); // a broken connection: gone as well
      await shim.call({ op: "kill", signal: 9, all: true }).catch(() => {/* already gone */});
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      await shim.call({ op: "shutdown" }).catch(() => {/* it exited with its holder */});
    } else {
      const r = await reapContainer(dir);
      problems.push(...r.problems);
    }
    if (sb.netns) {
      try {
        unmount(sb.netns);
        await removeIfExists(sb.netns).catch(logFailure(`removing ${sb.netns}`));
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    try {
      unmount(sb.shm);
    } catch (e) {
      problems.push((e as Error).message);
    }
    if (sb.image) {
      try {
        await unmountRootfs(`${dir}/rootfs`);
        // a copied rootfs (no overlayfs) is mounted below the record's dir
        await unmountRootfs(this.store.dirOf(sb.id));
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    await removeIfExists(dir, { recursive: true }).catch(logFailure(`removing ${dir}`));
    // a shim killed outright leaves its socket and its prewarmed inits' sync sockets (.i<n>)
    const sock = this.shimSocket(sb.id);
    await removeIfExists(sock).catch(logFailure(`removing ${sock}`));
    const cs = sock.slice(0, sock.lastIndexOf("/"));
    const base = sock.slice(cs.length + 1);
    try {
      for (const e of Deno.readDirSync(cs)) {
        if (/^\.i\d+$/.test(e.name.slice(base.length)) && e.name.startsWith(base)) {
          await removeIfExists(`${cs}/${e.name}`).catch(logFailure(`removing ${cs}/${e.name}`));
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) problems.push((e as Error).message);
    }
    if (problems.length) throw new Error(problems.join("; "));
  }

  stop(id: string): Promise<void> {
    const sb = this.store.resolve(id);
    return this.serial.run(sb.id, async () => {
      await this.containersOf?.stopAll(sb.id);
      const wasReady = sb.state === "SANDBOX_READY";
      await this.#teardown(sb);
      sb.state = "SANDBOX_NOTREADY";
      await this.store.save(sb);
      if (wasReady) this.#stopped(sb);
    });
  }

  async remove(id: string): Promise<void> {
    const sb = this.store.tryResolve(id);
    if (!sb) return; // already gone: kubelet retries removals
    await this.serial.run(sb.id, async () => {
      if (!this.store.get(sb.id)) return;
      await this.containersOf?.removeAll(sb.id);
      if (sb.state === "SANDBOX_READY" || await this.holderAlive(sb)) {
        await this.containersOf?.stopAll(sb.id);
        await this.#teardown(sb);
        if (sb.state === "SANDBOX_READY") {
          sb.state = "SANDBOX_NOTREADY";
          this.#stopped(sb);
        }
      }
      // the pod's status goes with the event, taken before the record goes
      this.containersOf?.podEvent(sb.id, "CONTAINER_DELETED_EVENT");
      this.#stopSent.delete(sb.id);
      await this.store.remove(sb.id);
    });
  }

  async status(req: Msg): Promise<Msg> {
    const sb = this.store.resolve(req.pod_sandbox_id ?? "");
    const state = await this.#state(sb);
    const ips = state === "SANDBOX_READY" ? sb.network?.ips ?? [] : [];
    const info: Record<string, string> = {};
    if (req.verbose) {
      info.info = JSON.stringify({
        pid: sb.pid,
        netNamespacePath: sb.netns ?? "",
        runtimeHandler: sb.runtimeHandler,
        runtime: sb.runtime,
        cniResult: sb.network?.result ?? null,
        config: sb.config,
      });
    }
    return {
      status: {
        id: sb.id,
        metadata: sb.config.metadata,
        state,
        created_at: sb.createdAt,
        network: { ip: ips[0] ?? "", additional_ips: ips.slice(1).map((ip) => ({ ip })) },
        linux: {
          namespaces: {
            options: sb.config.linux?.security_context?.namespace_options ?? {
              network: "POD",
              pid: "POD",
              ipc: "POD",
            },
          },
        },
        labels: sb.config.labels ?? {},
        annotations: sb.config.annotations ?? {},
        runtime_handler: sb.runtimeHandler,
      },
      info,
      containers_statuses: [],
      timestamp: Date.now() * 1e6,
    };
  }

  async list(req: Msg): Promise<Msg> {
    const f = req.filter ?? {};
    const items = [];
    for (const sb of this.store.list()) {
      if (f.id && !sb.id.startsWith(f.id)) continue;
      if (f.label_selector && !labelsMatch(sb.config.labels, f.label_selector)) continue;
      const state = await this.#state(sb);
      if (f.state && f.state.state !== state) continue;
      items.push({
        id: sb.id,
        metadata: sb.config.metadata,
        state,
        created_at: sb.createdAt,
        labels: sb.config.labels ?? {},
        annotations: sb.config.annotations ?? {},
        runtime_handler: sb.runtimeHandler,
      });
    }
    items.sort((a, b) => b.created_at - a.created_at);
    return { items };
  }

  /** A ready pod (for creating containers in it), or an error in containerd's words. */
  ready(id: string): SandboxRecord {
    const sb = this.store.tryResolve(id);
    if (!sb) throw new NotFound(`failed to get sandbox "${id}": not found`);
    if (sb.state !== "SANDBOX_READY") {
      throw new Conflict(`sandbox ${sb.id} is not ready`);
    }
    return sb;
  }

  handlers(): Record<string, Unary> {
    return {
      RunPodSandbox: (req) => this.run(req),
      StopPodSandbox: async (req) => (await this.stop(req.pod_sandbox_id ?? ""), {}),
      RemovePodSandbox: async (req) => (await this.remove(req.pod_sandbox_id ?? ""), {}),
      PodSandboxStatus: (req) => this.status(req),
      ListPodSandbox: (req) => this.list(req),
    };
  }
}
