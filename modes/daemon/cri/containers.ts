/**
 * CRI containers in pods: created from a k8s.io image (./images.ts), run as
 * tasks of their pod's shim (the one started for the pod's holder: one shim
 * per pod, as containerd's runc v2 shim) with the daemon's OCI runtime, joining their
 * pod's network, IPC and UTS namespaces (and its pid namespace when the
 * pod shares one) held by the pod's pause (./pods.ts). Output goes to the
 * log path kubelet gives, in the CRI's format (core/shim/jsonlog.ts).
 * Records in `<root>/cri/containers/<id>/record.json` beside the rootfs's
 * upper/work dirs; a container's state is read from its shim (alive) or
 * the exit it left (exit.json) when asked, so nothing has to watch it and a
 * restarted daemon finds it as it is.
 * @module
 */
import { Conflict, InvalidArgument, messageOf, NotFound } from "../../../core/errdefs/mod.ts";
import { cpuResources, generateSpec, type MountInput } from "../../../core/oci/runtime_spec.ts";
import type { OciProcess, OciResources, OciSpec } from "../../../core/oci/runtime_types.ts";
import { Cgroup } from "../../../core/runtime/cgroups.ts";
import { updateCgroup } from "../../../core/runtime/cgroups_update.ts";
import { resolveUser } from "../../../core/oci/user.ts";
import { hostDevices } from "../../../core/oci/host_devices.ts";
import { hostCapabilities } from "../../../core/runtime/proc.ts";
import { readExitFile, ShimClient, ShimError, type ShimStream } from "../../../core/shim/client.ts";
import {
  type ExitInfo,
  FRAME_EXIT,
  FRAME_STDERR,
  FRAME_STDOUT,
  FrameParser,
} from "../../../core/shim/protocol.ts";
import { finishRuntimeCleanup, reapContainer } from "../../../core/shim/reap.ts";
import { writeFileAtomic } from "../../../core/store/atomic.ts";
import { mountRootfs, unmountRootfs } from "../containers/rootfs.ts";
import { containerCgroupsPath, groupIds } from "../containers/spec.ts";
import { newId } from "../containers/names.ts";
import { parseSignal } from "../containers/signals.ts";
import { log, logFailure } from "../log.ts";
import { removeIfExists } from "../../../core/errdefs/ignore.ts";
import type { CriImages } from "./images.ts";
import { type CriPods, nsMode, type SandboxRecord } from "./pods.ts";
import { KeyedSerial, RecordDir } from "./records.ts";
import type { Msg, ServerStream, Unary } from "./types.ts";

type State = "CONTAINER_CREATED" | "CONTAINER_RUNNING" | "CONTAINER_EXITED";

export type EventType =
  | "CONTAINER_CREATED_EVENT"
  | "CONTAINER_STARTED_EVENT"
  | "CONTAINER_STOPPED_EVENT"
  | "CONTAINER_DELETED_EVENT";

export interface CriContainerRecord {
  id: string;
  sandboxId: string;
  /** the ContainerConfig as kubelet sent it */
  config: Msg;
  imageId: string;
  /** the image as the request named it */
  imageRef: string;
  /** the image's chain IDs, bottom first: the rootfs's lower layers */
  layers: string[];
  /** the image's stop signal (SIGTERM when it has none) */
  stopSignal: string;
  /** ns since the epoch; 0 = not yet */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  state: State;
  exitCode: number;
  reason: string;
  message: string;
  pid: number;
  /** sandbox log_directory + log_path ("" = no log) */
  logPath: string;
  /** the cgroup (cgroupfs path) it runs in, once started */
  cgroup?: string;
  /**
   * the pod whose shim runs it (a task of that shim); absent: a shim of its
   * own (records from before one shim per pod)
   */
  shim?: string;
}

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: "rprivate",
  PROPAGATION_HOST_TO_CONTAINER: "rslave",
  PROPAGATION_BIDIRECTIONAL: "rshared",
};

