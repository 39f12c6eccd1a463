/**
 * The daemon's container service: records, lifecycle (create, start, stop,
 * kill, restart, remove), exit handling with restart policies and --rm, and
 * recovery of running containers from their shims after a daemon restart.
 * Streams (attach, logs, exec) live in their own modules.
 * @module
 */
import { Conflict, InvalidArgument, NotFound } from "../../../core/errdefs/mod.ts";
import { type ContainerRecord, ContainerStore, ZERO_TIME } from "../../../core/store/containers.ts";
import { readExitFile, ShimClient, ShimError, ShimPool } from "../../../core/shim/client.ts";
import { linkedContainers, registerLinks } from "./links.ts";
import { finishRuntimeCleanup, reapContainer, sweepRuntimeState } from "../../../core/shim/reap.ts";
import type { ExitInfo, ShimConfig } from "../../../core/shim/protocol.ts";
import { rfc3339Nano } from "../../../core/shim/protocol.ts";
import { writeFileAtomic } from "../../../core/store/atomic.ts";
import { PRIVATE_DIR } from "../../../core/store/perms.ts";
import type { DaemonConfig } from "../config.ts";
import type { ImageStore } from "../../../core/store/images.ts";
import type { LayerStore } from "../../../core/store/layers.ts";
import type { ImageService } from "../images/service.ts";
import { log, logFailure } from "../log.ts";
import { buildRecord } from "./create.ts";
import { checkSysctls } from "./sysctls.ts";
import { buildMounts } from "./mounts.ts";
import { Live } from "./live.ts";
import { mountRootfs, unmountRootfs } from "./rootfs.ts";
import { writeEtcFiles } from "./etc_files.ts";
import { buildSpec } from "./spec.ts";
import { parseSignal } from "./signals.ts";
import type { VolumeService } from "./volumes.ts";
import type { ContainerCreate } from "../../../core/api/containers.ts";
import type { Events } from "../events/log.ts";
import { HealthMonitor } from "./health.ts";
import { errorText, removeIfExists } from "../../../core/errdefs/ignore.ts";

/** What the container service needs of the network area (modes/daemon/networks/). */
export interface NetworkHook {
  /** at create: validate the requested networks and fill r.NetworkSettings */
  prepare?(c: ContainerRecord, body: ContainerCreate): void;
  /** at start: a netns to join instead of a new one (`--network container:X`) */
  netnsPath?(c: ContainerRecord): string | undefined;
  /** after the container's namespaces exist (created, not started) */
  attach(c: ContainerRecord, pid: number): Promise<void>;
  /** after the container stopped */
  detach(c: ContainerRecord): Promise<void>;
}

const MAX_RESTART_DELAY = 60_000;

/** Human text of a failed start that makes the docker CLI pick 126/127. */
function startErrorText(e: unknown): { msg: string; code: number } {
  const se = e as { message?: string; exitCode?: number };
  let msg = se?.message ?? String(e);
  const code = se?.exitCode === 127 || se?.exitCode === 126 ? se.exitCode : 128;
  if (code === 127 && !/executable file not found|no such file or directory/.test(msg)) {
    msg += ": executable file not found in $PATH";
  }
  if (code === 126 && !/permission denied|is a directory/.test(msg)) msg += ": permission denied";
  return {
    msg:
      `failed to create task for container: failed to create shim task: OCI runtime create failed: ${msg}: unknown`,
    code,
  };
}

/** What {@link ContainerService} is built from (../daemon.ts). */
export interface ContainerDeps {
  config: DaemonConfig;
  store: ContainerStore;
  /** The Engine API's image records (a container's image) and their configs. */
  images: ImageStore;
  imageService: ImageService;
  /** Image layers: a container's rootfs lowers. */
  layers: LayerStore;
  volumes: VolumeService;
  events: Events;
  /** The network area's hook; none: containers get no network set up. */
  network?: NetworkHook;
  /** Forget a removed container's execs (the exec service, built after this one). */
  dropExecs?(containerId: string): void;
}

export class ContainerService {
  readonly config: DaemonConfig;
  readonly store: ContainerStore;
  readonly images: ImageStore;
  readonly imageService: ImageService;
  readonly layers: LayerStore;
  readonly volumes: VolumeService;
  readonly events: Events;
  readonly network: NetworkHook | undefined;
  readonly health: HealthMonitor;
  #dropExecs: (containerId: string) => void;
  #live = new Map<string, Live>();
  #closing = false;
  #pool: ShimPool;

