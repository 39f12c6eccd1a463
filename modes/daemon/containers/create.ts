/**
 * `POST /containers/create`: validate the request, merge it with the image
 * config the way moby does, and build the container record.
 * @module
 */
import { InvalidArgument, NotFound } from "../../../core/errdefs/mod.ts";
import type { ImageConfig } from "../../../core/oci/types.ts";
import { type ContainerRecord, ZERO_TIME } from "../../../core/store/containers.ts";
import { configFields, type ContainerCreate } from "../../../core/api/containers.ts";
import type {
  ConfigBody,
  ContainerConfig,
  HostConfig,
  HostConfigBody,
} from "../../../core/api/types.ts";
import type { ImageRecord } from "../../../core/store/images.ts";
import { checkName, newId, randomName } from "./names.ts";
import { parseSignal } from "./signals.ts";
import { checkHealthcheck, mergeHealthcheck } from "./health.ts";
import { rfc3339Nano } from "../../../core/shim/protocol.ts";
import { defaultSecurityOpt, parseSecurityOpt } from "../../../core/oci/seccomp_opts.ts";
import { MASKED_PATHS, READONLY_PATHS } from "../../../core/oci/runtime_spec.ts";

export interface CreateInput {
  body: ContainerCreate;
  name?: string;
  image: ImageRecord;
  imageConfig: ImageConfig;
  runtimes: string[];
  defaultRuntime: string;
  root: string;
  nameTaken: (n: string) => boolean;
}

/** moby's ReplaceOrAppendEnvValues: later values override earlier keys. */
export function mergeEnv(base: string[], over: string[]): string[] {
  const out = [...base];
  const idx = new Map(out.map((e, i) => [e.split("=")[0], i]));
  for (const e of over) {
    const k = e.split("=")[0];
    const i = idx.get(k);
    if (i !== undefined) out[i] = e;
    else {
      idx.set(k, out.length);
      out.push(e);
    }
  }
  return out;
}

/** A stored shape while its defaults are filled in: each field absent, from the body, or final. */
type Draft<S, B> = { [K in keyof S]?: S[K] | (K extends keyof B ? B[K] : never) };

const RESTART = ["", "no", "always", "unless-stopped", "on-failure"];

function checkHostConfig(hc: HostConfigBody, runtimes: string[]): void {
  const rp = hc.RestartPolicy ?? {};
  if (!RESTART.includes(rp.Name ?? "")) {
    throw new InvalidArgument(`invalid restart policy '${rp.Name}'`);
  }
  if ((rp.MaximumRetryCount ?? 0) < 0) {
    throw new InvalidArgument("invalid restart policy: maximum retry count cannot be negative");
  }
  if (rp.Name !== "on-failure" && (rp.MaximumRetryCount ?? 0) > 0) {
    throw new InvalidArgument(
      `invalid restart policy: maximum retry count can only be used with 'on-failure'`,
    );
  }
  if (hc.AutoRemove && rp.Name && rp.Name !== "no") {
    throw new InvalidArgument(
      "conflicting options: cannot specify both --restart and --rm",
    );
  }
  if (hc.Runtime && !runtimes.includes(hc.Runtime)) {
    throw new InvalidArgument(`unknown or invalid runtime name: ${hc.Runtime}`);
  }
  if (hc.Memory && hc.Memory > 0 && hc.Memory < 6 * 1024 * 1024) {
    throw new InvalidArgument("Minimum memory limit allowed is 6MB");
  }
  if (hc.NanoCpus && hc.NanoCpus > navigator.hardwareConcurrency * 1e9) {
    throw new InvalidArgument(
      `Range of CPUs is from 0.01 to ${navigator.hardwareConcurrency}.00, as there are only ${navigator.hardwareConcurrency} CPUs available`,
    );
  }
}

