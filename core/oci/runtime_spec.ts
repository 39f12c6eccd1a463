/**
 * Generate an OCI runtime spec (config.json) from a container description in
 * Docker's terms: the merged container Config, HostConfig bits, the resolved
 * user and the mounts the daemon resolved. Pure. Docker's defaults: mounts,
 * capabilities, masked/read-only paths, devices, the seccomp profile
 * (seccomp_opts.ts); `Privileged` lifts them. Not generated: apparmor.
 *
 * @example
 * ```ts
 * const spec = generateSpec({
 *   id, rootfs: "/var/lib/berth/containers/ID/merged",
 *   config: { Cmd: ["sh"], Env: ["PATH=/bin"], Tty: true },
 *   user: await resolveUser(rootfs, ""), host: { Memory: 64 << 20 },
 * });
 * await Deno.writeTextFile(`${bundle}/config.json`, JSON.stringify(spec));
 * ```
 * @module
 */

import type { ImageRunConfig } from "./types.ts";
import type {
  OciDevice,
  OciDeviceCgroup,
  OciMount,
  OciNamespace,
  OciResources,
  OciRlimit,
  OciSpec,
} from "./runtime_types.ts";
import type { ResolvedUser } from "./user.ts";
import { CAPABILITIES, DEFAULT_CAPS, normalizeCap } from "./caps.ts";
import { parseSecurityOpt, seccompFor } from "./seccomp_opts.ts";
import type { SeccompEnv } from "./seccomp_profile.ts";
import { InvalidArgument } from "../errdefs/mod.ts";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The container Config fields that matter here (Docker's names). */
export interface ContainerConfigInput {
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Hostname?: string;
  Domainname?: string;
  Tty?: boolean;
}

/** HostConfig fields used (Docker's names and units). */
export interface HostConfigInput {
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  SecurityOpt?: string[] | null;
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  NanoCpus?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpuShares?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  /** as decoded: a field left out is Go's zero value */
  Ulimits?: { Name?: string; Soft?: number; Hard?: number }[] | null;
  OomScoreAdj?: number;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  NetworkMode?: string;
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  CgroupnsMode?: string;
  GroupAdd?: string[] | null;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}

/** A mount the daemon resolved (volumes are binds of their _data dir). */
export interface MountInput {
  type: "bind" | "tmpfs";
  source?: string;
  destination: string;
  readOnly?: boolean;
  /** extra options: propagation ("rshared"), tmpfs "size=…", "mode=…", "nosuid", … */
  options?: string[];
}

export interface SpecInput {
  id: string;
  /** absolute path of the (already mounted) rootfs */
  rootfs: string;
  /** merged Config (see mergeImageConfig) */
  config: ContainerConfigInput;
  user?: ResolvedUser;
  host?: HostConfigInput;
  mounts?: MountInput[];
  /** host files bound on /etc/hosts, /etc/hostname, /etc/resolv.conf */
  etc?: { hosts?: string; hostname?: string; resolvConf?: string };
  /** default /berth/<id> */
  cgroupsPath?: string;
  /** network namespace to join (NetworkMode container:… or a prepared netns) */
  netnsPath?: string;
  /** other namespaces to join, e.g. { ipc: "/proc/123/ns/ipc" } */
  joinNamespaces?: Partial<Record<OciNamespace["type"], string>>;
  /** extra device nodes (e.g. --device, or the host's devices for --privileged) */
  devices?: OciDevice[];
  /** device cgroup allow rules after the defaults (--device, --device-cgroup-rule) */
  deviceRules?: OciDeviceCgroup[];
  /** capabilities the host can grant: others are dropped from the result */
  hostCaps?: readonly string[];
  /**
   * `--init`: host path of a static init (tini-static, Docker's docker-init);
   * it is bound read-only on /sbin/docker-init and runs the command as its child.
   */
  init?: string;
  /** architecture and kernel the seccomp profile is resolved for (default: this host) */
  seccompEnv?: Omit<SeccompEnv, "caps">;
}

/** Where Docker (and berth) put the --init binary inside the container. */
export const INIT_PATH = "/sbin/docker-init";

/** Docker's rules to merge the image's config with the container's. */
export function mergeImageConfig(
  image: ImageRunConfig | undefined,
  c: ContainerConfigInput,
): ContainerConfigInput {
  const env = new Map<string, string>();
  for (const e of [...(image?.Env ?? []), ...(c.Env ?? [])]) {
    const k = e.includes("=") ? e.slice(0, e.indexOf("=")) : e;
    env.delete(k);
    env.set(k, e);
  }
  const userEntrypoint = c.Entrypoint !== undefined && c.Entrypoint !== null;
  return {
    ...c,
    Env: [...env.values()],
    Entrypoint: userEntrypoint ? c.Entrypoint : image?.Entrypoint ?? null,
    Cmd: c.Cmd && c.Cmd.length ? c.Cmd : userEntrypoint ? null : image?.Cmd ?? null,
    WorkingDir: c.WorkingDir || image?.WorkingDir || "",
    User: c.User || image?.User || "",
  };
}

/** Docker's capability arithmetic (moby caps.TweakCapabilities). */
export function tweakCapabilities(
  add: readonly string[] = [],
  drop: readonly string[] = [],
  privileged = false,
): string[] {
  if (privileged) return [...CAPABILITIES];
  const norm = (l: readonly string[]) =>
    l.map((n) => {
      const c = normalizeCap(n);
      if (c !== "ALL" && !CAPABILITIES.includes(c)) {
        throw new InvalidArgument(`unknown capability: "${c}"`);
      }
      return c;
    });
  const a = norm(add), d = norm(drop);
  let caps: string[];
  if (a.includes("ALL")) caps = CAPABILITIES.filter((c) => !d.includes(c));
  else if (d.includes("ALL")) caps = a;
  else caps = [...DEFAULT_CAPS.filter((c) => !d.includes(c)), ...a];
  return [...new Set(caps)];
}

/** The default masked paths a container records in HostConfig.MaskedPaths: Docker 20.10's list
 * (moby v20.10.24 oci/defaults.go), which clients and Docker's own API tests compare with. */
export const MASKED_PATHS = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
];
/** Masked too when a container has the default list: what later Docker releases added (powercap:
 * the PLATYPUS power side channel; /proc/interrupts: thermal interrupt counts). Not recorded in
 * HostConfig, like the default seccomp profile; an explicit MaskedPaths is applied exactly. */
