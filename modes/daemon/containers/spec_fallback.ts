/**
 * Stand-in OCI spec generator (Docker's defaults, the subset berth needs)
 * used until core/oci/runtime_spec.ts is available. Kept small on purpose.
 * @module
 */
import type { OciMount, OciSpec } from "../../../core/oci/runtime_types.ts";
import { CAPABILITIES, DEFAULT_CAPS, normalizeCap } from "../../../core/oci/caps.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { SpecInput } from "./spec.ts";

const MASKED = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];
const READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

async function readEtc(rootfs: string, f: string): Promise<string[][]> {
  try {
    return (await Deno.readTextFile(`${rootfs}/etc/${f}`)).split("\n").filter((l) =>
      l && !l.startsWith("#")
    ).map((l) => l.split(":"));
  } catch {
    return [];
  }
}

/** Docker's user resolution: name|uid[:group|gid] through the image's passwd/group. */
export async function resolveUserFallback(
  rootfs: string,
  spec: string,
  groupAdd: string[] = [],
): Promise<{ uid: number; gid: number; additionalGids: number[] }> {
  const [u, g] = (spec || "0").split(":");
  const passwd = await readEtc(rootfs, "passwd");
  const group = await readEtc(rootfs, "group");
  let uid: number, gid = 0, name = "";
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const ent = passwd.find((p) => p[2] === u);
    if (ent) {
      gid = Number(ent[3]);
      name = ent[0];
    }
  } else {
    const ent = passwd.find((p) => p[0] === u);
    if (!ent) {
      throw new InvalidArgument(
        `unable to find user ${u}: no matching entries in passwd file`,
      );
    }
    uid = Number(ent[2]);
    gid = Number(ent[3]);
    name = ent[0];
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const ent = group.find((x) => x[0] === g);
      if (!ent) {
        throw new InvalidArgument(`unable to find group ${g}: no matching entries in group file`);
      }
      gid = Number(ent[2]);
    }
  }
  const extra = new Set<number>();
  if (name && g === undefined) {
    for (const ent of group) {
      if ((ent[3] ?? "").split(",").includes(name)) extra.add(Number(ent[2]));
    }
  }
  for (const a of groupAdd) {
    if (/^\d+$/.test(a)) extra.add(Number(a));
    else {
      const ent = group.find((x) => x[0] === a);
      if (ent) extra.add(Number(ent[2]));
    }
  }
  extra.delete(gid);
  return { uid, gid, additionalGids: [gid, ...extra] };
}

export async function fallbackSpec(inp: SpecInput, user: OciMount[]): Promise<OciSpec> {
  const r = inp.record;
  const c = r.Config, hc = r.HostConfig;
  let caps: string[];
  if (hc.Privileged) caps = [...CAPABILITIES];
  else {
    const set = new Set(DEFAULT_CAPS.map(normalizeCap));
    for (const a of hc.CapAdd ?? []) {
      if (String(a).toUpperCase() === "ALL") CAPABILITIES.forEach((x) => set.add(x));
      else set.add(normalizeCap(a));
    }
    for (const d of hc.CapDrop ?? []) {
      if (String(d).toUpperCase() === "ALL") set.clear();
      else set.delete(normalizeCap(d));
    }
    caps = [...set];
  }
  const u = await resolveUserFallback(inp.rootfs, c.User, hc.GroupAdd ?? []);
  const env = [...(c.Env ?? [])];
  if (!env.some((e) => e.startsWith("PATH="))) {
    env.unshift("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }
  if (!env.some((e) => e.startsWith("HOSTNAME="))) env.push(`HOSTNAME=${c.Hostname}`);
  if (c.Tty && !env.some((e) => e.startsWith("TERM="))) env.push("TERM=xterm");
  const ns: { type: "pid" | "network" | "mount" | "ipc" | "uts" | "cgroup" }[] = [
    { type: "mount" },
    { type: "pid" },
    { type: "ipc" },
    { type: "uts" },
    { type: "cgroup" },
  ];
  if (hc.NetworkMode !== "host") ns.push({ type: "network" });
  const mounts: OciMount[] = [
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
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", hc.Privileged ? "rw" : "ro"],
    },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["ro", "nosuid", "noexec", "nodev"],
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
      options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${hc.ShmSize}`],
    },
    ...user,
  ];
  const resources: Record<string, unknown> = {
    devices: [{ allow: false, access: "rwm" }],
  };
  if (hc.Memory) resources.memory = { limit: hc.Memory };
  const cpu: Record<string, number> = {};
  if (hc.CpuShares) cpu.shares = hc.CpuShares;
  if (hc.NanoCpus) {
    cpu.period = 100000;
    cpu.quota = Math.round(hc.NanoCpus / 1e9 * 100000);
  }
  if (Object.keys(cpu).length) resources.cpu = cpu;
  if (hc.PidsLimit && hc.PidsLimit > 0) resources.pids = { limit: hc.PidsLimit };
  const noNewPriv = (hc.SecurityOpt ?? []).some((s: string) =>
    s === "no-new-privileges" || s === "no-new-privileges:true" || s === "no-new-privileges=true"
  );
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: !!c.Tty,
      consoleSize: hc.ConsoleSize?.[0]
        ? { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] }
        : undefined,
      user: u,
      args: [r.Path, ...r.Args],
      env,
      cwd: c.WorkingDir || "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: (hc.Ulimits ?? []).map((l: { Name: string; Soft: number; Hard: number }) => ({
        type: `RLIMIT_${l.Name.toUpperCase()}`,
        soft: l.Soft,
        hard: l.Hard,
      })),
      noNewPrivileges: noNewPriv,
    },
    root: { path: inp.rootfs, readonly: !!hc.ReadonlyRootfs },
    hostname: c.Hostname,
    mounts,
    linux: {
      namespaces: ns,
      cgroupsPath: `/berth/${r.Id}`,
      resources: resources as never,
      maskedPaths: hc.Privileged ? [] : MASKED,
      readonlyPaths: hc.Privileged ? [] : READONLY,
    },
  };
}