  constructor(d: ContainerDeps) {
    this.config = d.config;
    this.store = d.store;
    this.images = d.images;
    this.imageService = d.imageService;
    this.layers = d.layers;
    this.volumes = d.volumes;
    this.events = d.events;
    this.network = d.network;
    this.#dropExecs = d.dropExecs ?? (() => {});
    this.health = new HealthMonitor(this);
    this.#pool = new ShimPool(`${d.config.execRoot}/s`, d.config.defaultRuntime);
  }

  live(id: string): Live {
    let l = this.#live.get(id);
    if (!l) this.#live.set(id, l = new Live());
    return l;
  }

  shimDir(id: string): string {
    return `${this.config.execRoot}/shims/${id}`;
  }

  /** The shim's control socket (short: sun_path is 108 bytes). */
  shimSocket(id: string): string {
    return `${this.config.execRoot}/s/${id.slice(0, 24)}`;
  }

  /**
   * The OCI runtime's state root. Short on purpose, and so is the runtime's
   * container id (first 32 hex digits, see #doStart): runtimes put unix
   * sockets below `<root>/<id>/`, and sun_path holds only 108 bytes.
   */
  runtimeRoot(name: string): string {
    return `${this.config.execRoot}/rt/${name}`;
  }

  resolve(ref: string): ContainerRecord {
    return this.store.resolve(ref);
  }

  /** Shim of a running container, or Conflict. */
  shimOf(r: ContainerRecord): ShimClient {
    const sh = this.live(r.Id).shim;
    if (!r.State.Running || r.State.Restarting || !sh) {
      throw new Conflict(`container ${r.Id} is not running`);
    }
    return sh;
  }

  imageUsers(imageId: string): string[] {
    return this.store.list().filter((r) => r.Image === imageId).map((r) => r.Id);
  }

  counts(): { total: number; running: number; paused: number; stopped: number } {
    let running = 0, paused = 0, stopped = 0;
    for (const r of this.store.list()) {
      if (r.State.Paused) paused++;
      else if (r.State.Running) running++;
      else stopped++;
    }
    return { total: running + paused + stopped, running, paused, stopped };
  }

  volumeUsers(name: string): string[] {
    return this.store.list().filter((r) => r.MountPoints.some((m) => m.Name === name)).map((r) =>
      r.Id
    );
  }

  // ---- create ----

  /** Create from a validated body (core/api/containers.ts, ../api/checks.ts). */
  async create(body: ContainerCreate, name?: string): Promise<ContainerRecord> {
    const imgRef = body.Image;
    if (!imgRef) throw new InvalidArgument("config cannot be empty in order to create a container");
    const image = this.images.resolve(imgRef);
    const imageConfig = await this.imageService.config(image.id);
    const r = buildRecord({
      body,
      name,
      image,
      imageConfig,
      runtimes: ["berth", "runc", ...Object.keys(this.config.runtimes)],
      defaultRuntime: this.config.defaultRuntime,
      root: this.config.root,
      nameTaken: (n) => !!this.store.nameTaken(n),
    });
    checkSysctls(r.HostConfig, (ref) => this.store.tryResolve(ref));
    registerLinks(r, this.store);
    this.network?.prepare?.(r, body);
    r.MountPoints = await buildMounts(
      r.Config,
      r.HostConfig,
      imageConfig.config?.Volumes ?? {},
      this.volumes,
    );
    try {
      await this.store.add(r);
    } catch (e) {
      for (const m of r.MountPoints) {
        if (m.Anonymous && m.Name) {
          await this.volumes.remove(m.Name, true).catch(logFailure(`removing volume ${m.Name}`));
        }
      }
      throw e;
    }
    this.events.container("create", r);
    return r;
  }

  // ---- start ----