export function buildRecord(inp: CreateInput): ContainerRecord {
  const b = inp.body ?? {};
  const hc: Draft<HostConfig, HostConfigBody> = { ...(b.HostConfig ?? {}) };
  checkHostConfig(b.HostConfig ?? {}, inp.runtimes);
  const id = newId();
  const name = inp.name ? checkName(inp.name) : `/${randomName(inp.nameTaken)}`;
  const img = inp.imageConfig.config ?? {};

  // Config = user config merged with the image's (moby daemon/create.go merge()).
  const cfg: Draft<ContainerConfig, ConfigBody> = {};
  for (const k of Object.keys(configFields) as (keyof ConfigBody)[]) {
    if (b[k] !== undefined) copyField(cfg, b, k);
  }
  cfg.Hostname ||= "";
  cfg.Domainname ??= "";
  cfg.User ||= img.User ?? "";
  cfg.AttachStdin = !!cfg.AttachStdin;
  cfg.AttachStdout = !!cfg.AttachStdout;
  cfg.AttachStderr = !!cfg.AttachStderr;
  cfg.Tty = !!cfg.Tty;
  cfg.OpenStdin = !!cfg.OpenStdin;
  cfg.StdinOnce = !!cfg.StdinOnce;
  cfg.Env = mergeEnv(img.Env ?? [], cfg.Env ?? []);
  const userEntry = cfg.Entrypoint;
  let userCmd = cfg.Cmd;
  if (!userEntry || userEntry.length === 0) {
    if (!userCmd || userCmd.length === 0) userCmd = img.Cmd ?? null;
    cfg.Entrypoint = userEntry === undefined || userEntry === null
      ? (img.Entrypoint ?? null)
      : userEntry;
  }
  cfg.Cmd = userCmd ?? null;
  if (cfg.Entrypoint && cfg.Entrypoint.length === 1 && cfg.Entrypoint[0] === "") {
    cfg.Entrypoint = null;
  }
  cfg.WorkingDir ||= img.WorkingDir ?? "";
  if (cfg.WorkingDir && !cfg.WorkingDir.startsWith("/")) {
    throw new InvalidArgument(
      `the working directory '${cfg.WorkingDir}' is invalid, it needs to be an absolute path`,
    );
  }
  cfg.Labels = { ...(img.Labels ?? {}), ...(cfg.Labels ?? {}) };
  cfg.Healthcheck = mergeHealthcheck(cfg.Healthcheck, img.Healthcheck);
  checkHealthcheck(cfg.Healthcheck);
  cfg.StopSignal ||= img.StopSignal || undefined;
  if (cfg.StopSignal) parseSignal(cfg.StopSignal);
  if (img.ExposedPorts || cfg.ExposedPorts) {
    cfg.ExposedPorts = { ...(img.ExposedPorts ?? {}), ...(cfg.ExposedPorts ?? {}) };
  }
  const vols = { ...(img.Volumes ?? {}), ...(cfg.Volumes ?? {}) };
  cfg.Volumes = Object.keys(vols).length ? vols : null;
  cfg.OnBuild ??= null;
  cfg.Image = b.Image;
  const argv = [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])];
  if (argv.length === 0) throw new InvalidArgument("no command specified");

  hc.NetworkMode = !hc.NetworkMode || hc.NetworkMode === "default" ? "bridge" : hc.NetworkMode;
  if (!cfg.Hostname) cfg.Hostname = hc.NetworkMode === "host" ? Deno.hostname() : id.slice(0, 12);
  const restartPolicy = {
    Name: hc.RestartPolicy?.Name || "no",
    MaximumRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0,
  };
  hc.RestartPolicy = restartPolicy;
  const logConfig = { Type: hc.LogConfig?.Type || "json-file", Config: hc.LogConfig?.Config ?? {} };
  hc.LogConfig = logConfig;
  if (!["json-file", "none"].includes(logConfig.Type)) {
    throw new InvalidArgument(`logger: no log driver named '${logConfig.Type}' is registered`);
  }
  hc.Runtime ||= inp.defaultRuntime;
  hc.ShmSize ||= 64 * 1024 * 1024;
  hc.Binds ??= null;
  hc.PortBindings ??= {};
  hc.AutoRemove = !!hc.AutoRemove;
  hc.Privileged = !!hc.Privileged;
  hc.ReadonlyRootfs = !!hc.ReadonlyRootfs;
  hc.CapAdd ??= null;
  hc.CapDrop ??= null;
  hc.Dns ??= [];
  hc.DnsOptions ??= [];
  hc.DnsSearch ??= [];
  hc.ExtraHosts ??= null;
  hc.GroupAdd ??= null;
  hc.IpcMode ||= "private";
  hc.PidMode ??= "";
  hc.UTSMode ??= "";
  hc.CgroupnsMode ||= "private";
  parseSecurityOpt(hc.SecurityOpt); // Docker's errors at create; a profile is read at start
  hc.SecurityOpt ??= defaultSecurityOpt(hc);
  hc.ConsoleSize ??= [0, 0];
  hc.Isolation ??= "";
  hc.Memory ??= 0;
  // moby adaptContainerSettings: swap defaults to twice the memory (update checks against it)
  if (hc.Memory > 0 && !hc.MemorySwap) hc.MemorySwap = hc.Memory * 2;
  hc.NanoCpus ??= 0;
  hc.CpuShares ??= 0;
  hc.PidsLimit ??= null;
  // moby daemon/create_unix.go: the defaults are recorded at create (null
  // stays null for a privileged container; [] masks nothing). The recorded
  // list is Docker 20.10's; the spec adds EXTRA_MASKED_PATHS to it (runtime_spec.ts).
  if (!hc.Privileged) {
    hc.MaskedPaths ??= [...MASKED_PATHS];
    hc.ReadonlyPaths ??= [...READONLY_PATHS];
  }
  hc.Ulimits ??= null;
  hc.Mounts ??= undefined;

  // every key is set by now: the draft's key order is the stored (and inspected) order
  const config: ContainerConfig = {
    ...cfg,
    Hostname: cfg.Hostname,
    Domainname: cfg.Domainname,
    User: cfg.User,
    AttachStdin: cfg.AttachStdin,
    AttachStdout: cfg.AttachStdout,
    AttachStderr: cfg.AttachStderr,
    Tty: cfg.Tty,
    OpenStdin: cfg.OpenStdin,
    StdinOnce: cfg.StdinOnce,
    Env: cfg.Env,
    Cmd: cfg.Cmd,
    Image: cfg.Image ?? "",
    Volumes: cfg.Volumes,
    WorkingDir: cfg.WorkingDir,
    Entrypoint: cfg.Entrypoint ?? null, // set above: never undefined here
    OnBuild: cfg.OnBuild,
    Labels: cfg.Labels,
  };

  const hostConfig: HostConfig = {
    ...hc,
    Binds: hc.Binds,
    LogConfig: logConfig,
    NetworkMode: hc.NetworkMode,
    PortBindings: hc.PortBindings,
    RestartPolicy: restartPolicy,
    AutoRemove: hc.AutoRemove,
    CapAdd: hc.CapAdd,
    CapDrop: hc.CapDrop,
    CgroupnsMode: hc.CgroupnsMode,
    Dns: hc.Dns,
    DnsOptions: hc.DnsOptions,
    DnsSearch: hc.DnsSearch,
    ExtraHosts: hc.ExtraHosts,
    GroupAdd: hc.GroupAdd,
    IpcMode: hc.IpcMode,
    PidMode: hc.PidMode,
    Privileged: hc.Privileged,
    ReadonlyRootfs: hc.ReadonlyRootfs,
    SecurityOpt: hc.SecurityOpt,
    UTSMode: hc.UTSMode,
    ShmSize: hc.ShmSize,
    Runtime: hc.Runtime,
    ConsoleSize: hc.ConsoleSize,
    Isolation: hc.Isolation,
    Memory: hc.Memory,
    NanoCpus: hc.NanoCpus,
    CpuShares: hc.CpuShares,
    PidsLimit: hc.PidsLimit,
    Ulimits: hc.Ulimits,
  };

  const dir = `${inp.root}/containers/${id}`;
  const now = rfc3339Nano();
  return {
    Id: id,
    Created: now,
    Path: argv[0],
    Args: argv.slice(1),
    State: {
      Status: "created",
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: 0,
      Error: "",
      StartedAt: ZERO_TIME,
      FinishedAt: ZERO_TIME,
    },
    Image: inp.image.id,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: hostConfig.LogConfig.Type === "json-file" ? `${dir}/${id}-json.log` : "",
    Name: name,
    RestartCount: 0,
    Driver: "overlay2",
    Platform: "linux",
    Config: config,
    HostConfig: hostConfig,
    NetworkSettings: {},
    MountPoints: [],
    HasBeenStartedBefore: false,
    HasBeenManuallyStopped: false,
    Layers: [...inp.image.chainIds],
  };
}

export function imageNotFound(ref: string): NotFound {
  return new NotFound(`No such image: ${ref}`);
}

/** Copy one field of a body into a draft of the same shape. */
function copyField<K extends keyof ConfigBody>(
  to: Draft<ContainerConfig, ConfigBody>,
  from: ConfigBody,
  k: K,
): void {
  to[k] = from[k];
}