export const EXTRA_MASKED_PATHS = ["/proc/interrupts", "/sys/devices/virtual/powercap"];

/** The masked paths a container's spec gets from its HostConfig. */
export function maskedPathsFor(recorded: string[] | null | undefined): string[] {
  const list = recorded ?? MASKED_PATHS;
  const isDefault = list.length === MASKED_PATHS.length &&
    MASKED_PATHS.every((p) => list.includes(p));
  return isDefault ? [...list, ...EXTRA_MASKED_PATHS] : list;
}
export const READONLY_PATHS = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

const dev = (path: string, major: number, minor: number): OciDevice => ({
  type: "c",
  path,
  major,
  minor,
  fileMode: 0o666,
  uid: 0,
  gid: 0,
});
export const DEFAULT_DEVICES: OciDevice[] = [
  dev("/dev/null", 1, 3),
  dev("/dev/zero", 1, 5),
  dev("/dev/full", 1, 7),
  dev("/dev/random", 1, 8),
  dev("/dev/urandom", 1, 9),
  dev("/dev/tty", 5, 0),
];
const allow = (
  type: "c" | "b",
  major: number | null,
  minor: number | null,
  access = "rwm",
): OciDeviceCgroup => ({
  allow: true,
  type,
  major,
  minor,
  access,
});
/** deny everything, then runc's allow-list (what Docker containers get) */
export const DEFAULT_DEVICE_RULES: OciDeviceCgroup[] = [
  { allow: false, access: "rwm" },
  allow("c", null, null, "m"),
  allow("b", null, null, "m"),
  allow("c", 1, 3),
  allow("c", 1, 5),
  allow("c", 1, 7),
  allow("c", 1, 8),
  allow("c", 1, 9),
  allow("c", 5, 0),
  allow("c", 5, 1),
  allow("c", 5, 2),
  allow("c", 136, null),
  allow("c", 10, 200),
];