  /** Start; false when it was already running (304). */
  start(ref: string): Promise<boolean> {
    const r = this.resolve(ref);
    return this.live(r.Id).serial(() => this.#start(r));
  }

  async #start(r: ContainerRecord): Promise<boolean> {
    if (!this.store.get(r.Id)) throw new NotFound(`No such container: ${r.Id}`);
    if (r.State.Status === "removing") {
      throw new Conflict(`container is marked for removal and cannot be started`);
    }
    if (r.State.Running && !r.State.Restarting) return false;
    if (r.State.Paused) throw new Conflict(`cannot start a paused container, try unpause instead`);
    const live = this.live(r.Id);
    if (live.restartTimer) clearTimeout(live.restartTimer);
    live.restartTimer = undefined;
    const gen = ++live.gen;
    const p = this.#doStart(r, live, gen);
    live.starting = p.then(() => {}, () => {});
    try {
      await p;
    } finally {
      // refill the warm shim once the reply is on its way (see ShimPool.fill)
      setTimeout(() => this.#pool.fill(), 1);
    }
    return true;
  }

  /** `--pid container:X`: X's pid namespace (X must run), as Docker's getPidContainer. */
  #pidnsPath(r: ContainerRecord): string | undefined {
    const mode: string = r.HostConfig.PidMode ?? "";
    if (!mode.startsWith("container:")) return undefined;
    const other = this.store.resolve(mode.slice("container:".length));
    if (!other.State.Running || !other.State.Pid) {
      throw new Conflict(`cannot join PID of a non running container: ${other.Id}`);
    }
    return `/proc/${other.State.Pid}/ns/pid`;
  }