/** crictl's and containerd's name: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
function containerName(c: Msg, sb: SandboxRecord): string {
  const p = sb.config.metadata ?? {};
  return `k8s_${c.metadata?.name}_${p.name}_${p.namespace}_${p.uid}_${c.metadata?.attempt ?? 0}`;
}

function nsTime(iso: string | undefined): number {
  const ms = Date.parse(iso ?? "");
  if (!Number.isFinite(ms)) return Date.now() * 1e6;
  const frac = /\.(\d+)/.exec(iso!)?.[1] ?? "";
  return Math.floor(ms / 1000) * 1e9 + Number(frac.padEnd(9, "0").slice(0, 9));
}

export class CriContainers {
  readonly pods: CriPods;
  readonly images: CriImages;
  readonly store: RecordDir<CriContainerRecord>;
  readonly serial = new KeyedSerial();
  /** GetContainerEvents' subscribers */
  readonly #watchers = new Set<(m: Msg) => void>();
  /** events are built (the pod's status is async) and sent one after the other */
  #emitting: Promise<void> = Promise.resolve();

  constructor(pods: CriPods, images: CriImages) {
    this.pods = pods;
    this.images = images;
    this.store = new RecordDir(`${pods.s.config.root}/cri/containers`, "container");
    // an image's users: the containers made from it, and the pods it holds (--pod-infra-image)
    images.users = (id) => [
      ...this.store.list().filter((c) => c.imageId === id).map((c) => c.id),
      ...pods.store.list().filter((sb) => sb.image?.id === id).map((sb) => sb.id),
    ];
    pods.images = images;
    pods.containersOf = {
      stopAll: async (sid) => {
        for (const c of this.#ofPod(sid)) await this.stop(c.id, 0);
      },
      removeAll: async (sid) => {
        for (const c of this.#ofPod(sid)) await this.remove(c.id);
      },
      podEvent: (sid, type) => this.#send(sid, sid, type),
    };
  }

  async init(): Promise<void> {
    await this.store.load();
    for (const c of this.store.list()) {
      if (c.state === "CONTAINER_RUNNING") this.#watchExit(c);
    }
  }

  // ---- events ----

  /** Send `type` for `c` to every GetContainerEvents subscriber, in the order emitted. */
  #emit(c: CriContainerRecord, type: EventType): void {
    this.#send(c.id, c.sandboxId, type, type === "CONTAINER_DELETED_EVENT" ? [c] : []);
  }

  /**
   * An event keyed by `id` (a container, or the pod itself for the pod's own
   * events, as containerd) with the pod's status and its containers' (and
   * `extra`'s: a container just deleted), both taken now: the pod's record
   * may be gone by the time the event is sent.
   */
  #send(id: string, sandboxId: string, type: EventType, extra: CriContainerRecord[] = []): void {
    if (!this.#watchers.size) return;
    const createdAt = Date.now() * 1e6;
    const statuses = [...this.#ofPod(sandboxId), ...extra].map((x) => this.#statusOf(x));
    const pod = this.pods.status({ pod_sandbox_id: sandboxId }).then(
      (r) => r.status,
      (e) => (log.debug(`CRI event ${id.slice(0, 12)}: no pod status: ${e}`), null),
    );
    this.#emitting = this.#emitting.then(async () => {
      const ev = {
        container_id: id,
        container_event_type: type,
        created_at: createdAt,
        pod_sandbox_status: await pod,
        containers_statuses: statuses,
      };
      for (const w of this.#watchers) w(ev);
    }).catch(logFailure(`CRI: sending an event of ${id.slice(0, 12)}`));
  }

  /** GetContainerEvents: every event from now until the client goes. */
  events(send: (m: Msg) => void, signal: AbortSignal): Promise<void> {
    this.#watchers.add(send);
    return new Promise((resolve) => {
      const done = () => (this.#watchers.delete(send), resolve());
      if (signal.aborted) done();
      else signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Hold a wait on the shim: an exit is recorded (and its event sent) when it happens. */
  #watchExit(c: CriContainerRecord): void {
    const pid = c.pid;
    // no shim to ask (it exited and went) or a broken connection: exit.json or reaping tells
    this.#shim(c).wait().catch(() => null).then(async (info) => {
      if (!info) return await this.#refresh(c);
      await this.serial.run(c.id, async () => {
        if (c.state !== "CONTAINER_RUNNING" || c.pid !== pid) return;
        this.#exited(c, info);
        await this.#cleanupRuntime(c);
        await this.store.save(c);
        this.#emit(c, "CONTAINER_STOPPED_EVENT");
      });
    }).catch(logFailure(`CRI: recording the exit of ${c.id.slice(0, 12)}`));
  }

  #ofPod(sid: string): CriContainerRecord[] {
    return this.store.list().filter((c) => c.sandboxId === sid);
  }

  /** The container's shim: its pod's (the container a task of it), or its own (older records). */
  #shim(c: CriContainerRecord): ShimClient {
    const dir = this.pods.shimDir(c.id);
    if (c.shim) return new ShimClient(dir, this.pods.shimSocket(c.shim), this.pods.taskId(c.id));
    return new ShimClient(dir, this.pods.shimSocket(c.id));
  }

  // ---- create ----

  async create(req: Msg): Promise<Msg> {
    const cfg = req.config;
    if (!cfg?.metadata?.name) throw new InvalidArgument("container config must include metadata");
    const sb = this.pods.ready(req.pod_sandbox_id ?? "");
    const ref = cfg.image?.image ?? "";
    if (!ref) throw new InvalidArgument("container config must name an image");
    const sc = cfg.linux?.security_context ?? {};
    if (sc.run_as_group && !sc.run_as_user && !sc.run_as_username) {
      // as containerd: the group alone would pair with the image's user, which kubelet never means
      throw new InvalidArgument("user group is specified without user");
    }
    const image = this.images.store.tryResolve(ref);
    if (!image) throw new NotFound(`failed to get image "${ref}": not found`);
    const name = containerName(cfg, sb);
    const taken = this.store.list().find((c) =>
      c.sandboxId === sb.id && containerName(c.config, sb) === name
    );
    if (taken) {
      throw new Conflict(
        `failed to reserve container name "${name}": name "${name}" is reserved for "${taken.id}"`,
      );
    }
    const ic = (await this.images.config(image.id)).config ?? {};
    const dir = sb.config.log_directory ?? "";
    const c: CriContainerRecord = {
      id: newId(),
      sandboxId: sb.id,
      config: cfg,
      imageId: image.id,
      imageRef: ref,
      layers: [...image.chainIds],
      stopSignal: ic.StopSignal || "SIGTERM",
      createdAt: Date.now() * 1e6,
      startedAt: 0,
      finishedAt: 0,
      state: "CONTAINER_CREATED",
      exitCode: 0,
      reason: "",
      message: "",
      pid: 0,
      logPath: dir && cfg.log_path ? `${dir.replace(/\/+$/, "")}/${cfg.log_path}` : "",
    };
    await this.store.save(c);
    // its init boots while kubelet gets to StartContainer (a no-op when one waits already)
    if ((sc.namespace_options?.pid ?? "CONTAINER") === "CONTAINER") this.pods.prewarm(sb);
    this.#emit(c, "CONTAINER_CREATED_EVENT");
    return { container_id: c.id };
  }

  // ---- start ----

  start(id: string): Promise<void> {
    const c = this.store.resolve(id);
    return this.serial.run(c.id, async () => {
      if (c.state !== "CONTAINER_CREATED") {
        throw new Conflict(`container ${c.id} is in ${c.state} state, not CONTAINER_CREATED`);
      }
      const sb = this.pods.ready(c.sandboxId);
      try {
        await this.#start(c, sb);
      } catch (e) {
        await this.#cleanupRuntime(c).catch((ce) => log.warn(`CRI: cleanup ${c.id}: ${ce}`));
        Object.assign(c, {
          state: "CONTAINER_EXITED",
          exitCode: 128,
          reason: "StartError",
          message: (e as Error).message,
          finishedAt: Date.now() * 1e6,
        });
        await this.store.save(c);
        this.#emit(c, "CONTAINER_STOPPED_EVENT");
        throw e;
      }
    });
  }

  async #spec(c: CriContainerRecord, sb: SandboxRecord, rootfs: string): Promise<OciSpec> {
    const cfg = c.config;
    const ic = (await this.images.config(c.imageId)).config ?? {};
    const sc = cfg.linux?.security_context ?? {};
    const res = cfg.linux?.resources ?? {};
    // Kubernetes' command/args over the image's Entrypoint/Cmd
    const command: string[] = cfg.command ?? [], args: string[] = cfg.args ?? [];
    const entrypoint = command.length ? command : ic.Entrypoint ?? [];
    const cmd = args.length ? args : command.length ? [] : ic.Cmd ?? [];
    const env = [
      ...(ic.Env ?? []),
      ...(cfg.envs ?? []).map((e: Msg) => `${e.key}=${e.value}`),
    ];
    let user = ic.User ?? "";
    if (sc.run_as_username) user = sc.run_as_username;
    else if (sc.run_as_user) user = String(sc.run_as_user.value);
    if (sc.run_as_group && user) user = `${user.split(":")[0]}:${sc.run_as_group.value}`;
    const resolved = await resolveUser(rootfs, user);
    const groups = await groupIds(rootfs, (sc.supplemental_groups ?? []).map(String));
    const mounts: MountInput[] = [];
    for (const m of cfg.mounts ?? []) {
      if (!m.container_path?.startsWith("/")) {
        throw new InvalidArgument(`mount path "${m.container_path}" is not absolute`);
      }
      // as containerd: a host path that is not there is made a directory
      await Deno.stat(m.host_path).catch(async (e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        await Deno.mkdir(m.host_path, { recursive: true });
      });
      mounts.push({
        type: "bind",
        source: m.host_path,
        destination: m.container_path,
        readOnly: !!m.readonly,
        options: [PROPAGATION[m.propagation] ?? "rprivate"],
      });
    }
    const has = (p: string) => mounts.some((m) => m.destination === p);
    if (!has("/dev/shm")) {
      mounts.push({ type: "bind", source: sb.shm, destination: "/dev/shm", options: ["rprivate"] });
    }
    const podDir = this.pods.store.dirOf(sb.id);
    const secOpt: string[] = [];
    if (sc.no_new_privs) secOpt.push("no-new-privileges");
    const seccomp = sc.seccomp;
    if (!seccomp && !sc.seccomp_profile_path) secOpt.push("seccomp=unconfined");
    else if (seccomp?.profile_type === "Unconfined") secOpt.push("seccomp=unconfined");
    else if (seccomp?.profile_type === "Localhost") {
      const path = seccomp.localhost_ref.replace(/^localhost\//, "");
      secOpt.push(`seccomp=${await Deno.readTextFile(path)}`);
    }
    const hostNet = nsMode(sb, "network") === "NODE";
    const pidMode = sc.namespace_options?.pid ?? "CONTAINER";
    const join: Record<string, string> = {};
    if (nsMode(sb, "ipc") !== "NODE") join.ipc = `/proc/${sb.pid}/ns/ipc`;
    if (!hostNet) join.uts = `/proc/${sb.pid}/ns/uts`;
    if (pidMode === "POD") join.pid = `/proc/${sb.pid}/ns/pid`;
    if (pidMode === "TARGET") {
      const t = this.store.resolve(sc.namespace_options.target_id ?? "");
      if (t.state !== "CONTAINER_RUNNING" || !t.pid) {
        throw new Conflict(`target container ${t.id} is not running`);
      }
      join.pid = `/proc/${t.pid}/ns/pid`;
    }
    const privileged = !!sc.privileged;
    const spec = generateSpec({
      id: c.id,
      rootfs,
      cgroupsPath: containerCgroupsPath(
        this.pods.s.config.cgroupParent,
        sb.config.linux?.cgroup_parent,
        c.id,
      ),
      config: {
        Entrypoint: entrypoint,
        Cmd: cmd,
        Env: env,
        WorkingDir: cfg.working_dir || ic.WorkingDir || "",
        User: user,
        Hostname: hostNet ? Deno.hostname() : (sb.config.hostname || Deno.hostname()),
        Tty: !!cfg.tty,
      },
      user: resolved,
      host: {
        Privileged: privileged,
        ReadonlyRootfs: !!sc.readonly_rootfs,
        CapAdd: sc.capabilities?.add_capabilities ?? [],
        CapDrop: sc.capabilities?.drop_capabilities ?? [],
        SecurityOpt: secOpt,
        NetworkMode: hostNet ? "host" : "",
        IpcMode: nsMode(sb, "ipc") === "NODE" ? "host" : "",
        UTSMode: hostNet ? "host" : "",
        PidMode: pidMode === "NODE" ? "host" : "",
        GroupAdd: groups,
        Memory: res.memory_limit_in_bytes || undefined,
        CpuPeriod: res.cpu_period || undefined,
        CpuQuota: res.cpu_quota || undefined,
        CpuShares: res.cpu_shares || undefined,
        CpusetCpus: res.cpuset_cpus || undefined,
        CpusetMems: res.cpuset_mems || undefined,
        OomScoreAdj: res.oom_score_adj || undefined,
        MaskedPaths: sc.masked_paths?.length ? sc.masked_paths : undefined,
        ReadonlyPaths: sc.readonly_paths?.length ? sc.readonly_paths : undefined,
      },
      mounts,
      etc: {
        hosts: has("/etc/hosts") ? undefined : `${podDir}/hosts`,
        hostname: has("/etc/hostname") ? undefined : `${podDir}/hostname`,
        resolvConf: has("/etc/resolv.conf") ? undefined : `${podDir}/resolv.conf`,
      },
      netnsPath: sb.netns,
      joinNamespaces: join,
      ...(privileged ? { devices: hostDevices() } : {}),
      hostCaps: privileged ? hostCapabilities() : undefined,
    });
    // As containerd: a bidirectional mount needs a shared root (its mounts stay peers of the
    // host's, so the container's mounts propagate out), a host-to-container one a slave root.
    const props = (cfg.mounts ?? []).map((m: Msg) => m.propagation);
    if (props.includes("PROPAGATION_BIDIRECTIONAL")) spec.linux!.rootfsPropagation = "rshared";
    else if (props.includes("PROPAGATION_HOST_TO_CONTAINER")) {
      spec.linux!.rootfsPropagation = "rslave";
    }
    return spec;
  }

  async #start(c: CriContainerRecord, sb: SandboxRecord): Promise<void> {
    const dir = this.pods.shimDir(c.id);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const rootfs = await mountRootfs({
      lowers: c.layers.map((l) => this.pods.s.layers.diffDir(l)),
      containerDir: this.store.dirOf(c.id),
      target: `${dir}/rootfs`,
    });
    const spec = await this.#spec(c, sb, rootfs);
    c.cgroup = spec.linux?.cgroupsPath;
    await writeFileAtomic(`${dir}/config.json`, JSON.stringify(spec));
    if (c.logPath) {
      await Deno.mkdir(c.logPath.slice(0, c.logPath.lastIndexOf("/")) || "/", {
        recursive: true,
      });
    }
    // a task of the pod's shim: its config in its own dir (what a reap after a shim's death reads)
    const config = this.pods.shimConfig(c.id, sb.runtime, {
      socket: this.pods.shimSocket(sb.id),
      tty: !!c.config.tty,
      openStdin: !!c.config.stdin,
      stdinOnce: !!c.config.stdin_once,
      logPath: c.logPath,
      logFormat: "cri",
    });
    await writeFileAtomic(`${dir}/shim.json`, JSON.stringify(config));
    await removeIfExists(`${dir}/exit.json`); // a stale one would report an old exit
    c.shim = sb.id;
    const shim = this.#shim(c);
    const created = await shim.call({ op: "create", config, dir }).catch((e) => {
      if (e instanceof ShimError) throw e;
      throw new Conflict(`sandbox ${sb.id}'s shim is gone: ${messageOf(e)}`);
    });
    c.pid = Number(created.pid);
    const startedAt = Date.now() * 1e6; // before: a short process may have exited by the reply
    await shim.call({ op: "start" });
    c.state = "CONTAINER_RUNNING";
    c.startedAt = startedAt;
    await this.store.save(c);
    this.#emit(c, "CONTAINER_STARTED_EVENT");
    this.#watchExit(c);
  }

  // ---- state ----

  /** A running container's exit, if it has one (exit.json, or its shim is gone). */
  async #exit(c: CriContainerRecord): Promise<ExitInfo | null> {
    const dir = this.pods.shimDir(c.id);
    const info = await readExitFile(dir);
    if (info) return info;
    if (await this.#shim(c).alive()) return null;
    // the shim died without recording an exit: kill what it left, as the Engine API does
    const r = await reapContainer(dir);
    for (const p of r.problems) log.warn(`CRI: reaping ${c.id.slice(0, 12)}: ${p}`);
    return {
      exitCode: 137,
      exitedAt: new Date().toISOString(),
      error: "the container's shim died",
    };
  }

  /**
   * Bring a RUNNING record up to date (recording its exit and releasing its
   * runtime). The exit is looked up under the container's lock: a Stop or
   * Remove cleaning up meanwhile would otherwise make the lookup find the
   * shim gone and reap a container already recorded. The look before the
   * lock only reads, so a running container's status does not wait on it.
   */
  async #refresh(c: CriContainerRecord): Promise<void> {
    if (c.state !== "CONTAINER_RUNNING") return;
    if (!(await readExitFile(this.pods.shimDir(c.id))) && (await this.#shim(c).alive())) return;
    await this.serial.run(c.id, async () => {
      if (c.state !== "CONTAINER_RUNNING") return; // recorded meanwhile (a Stop, another look)
      const info = await this.#exit(c);
      if (!info) return;
      this.#exited(c, info);
      await this.#cleanupRuntime(c);
      await this.store.save(c);
      this.#emit(c, "CONTAINER_STOPPED_EVENT");
    });
  }

  #exited(c: CriContainerRecord, info: ExitInfo): void {
    c.state = "CONTAINER_EXITED";
    c.exitCode = info.exitCode;
    c.finishedAt = nsTime(info.exitedAt);
    c.reason = info.oomKilled ? "OOMKilled" : info.exitCode === 0 ? "Completed" : "Error";
    c.message = info.error ?? "";
    c.pid = 0;
  }

  /**
   * The container's task (its pod's shim forgets it; an own shim ends),
   * what it left of the runtime, the rootfs mount and the bundle go; the
   * record and upper dir stay.
   */
  async #cleanupRuntime(c: CriContainerRecord): Promise<void> {
    const dir = this.pods.shimDir(c.id);
    const shim = this.#shim(c);
    if (await shim.alive()) {
      await shim.call({ op: c.shim ? "delete" : "shutdown" }).catch(
        (e) => log.debug(`CRI: ${c.id.slice(0, 12)}'s task: ${messageOf(e)}`), // exited meanwhile
      );
    }
    for (const p of await finishRuntimeCleanup(dir)) log.warn(`CRI: ${c.id.slice(0, 12)}: ${p}`);
    await unmountRootfs(`${dir}/rootfs`);
    await removeIfExists(dir, { recursive: true }).catch(logFailure(`removing ${dir}`));
    if (!c.shim) {
      await Deno.remove(this.pods.shimSocket(c.id)).catch(() => {/* the shim removed it */});
    }
  }

  // ---- stop / remove ----

  async stop(id: string, timeout: number): Promise<void> {
    const c = this.store.resolve(id);
    await this.#refresh(c);
    await this.serial.run(c.id, async () => {
      if (c.state !== "CONTAINER_RUNNING") return;
      const shim = this.#shim(c);
      const exited = shim.wait().catch(() => null); // a broken connection: gone as well
      const sig = timeout > 0 ? parseSignal(c.stopSignal, 15) : 9;
      await shim.call({ op: "kill", signal: sig, all: sig === 9 }).catch(() => {/* exited */});
      const done = (ms: number) =>
        Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);
      if (sig !== 9 && (await done(timeout * 1000)) === "timeout") {
        await shim.call({ op: "kill", signal: 9, all: true }).catch(() => {/* exited */});
      }
      await done(30_000);
      const info = await this.#exit(c) ?? {
        exitCode: 137,
        exitedAt: new Date().toISOString(),
        error: "the container did not exit after SIGKILL",
      };
      this.#exited(c, info);
      await this.#cleanupRuntime(c);
      await this.store.save(c);
      this.#emit(c, "CONTAINER_STOPPED_EVENT");
    });
  }

  async remove(id: string): Promise<void> {
    const c = this.store.tryResolve(id);
    if (!c) return; // already gone: kubelet retries removals
    if (c.state === "CONTAINER_RUNNING") await this.stop(c.id, 0);
    await this.serial.run(c.id, async () => {
      if (!this.store.get(c.id)) return;
      await this.#cleanupRuntime(c);
      // a copied rootfs (no overlayfs) is mounted below the container's dir
      await unmountRootfs(this.store.dirOf(c.id)).catch(() => {/* nothing mounted */});
      await this.store.remove(c.id);
      this.#emit(c, "CONTAINER_DELETED_EVENT");
    });
  }

  // ---- status / list ----

  #mounts(c: CriContainerRecord): Msg[] {
    return (c.config.mounts ?? []).map((m: Msg) => ({
      container_path: m.container_path,
      host_path: m.host_path,
      readonly: !!m.readonly,
      selinux_relabel: !!m.selinux_relabel,
      propagation: m.propagation ?? "PROPAGATION_PRIVATE",
    }));
  }

  async status(req: Msg): Promise<Msg> {
    const c = this.store.resolve(req.container_id ?? "");
    await this.#refresh(c);
    const info: Record<string, string> = {};
    if (req.verbose) {
      info.info = JSON.stringify({
        sandboxID: c.sandboxId,
        pid: c.pid,
        runtimeSpec: await Deno.readTextFile(`${this.pods.shimDir(c.id)}/config.json`)
          .then(JSON.parse, () => null),
        config: c.config,
      });
    }
    return { status: this.#statusOf(c), info };
  }

  /** The ContainerStatus of a record as it is (no refresh). */
  #statusOf(c: CriContainerRecord): Msg {
    return {
      id: c.id,
      metadata: c.config.metadata,
      state: c.state,
      created_at: c.createdAt,
      started_at: c.startedAt,
      finished_at: c.finishedAt,
      exit_code: c.exitCode,
      image: { image: c.imageRef, annotations: {} },
      image_ref: c.imageId,
      reason: c.reason,
      message: c.message,
      labels: c.config.labels ?? {},
      annotations: c.config.annotations ?? {},
      mounts: this.#mounts(c),
      log_path: c.logPath,
      resources: c.config.linux?.resources ? { linux: c.config.linux.resources } : null,
    };
  }

  async list(req: Msg): Promise<Msg> {
    const f = req.filter ?? {};
    const out = [];
    for (const c of this.store.list()) {
      if (f.id && !c.id.startsWith(f.id)) continue;
      if (f.pod_sandbox_id && !c.sandboxId.startsWith(f.pod_sandbox_id)) continue;
      if (
        f.label_selector &&
        !Object.entries(f.label_selector).every(([k, v]) => c.config.labels?.[k] === v)
      ) continue;
      await this.#refresh(c);
      if (f.state && f.state.state !== c.state) continue;
      out.push({
        id: c.id,
        pod_sandbox_id: c.sandboxId,
        metadata: c.config.metadata,
        image: { image: c.imageRef, annotations: {} },
        image_ref: c.imageId,
        state: c.state,
        created_at: c.createdAt,
        labels: c.config.labels ?? {},
        annotations: c.config.annotations ?? {},
      });
    }
    out.sort((a, b) => b.created_at - a.created_at);
    return { containers: out };
  }

  /** kubelet renamed the log (its rotation): the shim writes to a new file at the path. */
  async reopenLog(id: string): Promise<void> {
    const c = this.store.resolve(id);
    await this.#refresh(c);
    if (c.state !== "CONTAINER_RUNNING") {
      throw new Conflict(`container ${c.id} is not running`);
    }
    await this.#shim(c).call({ op: "reopen-log" });
  }

  // ---- update ----

  /**
   * UpdateContainerResources: the set (non-zero) fields of the request's
   * LinuxContainerResources go to the running container's cgroup live
   * (core/runtime/cgroups_update.ts, as `docker update`) and into its record,
   * so ContainerStatus shows them and a restart applies them. oom_score_adj is
   * ignored, as containerd does at update; hugepage limits and unified
   * entries are logged and not applied (no hugetlb/unified writer yet: kubelet
   * sends zero hugepage entries with every update). A created container
   * only has its record updated; an exited one is refused.
   */
  async update(req: Msg): Promise<void> {
    const c = this.store.resolve(req.container_id ?? "");
    const want: Msg = req.linux ?? {};
    // kubelet sends a hugepage entry per page size (mostly 0) with every update: not refused
    if ((want.hugepage_limits ?? []).some((h: Msg) => Number(h.limit ?? 0) > 0)) {
      log.warn(`CRI: ${c.id.slice(0, 12)}: hugepage limits are not applied at update`);
    }
    if (Object.keys(want.unified ?? {}).length) {
      log.warn(`CRI: ${c.id.slice(0, 12)}: unified cgroup entries are not applied at update`);
    }
    await this.#refresh(c);
    await this.serial.run(c.id, async () => {
      if (c.state === "CONTAINER_EXITED") {
        throw new Conflict(`container ${c.id} is in CONTAINER_EXITED state`);
      }
      const res: Msg = { ...(c.config.linux?.resources ?? {}) };
      const fields = [
        "cpu_period",
        "cpu_quota",
        "cpu_shares",
        "memory_limit_in_bytes",
        "memory_swap_limit_in_bytes",
        "cpuset_cpus",
        "cpuset_mems",
      ];
      for (const k of fields) {
        const v = want[k];
        if (v !== undefined && v !== null && v !== "" && Number(v) !== 0) res[k] = v;
      }
      const oci: OciResources = {};
      const mem = Number(want.memory_limit_in_bytes ?? 0);
      const swap = Number(want.memory_swap_limit_in_bytes ?? 0);
      // the start's rule (core/oci/runtime_spec.ts): no swap limit given = twice the memory
      if (mem) oci.memory = { limit: mem, swap: swap || mem * 2 };
      else if (swap) oci.memory = { swap };
      const cpu = cpuResources({
        CpuPeriod: Number(want.cpu_period ?? 0),
        CpuQuota: Number(want.cpu_quota ?? 0),
        CpuShares: Number(want.cpu_shares ?? 0),
        CpusetCpus: want.cpuset_cpus ?? "",
        CpusetMems: want.cpuset_mems ?? "",
      });
      if (cpu) oci.cpu = cpu;
      if (c.state === "CONTAINER_RUNNING" && c.cgroup) {
        try {
          updateCgroup(new Cgroup(c.cgroup), oci);
        } catch (e) {
          throw new Error(`failed to update resources of container ${c.id}: ${messageOf(e)}`);
        }
      }
      c.config = { ...c.config, linux: { ...(c.config.linux ?? {}), resources: res } };
      await this.store.save(c);
    });
  }

  // ---- exec ----

  /** Run a command in a running container; its output and exit code (kubelet's probes). */
  async execSync(req: Msg): Promise<Msg> {
    const c = this.store.resolve(req.container_id ?? "");
    await this.#refresh(c);
    if (c.state !== "CONTAINER_RUNNING") {
      throw new Conflict(`container ${c.id} is not running`);
    }
    const cmd: string[] = req.cmd ?? [];
    if (!cmd.length) throw new InvalidArgument("exec: no command");
    const spec: OciSpec = JSON.parse(
      await Deno.readTextFile(`${this.pods.shimDir(c.id)}/config.json`),
    );
    const p: OciProcess = { ...spec.process, args: cmd, terminal: false };
    delete p.consoleSize;
    const s = await this.#shim(c).stream({
      op: "exec",
      exec: newId(),
      process: p as unknown as Record<string, unknown>,
      tty: false,
      stdin: false,
    });
    const pid = Number(s.reply.pid ?? 0);
    const out: Uint8Array[] = [], err: Uint8Array[] = [];
    let exit: ExitInfo | undefined;
    const parser = new FrameParser();
    const feed = (b: Uint8Array) => {
      for (const f of parser.push(b)) {
        if (f.type === FRAME_STDOUT) out.push(f.payload);
        else if (f.type === FRAME_STDERR) err.push(f.payload);
        else if (f.type === FRAME_EXIT) exit = JSON.parse(new TextDecoder().decode(f.payload));
      }
    };
    const timeout = Number(req.timeout ?? 0);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    if (timeout > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        try {
          if (pid > 0) Deno.kill(pid, "SIGKILL");
        } catch { /* it ended meanwhile */ }
      }, timeout * 1000);
    }
    try {
      feed(s.rest);
      const buf = new Uint8Array(65536);
      for (;;) {
        const n = await s.conn.read(buf).catch(() => null); // broken: the end, as EOF
        if (n === null) break;
        feed(buf.subarray(0, n));
      }
    } finally {
      clearTimeout(timer);
      try {
        s.conn.close();
      } catch { /* closed */ }
    }
    if (timedOut) {
      throw Object.assign(
        new Error(`command ${JSON.stringify(cmd)} timed out after ${timeout}s`),
        { kind: "DeadlineExceeded" },
      );
    }
    if (!exit) throw new Error(`exec in ${c.id}: the shim ended the stream without an exit`);
    if (exit.error) throw new Error(`failed to exec in container: ${exit.error}`);
    const cat = (l: Uint8Array[]) => {
      const b = new Uint8Array(l.reduce((n, x) => n + x.length, 0));
      let o = 0;
      for (const x of l) (b.set(x, o), o += x.length);
      return b;
    };
    return { stdout: cat(out), stderr: cat(err), exit_code: exit.exitCode };
  }

  // ---- streaming (Exec, Attach: ./stream/) ----

  /** A running container, or the error containerd gives (the streaming server's checks). */
  async running(id: string): Promise<CriContainerRecord> {
    const c = this.store.resolve(id);
    await this.#refresh(c);
    if (c.state !== "CONTAINER_RUNNING") {
      throw new Conflict(`container ${c.id} is in ${c.state} state`);
    }
    return c;
  }

  /**
   * Start `cmd` in a running container through its shim, as ExecSync does,
   * with a terminal (its size when known) or pipes: the shim's exec stream
   * (stdin in, output frames and the exit frame out) and the exec's id (resize).
   */
  async openExec(
    id: string,
    cmd: string[],
    o: { tty: boolean; stdin: boolean; size?: { height: number; width: number } },
  ): Promise<{ stream: ShimStream; exec: string }> {
    const c = await this.running(id);
    if (!cmd.length) throw new InvalidArgument("exec: no command");
    const spec: OciSpec = JSON.parse(
      await Deno.readTextFile(`${this.pods.shimDir(c.id)}/config.json`),
    );
    const p: OciProcess = { ...spec.process, args: cmd, terminal: o.tty };
    if (o.tty && o.size) p.consoleSize = o.size;
    else delete p.consoleSize;
    const exec = newId();
    const stream = await this.#shim(c).stream({
      op: "exec",
      exec,
      process: p as unknown as Record<string, unknown>,
      tty: o.tty,
      stdin: o.stdin,
    });
    return { stream, exec };
  }

  /** The shim's attach stream of a running container (stdin only if its config keeps one open). */
  async openAttach(
    id: string,
    o: { stdin: boolean; stdout: boolean; stderr: boolean },
  ): Promise<{ stream: ShimStream; tty: boolean; stdin: boolean }> {
    const c = await this.running(id);
    const stdin = o.stdin && !!c.config.stdin;
    const stream = await this.#shim(c).stream({ op: "attach", ...o, stdin });
    return { stream, tty: !!c.config.tty, stdin };
  }

  /** Resize the terminal of a container (or of one of its execs). */
  async resizeTty(id: string, h: number, w: number, exec?: string): Promise<void> {
    const c = this.store.resolve(id);
    await this.#shim(c).call({ op: "resize", h, w, ...(exec ? { exec } : {}) });
  }

  streams(): Record<string, ServerStream> {
    return { GetContainerEvents: (_req, send, signal) => this.events(send, signal) };
  }

  handlers(): Record<string, Unary> {
    return {
      CreateContainer: (req) => this.create(req),
      StartContainer: async (req) => (await this.start(req.container_id ?? ""), {}),
      StopContainer: async (
        req,
      ) => (await this.stop(req.container_id ?? "", Number(req.timeout ?? 0)), {}),
      RemoveContainer: async (req) => (await this.remove(req.container_id ?? ""), {}),
      ContainerStatus: (req) => this.status(req),
      ListContainers: (req) => this.list(req),
      ExecSync: (req) => this.execSync(req),
      UpdateContainerResources: (req) => this.update(req).then(() => ({})),
      ReopenContainerLog: (req) => this.reopenLog(req.container_id ?? "").then(() => ({})),
    };
  }
}