function defaultMounts(privileged: boolean, shmSize: number): OciMount[] {
  const sysOpts = privileged ? ["nosuid", "noexec", "nodev"] : ["nosuid", "noexec", "nodev", "ro"];
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: sysOpts },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: privileged ? ["nosuid", "noexec", "nodev"] : ["ro", "nosuid", "noexec", "nodev"],
    },
    {
      destination: "/dev/mqueue",
      type: "mqueue",
      source: "mqueue",
      options: ["nosuid", "noexec", "nodev"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${shmSize}`],
    },
  ];
}

const depth = (p: string) => p.split("/").filter((x) => x).length;

function userMounts(input: SpecInput): OciMount[] {
  const out: OciMount[] = [];
  const e = input.etc ?? {};
  for (
    const [dst, src] of [["/etc/resolv.conf", e.resolvConf], ["/etc/hostname", e.hostname], [
      "/etc/hosts",
      e.hosts,
    ]]
  ) {
    if (src) {
      out.push({ destination: dst!, type: "bind", source: src, options: ["rbind", "rprivate"] });
    }
  }
  if (input.init) {
    out.push({ destination: INIT_PATH, type: "bind", source: input.init, options: ["bind", "ro"] });
  }
  for (const m of input.mounts ?? []) {
    const ro = m.readOnly ? ["ro"] : [];
    if (m.type === "tmpfs") {
      out.push({
        destination: m.destination,
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "nodev", "noexec", ...ro, ...(m.options ?? [])],
      });
    } else {
      const opts = m.options ?? [];
      const prop = opts.some((o) => /^r?(private|shared|slave|unbindable)$/.test(o))
        ? []
        : ["rprivate"];
      out.push({
        destination: m.destination,
        type: "bind",
        source: m.source,
        options: ["rbind", ...prop, ...ro, ...opts],
      });
    }
  }
  // parents before children, stable otherwise (Docker sorts by depth)
  return out.map((m, i) => [m, i] as const)
    .sort((a, b) => depth(a[0].destination) - depth(b[0].destination) || a[1] - b[1])
    .map(([m]) => m);
}

const RLIMIT = (n: string) => "RLIMIT_" + n.toUpperCase();

/** Build config.json. Throws InvalidArgument for bad input (no command, bad cap, …). */
/** HostConfig's CPU fields as OCI resources (--cpus is a quota over a 100 ms period); undefined if none. */
export function cpuResources(
  h: {
    NanoCpus?: number;
    CpuPeriod?: number;
    CpuQuota?: number;
    CpuShares?: number;
    CpusetCpus?: string;
    CpusetMems?: string;
  },
): OciResources["cpu"] {
  const cpu: NonNullable<OciResources["cpu"]> = {};
  if (h.NanoCpus) {
    cpu.period = 100000;
    cpu.quota = Math.round((h.NanoCpus * 100000) / 1e9);
  }
  if (h.CpuPeriod) cpu.period = h.CpuPeriod;
  if (h.CpuQuota) cpu.quota = h.CpuQuota;
  if (h.CpuShares) cpu.shares = h.CpuShares;
  if (h.CpusetCpus) cpu.cpus = h.CpusetCpus;
  if (h.CpusetMems) cpu.mems = h.CpusetMems;
  return Object.keys(cpu).length ? cpu : undefined;
}

export function generateSpec(input: SpecInput): OciSpec {
  const h = input.host ?? {};
  const cfg = input.config;
  const privileged = !!h.Privileged;
  let args = [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])];
  if (!args.length) throw new InvalidArgument("No command specified");
  if (input.init) args = [INIT_PATH, "--", ...args];
  const user = input.user ?? { uid: 0, gid: 0, additionalGids: [], home: "/" };
  const hostname = cfg.Hostname || input.id.slice(0, 12);
  const env = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, ...(cfg.Tty ? ["TERM=xterm"] : [])];
  for (const e of cfg.Env ?? []) {
    const k = e.includes("=") ? e.slice(0, e.indexOf("=") + 1) : e + "=";
    const i = env.findIndex((x) => x.startsWith(k));
    if (i >= 0) env[i] = e;
    else env.push(e);
  }
  if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${user.home || "/"}`);
  let caps = tweakCapabilities(h.CapAdd ?? [], h.CapDrop ?? [], privileged);
  if (input.hostCaps) caps = caps.filter((c) => input.hostCaps!.includes(c));
  const sec = parseSecurityOpt(h.SecurityOpt);
  const nnp = sec.noNewPrivileges;
  const seccomp = seccompFor(sec, privileged, { ...input.seccompEnv, caps });
  const groupAdd = (h.GroupAdd ?? []).map((g) => {
    if (!/^\d+$/.test(g)) {
      throw new InvalidArgument(`unable to find group ${g}: no matching entries in group file`);
    }
    return Number(g);
  });
  const rlimits: OciRlimit[] = (h.Ulimits ?? []).map((u) => ({
    type: RLIMIT(u.Name ?? ""),
    soft: u.Soft ?? 0,
    hard: u.Hard ?? 0,
  }));

  const ns: OciNamespace[] = [{ type: "mount" }];
  const join = input.joinNamespaces ?? {};
  const add = (type: OciNamespace["type"], host: boolean) => {
    if (join[type]) ns.push({ type, path: join[type] });
    else if (!host) ns.push({ type });
  };
  add("pid", h.PidMode === "host");
  if (input.netnsPath) ns.push({ type: "network", path: input.netnsPath });
  else add("network", h.NetworkMode === "host");
  add("ipc", h.IpcMode === "host");
  add("uts", h.UTSMode === "host");
  add("cgroup", h.CgroupnsMode === "host");

  const userMs = userMounts(input);
  const taken = new Set(userMs.map((m) => m.destination.replace(/\/+$/, "")));
  const mounts = [
    ...defaultMounts(privileged, h.ShmSize && h.ShmSize > 0 ? h.ShmSize : 64 << 20)
      .filter((m) => !taken.has(m.destination)),
    ...userMs,
  ];

  const memory: NonNullable<OciSpec["linux"]>["resources"] = {};
  if (h.Memory || h.MemoryReservation || h.OomKillDisable || (h.MemorySwappiness ?? -1) >= 0) {
    memory.memory = {};
    if (h.Memory) {
      memory.memory.limit = h.Memory;
      memory.memory.swap = h.MemorySwap === -1 ? -1 : h.MemorySwap || h.Memory * 2;
    }
    if (h.MemoryReservation) memory.memory.reservation = h.MemoryReservation;
    if (h.OomKillDisable) memory.memory.disableOOMKiller = true;
    if ((h.MemorySwappiness ?? -1) >= 0) memory.memory.swappiness = h.MemorySwappiness!;
  }
  const cpu = cpuResources(h);
  if (cpu) memory.cpu = cpu;
  if (h.PidsLimit && h.PidsLimit > 0) memory.pids = { limit: h.PidsLimit };
  memory.devices = privileged
    ? [{ allow: true, access: "rwm" }]
    : [...DEFAULT_DEVICE_RULES, ...(input.deviceRules ?? [])];

  return {
    ociVersion: "1.0.2",
    process: {
      terminal: !!cfg.Tty,
      user: {
        uid: user.uid,
        gid: user.gid,
        // The primary group is among the supplementary ones, as moby's getUser
        // has it since 20.10.18 (CVE-2022-36109; daemon/oci_linux.go).
        additionalGids: [...new Set([user.gid, ...user.additionalGids, ...groupAdd])],
      },
      args,
      env,
      cwd: cfg.WorkingDir || "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(rlimits.length ? { rlimits } : {}),
      noNewPrivileges: nnp,
      ...(h.OomScoreAdj !== undefined ? { oomScoreAdj: h.OomScoreAdj } : {}),
    },
    root: { path: input.rootfs, readonly: !!h.ReadonlyRootfs },
    hostname: ns.some((n) => n.type === "uts" && !n.path) ? hostname : undefined,
    ...(cfg.Domainname ? { domainname: cfg.Domainname } : {}),
    mounts,
    linux: {
      namespaces: ns,
      devices: [
        ...DEFAULT_DEVICES,
        ...(input.devices ?? []).filter((d) => !DEFAULT_DEVICES.some((x) => x.path === d.path)),
      ],
      cgroupsPath: input.cgroupsPath ?? `/berth/${input.id}`,
      resources: memory,
      ...(h.Sysctls && Object.keys(h.Sysctls).length ? { sysctl: { ...h.Sysctls } } : {}),
      maskedPaths: privileged ? [] : maskedPathsFor(h.MaskedPaths),
      readonlyPaths: privileged ? [] : h.ReadonlyPaths ?? READONLY_PATHS,
      ...(seccomp ? { seccomp } : {}),
    },
  };
}