  async #doStart(r: ContainerRecord, live: Live, gen: number): Promise<void> {
    const dir = this.shimDir(r.Id);
    let shim: ShimClient | undefined;
    const t0 = performance.now();
    const lap = (what: string) =>
      log.debug(`start ${r.Id.slice(0, 12)}: ${what} +${(performance.now() - t0).toFixed(1)}ms`);
    try {
      await Deno.mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
      const rootfs = await mountRootfs({
        lowers: r.Layers.map((c) => this.layers.diffDir(c)),
        containerDir: this.store.dirOf(r.Id),
        target: `${dir}/rootfs`,
      });
      lap("rootfs");
      await writeEtcFiles(r);
      for (const m of r.MountPoints) {
        if (m.Type === "volume" && m.Name) {
          await this.volumes.populate(m.Name, m.NoCopy ? undefined : `${rootfs}${m.Destination}`);
        }
      }
      const spec = await buildSpec({
        linkEnv: linkedContainers(r, this.store).env,
        record: r,
        rootfs,
        netnsPath: this.network?.netnsPath?.(r),
        pidnsPath: this.#pidnsPath(r),
        cgroupParent: this.config.cgroupParent,
      });
      await writeFileAtomic(`${dir}/config.json`, JSON.stringify(spec));
      const rtName = r.HostConfig.Runtime as string;
      const cfg: ShimConfig = {
        id: r.Id.slice(0, 32),
        socket: this.shimSocket(r.Id),
        bundle: dir,
        runtime: {
          name: rtName,
          path: rtName === "berth" ? undefined : (this.config.runtimes[rtName] ?? rtName),
          root: this.runtimeRoot(rtName),
        },
        tty: !!r.Config.Tty,
        openStdin: !!r.Config.OpenStdin,
        stdinOnce: !!r.Config.StdinOnce,
        logPath: r.LogPath,
        logMaxSize: parseSize(r.HostConfig.LogConfig?.Config?.["max-size"]),
        logMaxFile: Number(r.HostConfig.LogConfig?.Config?.["max-file"] ?? 1) || 1,
        consoleSize: r.HostConfig.ConsoleSize?.[0]
          ? [r.HostConfig.ConsoleSize[0], r.HostConfig.ConsoleSize[1]]
          : undefined,
      };
      lap("spec");
      shim = await this.#pool.take(dir, cfg);
      lap("shim up");
      live.shim = shim;
      const created = await shim.call({ op: "create" });
      lap("created");
      const pid = Number(created.pid);
      await this.network?.attach(r, pid);
      for (const a of [...live.pendingAttach]) {
        live.pendingAttach.delete(a);
        await a.connect(shim).catch((e) => a.fail(errorText(e))); // the client sees its end
      }
      this.#monitor(r, shim, gen);
      await shim.call({ op: "start" });
      lap("started");
      const now = rfc3339Nano();
      r.State = {
        ...r.State,
        Status: "running",
        Running: true,
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: pid,
        ExitCode: 0,
        Error: "",
        StartedAt: now,
        FinishedAt: r.State.FinishedAt,
      };
      r.HasBeenStartedBefore = true;
      r.HasBeenManuallyStopped = false;
      live.startedAtMs = Date.now();
      this.health.started(r);
      await this.store.save(r);
      this.#volumeEvents("mount", r);
      this.events.container("start", r);
    } catch (e) {
      live.gen++; // ignore exit reports of this attempt
      live.shim = undefined;
      if (shim) {
        // a shim that died during the start leaves its container to us
        await shim.call({ op: "shutdown" }).catch(() => reapContainer(dir));
      }
      await this.#cleanupRuntime(r).catch(logFailure(`cleanup after the failed start of ${r.Id}`));
      const { msg, code } = e instanceof ShimError || (e as { exitCode?: number })?.exitCode
        ? startErrorText(e)
        : { msg: (e as Error)?.message ?? String(e), code: 128 };
      r.State = {
        ...r.State,
        Status: r.HasBeenStartedBefore ? "exited" : "created",
        Running: false,
        Restarting: false,
        Pid: 0,
        ExitCode: code,
        Error: msg,
      };
      for (const a of [...live.pendingAttach]) a.fail(msg);
      live.pendingAttach.clear();
      // A record that cannot be written stays the truth in memory (retried);
      // the caller hears of it with the start's own error.
      const unsaved = await this.store.saveOrDefer(r);
      if (unsaved) {
        log.error(
          `container ${r.Id.slice(0, 12)}: recording the failed start failed: ${unsaved.message}`,
        );
      }
      if (r.HostConfig.AutoRemove) {
        await this.#removeNow(r, true).catch(logFailure(`auto-remove ${r.Id}`));
      }
      const text = unsaved
        ? `${msg} (and the container's state could not be saved: ${unsaved.message})`
        : msg;
      if (code === 127 || code === 126) throw new InvalidArgument(text);
      throw new Error(text, { cause: e });
    }
  }

  /** Hold a wait connection to the shim; handle the exit when it comes. */
  #monitor(r: ContainerRecord, shim: ShimClient, gen: number): void {
    const dir = this.shimDir(r.Id);
    (async () => {
      let info = await shim.wait().catch(() => null); // a broken connection: looked into below
      if (this.#closing) return;
      if (!info) {
        // Connection broke: either the shim finished (exit.json) or it died.
        info = await readExitFile(dir);
        if (!info && await shim.alive()) {
          this.#monitor(r, shim, gen);
          return;
        }
        info ??= await this.#reapDeadShim(r);
      }
      await this.#onExit(r, gen, info);
    })().catch((e) => log.error(`monitor ${r.Id}: ${e?.stack ?? e}`));
  }

  async #onExit(r: ContainerRecord, gen: number, info: ExitInfo): Promise<void> {
    const live = this.live(r.Id);
    await live.starting;
    if (gen !== live.gen || !this.store.get(r.Id)) return;
    live.shim = undefined;
    this.health.stop(r.Id);
    // Decided before the state changes, so that no inspect in between sees
    // "exited" for a container about to restart (moby handleContainerExit
    // goes from running to restarting under one lock).
    const restart = !live.removing && this.#shouldRestart(r, info.exitCode);
    r.State = {
      ...r.State,
      Status: "exited",
      Running: false,
      Paused: false,
      Restarting: false,
      Pid: 0,
      ExitCode: info.exitCode,
      OOMKilled: !!info.oomKilled,
      Error: info.error ?? "",
      FinishedAt: info.exitedAt || rfc3339Nano(),
    };
    if (restart) {
      r.State.Restarting = true;
      r.State.Running = true;
      r.State.Status = "restarting";
      r.RestartCount++;
    }
    if (info.oomKilled) this.events.container("oom", r);
    this.events.container("die", r, { exitCode: String(info.exitCode) });
    await this.#cleanupRuntime(r).catch((e) => log.warn(`cleanup ${r.Id}: ${e}`));
    this.#volumeEvents("unmount", r);
    if (restart) {
      const ranMs = Date.now() - live.startedAtMs;
      live.restartDelay = ranMs >= 10_000 ? 100 : Math.min(
        Math.max(100, live.restartDelay * 2),
        MAX_RESTART_DELAY,
      );
      live.restartTimer = setTimeout(() => {
        live.restartTimer = undefined;
        if (!r.State.Restarting || !this.store.get(r.Id)) return;
        live.serial(async () => {
          if (!r.State.Restarting) return;
          await this.#start(r).catch((e) => {
            log.warn(`restarting ${r.Id}: ${(e as Error).message}`);
            r.State.Restarting = false;
            r.State.Running = false;
            r.State.Status = "exited";
            return this.#record(r, "failed restart");
          });
        });
      }, live.restartDelay);
    }
    await this.#record(r, "exit");
    live.notifyExit(info.exitCode);
    if (r.HostConfig.AutoRemove && !restart && !live.removing) {
      await this.#removeNow(r, true).catch((e) => log.warn(`auto-remove ${r.Id}: ${e}`));
    }
  }

  #shouldRestart(r: ContainerRecord, code: number): boolean {
    if (r.HasBeenManuallyStopped || this.#closing) return false;
    const p = r.HostConfig.RestartPolicy ?? {};
    switch (p.Name) {
      case "always":
      case "unless-stopped":
        return true;
      case "on-failure":
        return code !== 0 && (!p.MaximumRetryCount || r.RestartCount < p.MaximumRetryCount);
      default:
        return false;
    }
  }

  /** Volume mount/unmount events of a container's named and anonymous volumes (moby's). */
  #volumeEvents(action: "mount" | "unmount", r: ContainerRecord): void {
    for (const m of r.MountPoints) {
      if (m.Type !== "volume" || !m.Name) continue;
      this.events.volume(
        action,
        m.Name,
        action === "mount"
          ? {
            container: r.Id,
            destination: m.Destination,
            driver: m.Driver || "local",
            propagation: m.Propagation ?? "",
            "read/write": String(m.RW),
          }
          : { container: r.Id, driver: m.Driver || "local" },
      );
    }
  }

  /** Undo what start set up: runtime state the shim left, network, rootfs mount, shim dir. */
  async #cleanupRuntime(r: ContainerRecord): Promise<void> {
    await this.network?.detach(r).catch((e) => log.warn(`network detach ${r.Id}: ${e}`));
    const dir = this.shimDir(r.Id);
    for (const p of await finishRuntimeCleanup(dir)) {
      log.warn(`container ${r.Id.slice(0, 12)}: ${p}`);
    }
    await unmountRootfs(`${dir}/rootfs`);
    await removeIfExists(dir, { recursive: true });
    await removeIfExists(this.shimSocket(r.Id));
  }

  // ---- stop / kill ----

  /** false when it was not running (304). */
  stop(ref: string, timeout?: number, signal?: string): Promise<boolean> {
    const r = this.resolve(ref);
    return this.live(r.Id).serial(() => this.#stop(r, timeout, signal));
  }

  async #stop(r: ContainerRecord, timeout?: number, signal?: string): Promise<boolean> {
    const live = this.live(r.Id);
    if (r.State.Restarting) {
      if (live.restartTimer) clearTimeout(live.restartTimer);
      live.restartTimer = undefined;
      r.HasBeenManuallyStopped = true;
      r.State = { ...r.State, Restarting: false, Running: false, Status: "exited" };
      await this.#record(r, "stop");
      return true;
    }
    if (!r.State.Running || !live.shim) return false;
    r.HasBeenManuallyStopped = true;
    const sig = parseSignal(signal || r.Config.StopSignal || "SIGTERM");
    const t = timeout ?? r.Config.StopTimeout ?? 10;
    const exited = live.nextExit();
    this.health.stop(r.Id); // no probe execs into a container on its way out
    await this.#signal(r, sig, false).catch(() => {}); // exited meanwhile: the wait below sees it
    await this.#record(r, "stop"); // after the signal: a full disk must not keep it running
    const timedOut = await raceTimeout(exited, t < 0 ? -1 : t * 1000);
    if (timedOut) {
      await this.#signal(r, 9, true).catch(logFailure(`killing ${r.Id}`));
      await raceTimeout(exited, 30_000);
    }
    this.events.container("stop", r);
    return true;
  }

  /**
   * Persist a change that has already happened: a failed write (a full disk)
   * is logged and retried (ContainerStore.saveOrDefer), never in the way.
   */
  async #record(r: ContainerRecord, what: string): Promise<void> {
    const e = await this.store.saveOrDefer(r);
    if (e) log.warn(`container ${r.Id.slice(0, 12)}: recording the ${what} failed: ${e.message}`);
  }

  async #signal(r: ContainerRecord, sig: number, all: boolean): Promise<void> {
    const live = this.live(r.Id);
    const sh = live.shim;
    if (!sh) throw new Conflict(`container ${r.Id} is not running`);
    await sh.call({ op: "kill", signal: sig, all });
    this.events.container("kill", r, { signal: String(sig) });
    if (r.State.Paused && (sig === 9 || sig === 15)) {
      await sh.call({ op: "resume" }).catch(logFailure(`resuming ${r.Id} to let the signal in`));
    }
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const r = this.resolve(ref);
    const sig = parseSignal(signal, 9);
    if (!r.State.Running || r.State.Restarting || !this.live(r.Id).shim) {
      throw new Conflict(`cannot kill container: ${r.Id}: container ${r.Id} is not running`);
    }
    // moby daemon/kill.go killWithSignal: the restart policy is off for the
    // next exit on SIGKILL, on the container's StopSignal, and on any signal
    // when it has none; another signal leaves the policy in force.
    const stopping = sig === 9 || !r.Config.StopSignal ||
      sig === parseSignal(r.Config.StopSignal);
    if (stopping) r.HasBeenManuallyStopped = true;
    const exited = sig === 9 ? this.live(r.Id).nextExit() : undefined;
    await this.#signal(r, sig, false);
    if (stopping) await this.#record(r, "kill"); // after the signal (a full disk)
    // Like moby, SIGKILL returns once the container is gone.
    if (exited) await raceTimeout(exited, 10_000);
  }

  async restart(ref: string, timeout?: number, signal?: string): Promise<void> {
    const r = this.resolve(ref);
    const live = this.live(r.Id);
    await live.serial(async () => {
      await this.#stop(r, timeout, signal);
      await this.#start(r);
    });
    this.events.container("restart", r);
  }

  async pause(ref: string): Promise<void> {
    const r = this.resolve(ref);
    if (!r.State.Running || r.State.Restarting) {
      throw new Conflict(`Container ${r.Id} is not running`);
    }
    if (r.State.Paused) throw new Conflict(`Container ${r.Id} is already paused`);
    await this.shimOf(r).call({ op: "pause" });
    this.health.stop(r.Id);
    r.State = { ...r.State, Paused: true, Status: "paused" };
    await this.#record(r, "pause");
    this.events.container("pause", r);
  }

  async unpause(ref: string): Promise<void> {
    const r = this.resolve(ref);
    if (!r.State.Paused) throw new Conflict(`Container ${r.Id} is not paused`);
    await this.shimOf(r).call({ op: "resume" });
    r.State = { ...r.State, Paused: false, Status: "running" };
    this.health.resume(r);
    await this.#record(r, "unpause");
    this.events.container("unpause", r);
  }

  // ---- remove ----

  remove(ref: string, o: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const r = this.resolve(ref);
    const live = this.live(r.Id);
    return live.serial(async () => {
      if (!this.store.get(r.Id)) throw new NotFound(`No such container: ${ref}`);
      if (r.State.Running) {
        if (!o.force) {
          // moby v20.10.24 daemon/delete.go cleanupContainer.
          const what = r.State.Restarting ? "restarting" : r.State.Paused ? "paused" : "running";
          const how = "stop the container before attempting removal or force remove";
          throw new Conflict(
            `You cannot remove a ${what} container ${r.Id}. ${
              what === "paused" ? `Unpause and then ${how}` : how[0].toUpperCase() + how.slice(1)
            }`,
          );
        }
        live.removing = true;
        this.health.stop(r.Id);
        if (r.State.Restarting) {
          if (live.restartTimer) clearTimeout(live.restartTimer);
          live.restartTimer = undefined;
        } else if (live.shim) {
          const exited = live.nextExit();
          await this.#signal(r, 9, true).catch(() => {}); // exited meanwhile: the wait tells
          if (await raceTimeout(exited, 15_000)) {
            throw new Error(`could not kill container ${r.Id}`);
          }
        }
      }
      await this.#removeNow(r, !!o.volumes);
    });
  }

  async #removeNow(r: ContainerRecord, volumes: boolean): Promise<void> {
    const live = this.live(r.Id);
    live.removing = true;
    if (live.restartTimer) clearTimeout(live.restartTimer);
    r.State.Status = "removing";
    await this.#cleanupRuntime(r).catch(logFailure(`cleanup of ${r.Id}`));
    // Whatever is mounted below the container's dir (e.g. a copy rootfs) goes too;
    // one that stays makes the removal below fail, and say so.
    await unmountRootfs(this.store.dirOf(r.Id)).catch(logFailure(`unmounting ${r.Id}`));
    await this.store.remove(r);
    if (volumes) {
      for (const m of r.MountPoints) {
        if (m.Type === "volume" && m.Anonymous && m.Name) {
          await this.volumes.remove(m.Name).catch(logFailure(`removing volume ${m.Name}`));
        }
      }
    }
    this.#live.delete(r.Id);
    this.health.stop(r.Id);
    this.events.container("destroy", r);
    live.notifyExit(r.State.ExitCode);
    live.notifyRemove(r.State.ExitCode);
    this.#dropExecs(r.Id);
  }

  async rename(ref: string, name: string): Promise<void> {
    const r = this.resolve(ref);
    const { checkName } = await import("./names.ts");
    const n = checkName(name);
    if (n === r.Name) {
      throw new InvalidArgument(`Renaming a container with the same name as its current name`);
    }
    const oldName = r.Name.replace(/^\//, "");
    await this.store.rename(r, n);
    this.events.container("rename", r, { oldName });
  }

  // ---- wait ----

  /**
   * Docker's wait conditions. `ready` is called once the container has been
   * found (so the route can flush its headers before blocking).
   */
  async wait(ref: string, condition: string, ready: () => void): Promise<number> {
    const r = this.resolve(ref);
    const live = this.live(r.Id);
    let p: Promise<number>;
    switch (condition || "not-running") {
      case "not-running":
        p = r.State.Running && !r.State.Restarting
          ? live.nextExit()
          : Promise.resolve(r.State.ExitCode);
        break;
      case "next-exit":
        p = live.nextExit();
        break;
      case "removed":
        p = live.nextRemove();
        break;
      default:
        throw new InvalidArgument(`invalid condition: "${condition}"`);
    }
    ready();
    return await p;
  }

  // ---- recovery / shutdown ----

  /** Reconnect to the shims of running containers; apply restart policies. */
  async recover(): Promise<void> {
    const t0 = performance.now();
    const recs = this.store.list();
    // First drop leftovers of containers that are not running (before any
    // start below creates new shim dirs).
    await this.#sweepShimDirs();
    await Promise.all(recs.map((r) =>
      this.#recoverOne(r).catch((e) => {
        log.warn(`recovering ${r.Id}: ${(e as Error).message}`);
      })
    ));
    // Runtime state no live shim holds (its container is killed with it).
    const held = new Set(
      recs.filter((r) => this.#live.get(r.Id)?.shim).map((r) => r.Id.slice(0, 32)),
    );
    const swept = await sweepRuntimeState(
      `${this.config.execRoot}/rt`,
      (id) => held.has(id),
      this.config.runtimes,
    );
    for (const w of swept) log.warn(`removed orphaned runtime state ${w}`);
    // Restart policies that apply at daemon start.
    for (const r of recs) {
      if (!this.store.get(r.Id) || r.State.Running || !r.HasBeenStartedBefore) continue;
      const p = r.HostConfig.RestartPolicy?.Name;
      if (p === "always" || (p === "unless-stopped" && !r.HasBeenManuallyStopped)) {
        this.start(r.Id).catch((e) => log.warn(`restart ${r.Id}: ${(e as Error).message}`));
      }
    }
    log.info(`containers: recovered ${recs.length} in ${Math.round(performance.now() - t0)} ms`);
    this.#pool.fill();
  }

  async #recoverOne(r: ContainerRecord): Promise<void> {
    if (r.State.Status === "removing") {
      await this.#removeNow(r, false);
      return;
    }
    if (r.State.Restarting) {
      r.State = { ...r.State, Restarting: false, Running: false, Status: "exited" };
      await this.store.save(r);
      if (!r.HasBeenManuallyStopped) {
        this.start(r.Id).catch((e) => log.warn(`restart ${r.Id}: ${(e as Error).message}`));
      }
      return;
    }
    if (!r.State.Running) return;
    const live = this.live(r.Id);
    const dir = this.shimDir(r.Id);
    const shim = new ShimClient(dir, this.shimSocket(r.Id));
    const gen = ++live.gen;
    if (await shim.alive()) {
      live.shim = shim;
      live.startedAtMs = Date.parse(r.State.StartedAt) || Date.now();
      try {
        const st = await shim.call({ op: "state" });
        const paused = st.status === "paused";
        if (paused !== r.State.Paused) {
          r.State = { ...r.State, Paused: paused, Status: paused ? "paused" : "running" };
          await this.#record(r, "pause state");
        }
      } catch { /* the shim did not answer: the monitor started below tells what became of it */ }
      this.#monitor(r, shim, gen);
      if (!r.State.Paused) this.health.resume(r);
      return;
    }
    const info = await readExitFile(dir) ?? await this.#reapDeadShim(r);
    await this.#onExit(r, gen, info);
  }

  /**
   * The shim died without recording an exit: kill what it supervised and
   * clean the runtime's state (core/shim/reap.ts); the rest (network, rootfs,
   * shim dir) goes with the exit. Exit code 137, as Docker reports a
   * container whose shim died (containerd kills it and says SIGKILL).
   */
  async #reapDeadShim(r: ContainerRecord): Promise<ExitInfo> {
    const { found, killed, problems } = await reapContainer(this.shimDir(r.Id));
    for (const p of problems) log.warn(`reaping ${r.Id.slice(0, 12)}: ${p}`);
    log.warn(`container ${r.Id.slice(0, 12)}: shim died; killed ${killed} process(es)`);
    // nothing left to reap at all (an exec-root lost with a reboot): as before
    if (!found) {
      return { exitCode: 255, exitedAt: rfc3339Nano(), error: "container's shim is gone" };
    }
    return {
      exitCode: 137,
      exitedAt: rfc3339Nano(),
      error: killed
        ? "the container's shim died; its processes were killed"
        : "the container's shim died; the exit status is unknown",
    };
  }

  /** Remove shim dirs (and mounts) that belong to no running container. */
  async #sweepShimDirs(): Promise<void> {
    const base = `${this.config.execRoot}/shims`;
    try {
      for await (const e of Deno.readDir(base)) {
        const r = this.store.get(e.name);
        if (r && r.State.Running && !r.State.Restarting) continue;
        const sh = new ShimClient(`${base}/${e.name}`, this.shimSocket(e.name));
        if (await sh.alive()) {
          await sh.call({ op: "shutdown" }).catch(logFailure(`stopping the shim of ${e.name}`));
        } else {
          // a start the daemon's crash interrupted, its shim gone too
          const { problems } = await reapContainer(`${base}/${e.name}`);
          for (const p of problems) log.warn(`reaping ${e.name.slice(0, 12)}: ${p}`);
        }
        await unmountRootfs(`${base}/${e.name}/rootfs`).catch(logFailure(`unmounting ${e.name}`));
        await removeIfExists(`${base}/${e.name}`, { recursive: true })
          .catch(logFailure(`removing the shim dir of ${e.name}`));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) log.warn(`sweeping shim dirs: ${errorText(e)}`);
    }
    const keep = new Set(
      this.store.list().filter((r) => r.State.Running).map((r) => r.Id.slice(0, 24)),
    );
    try {
      for await (const e of Deno.readDir(`${this.config.execRoot}/s`)) {
        if (keep.has(e.name)) continue;
        const path = `${this.config.execRoot}/s/${e.name}`;
        // A warm shim of a previous daemon that never got its hold connection.
        if (e.name.startsWith("w-")) {
          await new ShimClient("", path).call({ op: "shutdown" }).catch(
            logFailure(`stopping ${path}`),
          );
        }
        await removeIfExists(path).catch(logFailure(`removing ${path}`));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) log.warn(`sweeping shim sockets: ${errorText(e)}`);
    }
  }

  /** Daemon shutdown: containers keep running; just stop timers. */
  close(): void {
    this.#closing = true;
    this.#pool.close();
    this.health.close();
    for (const l of this.#live.values()) if (l.restartTimer) clearTimeout(l.restartTimer);
  }

  /** Human-readable state for errors. */
  static zeroTime = ZERO_TIME;
}

/** Resolve true on timeout (ms < 0: never). */
export function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms < 0) return p.then(() => false);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(true), ms);
    p.then(() => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

/** "10m", "1g", "512k", "100" → bytes. */
export function parseSize(s: unknown): number | undefined {
  if (s === undefined || s === null || s === "") return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(String(s).trim());
  if (!m) throw new InvalidArgument(`invalid size: '${s}'`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase()]!;
  return Math.round(Number(m[1]) * mult);
}
