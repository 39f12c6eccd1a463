/**
 * `run`/`create` flags → the Engine API create body (Config + HostConfig +
 * NetworkingConfig), as the docker CLI builds it (cli/command/container/opts.go).
 * @module
 */
import type { Command } from "../flags.ts";
import { collect, type Flags, kvMap } from "../cli.ts";
import { parsePortSpecs } from "../../../core/net/ports.ts";
import { parseDuration } from "../../../core/units.ts";
import { messageOf } from "../../../core/errdefs/mod.ts";
import { runNetworking } from "./networks.ts";
import { checkDeviceCgroupRule, parseDevice } from "./device_opts.ts";
import type {
  ContainerCreateRequest,
  EmptySet,
  HealthConfig,
  HostConfigBody,
  Mount,
  PortMap,
  Wire,
} from "../../../core/api/types.ts";

/** Register docker's container flags on a command. */
export function containerFlags(c: Command): Command {
  return c
    .option("-a, --attach <stream>", "Attach to STDIN, STDOUT or STDERR", collect)
    .option("--add-host <host:ip>", "Add a custom host-to-IP mapping", collect)
    .option("--cap-add <cap>", "Add Linux capabilities", collect)
    .option("--cap-drop <cap>", "Drop Linux capabilities", collect)
    .option("--cidfile <file>", "Write the container ID to the file")
    .option("-c, --cpu-shares <int>", "CPU shares (relative weight)")
    .option("--cpus <decimal>", "Number of CPUs")
    .option("--cpuset-cpus <string>", "CPUs in which to allow execution (0-3, 0,1)")
    .option("--device <device>", "Add a host device to the container", collect)
    .option(
      "--device-cgroup-rule <rule>",
      "Add a rule to the cgroup allowed devices list",
      collect,
    )
    .option("--dns <ip>", "Set custom DNS servers", collect)
    .option("--dns-option <opt>", "Set DNS options", collect)
    .option("--dns-search <domain>", "Set custom DNS search domains", collect)
    .option("--domainname <string>", "Container NIS domain name")
    .option("--entrypoint <string>", "Overwrite the default ENTRYPOINT of the image")
    .option("-e, --env <list>", "Set environment variables", collect)
    .option("--env-file <file>", "Read in a file of environment variables", collect)
    .option("--expose <port>", "Expose a port or a range of ports", collect)
    .option("--group-add <group>", "Add additional groups to join", collect)
    .option("-h, --hostname <string>", "Container host name")
    .option("--init", "Run an init inside the container that forwards signals and reaps processes")
    .option("-i, --interactive", "Keep STDIN open even if not attached")
    .option("--ipc <string>", "IPC mode to use")
    .option("-l, --label <list>", "Set meta data on a container", collect)
    .option("--label-file <file>", "Read in a line delimited file of labels", collect)
    .option("--log-driver <string>", "Logging driver for the container")
    .option("--log-opt <list>", "Log driver options", collect)
    .option("-m, --memory <bytes>", "Memory limit")
    .option(
      "--memory-swap <bytes>",
      "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
    )
    .option("--mount <mount>", "Attach a filesystem mount to the container", collect)
    .option("--name <string>", "Assign a name to the container")
    .option("--network, --net <network>", "Connect a container to a network")
    .option("--network-alias <alias>", "Add network-scoped alias for the container", collect)
    .option("--ip <string>", "IPv4 address (e.g., 172.30.100.104)")
    .option("--mac-address <string>", "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
    .option("--oom-kill-disable", "Disable OOM Killer")
    .option("--pid <string>", "PID namespace to use")
    .option("--pids-limit <int>", "Tune container pids limit (set -1 for unlimited)")
    .option("--platform <string>", "Set platform if server is multi-platform capable")
    .option("--privileged", "Give extended privileges to this container")
    .option("-p, --publish <list>", "Publish a container's port(s) to the host", collect)
    .option("-P, --publish-all", "Publish all exposed ports to random ports")
    .option("--pull <string>", 'Pull image before running ("always", "missing", "never")')
    .option("-q, --quiet", "Suppress the pull output")
    .option("--read-only", "Mount the container's root filesystem as read only")
    .option("--restart <string>", "Restart policy to apply when a container exits")
    .option(
      "--rm",
      "Automatically remove the container and its associated anonymous volumes when it exits",
    )
    .option("--runtime <string>", "Runtime to use for this container")
    .option("--security-opt <list>", "Security Options", collect)
    .option("--shm-size <bytes>", "Size of /dev/shm")
    .option("--health-cmd <string>", "Command to run to check health")
    .option("--health-interval <duration>", "Time between running the check (ms|s|m|h)")
    .option("--health-retries <int>", "Consecutive failures needed to report unhealthy")
    .option(
      "--health-start-period <duration>",
      "Start period for the container to initialize before starting health-retries countdown",
    )
    .option("--health-timeout <duration>", "Maximum time to allow one check to run (ms|s|m|h)")
    .option("--no-healthcheck", "Disable any container-specified HEALTHCHECK")
    .option("--stop-signal <string>", "Signal to stop the container")
    .option("--stop-timeout <int>", "Timeout (in seconds) to stop a container")
    .option("--sysctl <list>", "Sysctl options", collect)
    .option("-t, --tty", "Allocate a pseudo-TTY")
    .option("--tmpfs <list>", "Mount a tmpfs directory", collect)
    .option("--ulimit <ulimit>", "Ulimit options", collect)
    .option("-u, --user <string>", "Username or UID (format: <name|uid>[:<group|gid>])")
    .option("--userns <string>", "User namespace to use")
    .option("--uts <string>", "UTS namespace to use")
    .option("-v, --volume <list>", "Bind mount a volume", collect)
    .option("--volumes-from <list>", "Mount volumes from the specified container(s)", collect)
    .option("-w, --workdir <string>", "Working directory inside the container");
}

/** go-units RAMInBytes: binary units, "512m", "1g", "100k", "1.5GB". */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult: Record<string, number> = {
    "": 1,
    k: 1024,
    m: 1024 ** 2,
    g: 1024 ** 3,
    t: 1024 ** 4,
    p: 1024 ** 5,
  };
  return Math.round(Number(m[1]) * mult[m[2].toLowerCase()]);
}

function readLines(path: string): string[] {
  return Deno.readTextFileSync(path).split(/\r?\n/).map((l) => l.trimStart()).filter((l) =>
    l && !l.startsWith("#")
  );
}

/** -e KEY=V / -e KEY (taken from our env if set). */
function envList(opts: Flags): string[] {
  const out: string[] = [];
  const add = (e: string) => {
    if (e.includes("=")) out.push(e);
    else {
      const v = Deno.env.get(e);
      if (v !== undefined) out.push(`${e}=${v}`);
    }
  };
  for (const f of opts.envFile ?? []) readLines(f).forEach(add);
  for (const e of opts.env ?? []) add(e);
  return out;
}

function labels(opts: Flags): Record<string, string> {
  const files: string[] = opts.labelFile ?? [];
  return kvMap([...files.flatMap(readLines), ...(opts.label ?? [])]);
}

/** "type=bind,source=/a,target=/b,readonly" → a Mount object. */
export function parseMount(spec: string): Mount {
  const m: Mount = { Type: "volume" };
  for (const kv of spec.split(",")) {
    const i = kv.indexOf("=");
    const k = (i < 0 ? kv : kv.slice(0, i)).trim().toLowerCase();
    const v = i < 0 ? "" : kv.slice(i + 1);
    switch (k) {
      case "type":
        m.Type = v;
        break;
      case "source":
      case "src":
        m.Source = v;
        break;
      case "target":
      case "destination":
      case "dst":
        m.Target = v;
        break;
      case "readonly":
      case "ro":
        m.ReadOnly = v === "" || v === "true" || v === "1";
        break;
      case "bind-propagation":
        (m.BindOptions ??= {}).Propagation = v;
        break;
      case "volume-nocopy":
        (m.VolumeOptions ??= {}).NoCopy = v === "" || v === "true" || v === "1";
        break;
      case "volume-label": {
        const j = v.indexOf("=");
        ((m.VolumeOptions ??= {}).Labels ??= {})[j < 0 ? v : v.slice(0, j)] = j < 0
          ? ""
          : v.slice(j + 1);
        break;
      }
      case "tmpfs-size":
        (m.TmpfsOptions ??= {}).SizeBytes = ramInBytes(v);
        break;
      case "tmpfs-mode":
        (m.TmpfsOptions ??= {}).Mode = parseInt(v, 8);
        break;
      case "consistency":
        m.Consistency = v;
        break;
      default:
        throw new Error(
          `invalid argument "${spec}" for "--mount" flag: unexpected key '${k}' in '${kv}'`,
        );
    }
  }
  if (!m.Target) {
    throw new Error(`invalid argument "${spec}" for "--mount" flag: target is required`);
  }
  return m;
}

function ports(opts: Flags): { exposed: EmptySet; bindings: PortMap } {
  const exposed: EmptySet = {};
  const bindings: PortMap = {};
  for (const e of opts.expose ?? []) {
    const [p, proto = "tcp"] = e.split("/");
    exposed[`${p}/${proto}`] = {};
  }
  const pub = parsePortSpecs(opts.publish ?? []);
  Object.assign(exposed, pub.exposed);
  Object.assign(bindings, pub.bindings);
  return { exposed, bindings };
}

/** JSON text without the whitespace between tokens (Go's json.Compact). */
function compactJson(text: string): string {
  JSON.parse(text); // must be valid
  let out = "", inStr = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inStr) {
      out += ch;
      if (ch === "\\") out += text[++i];
      else if (ch === '"') inStr = false;
    } else if (ch === '"') {
      inStr = true;
      out += ch;
    } else if (!" \t\n\r".includes(ch)) out += ch;
  }
  return out;
}

/**
 * --security-opt as the docker CLI sends it: `seccomp=<file>` becomes
 * `seccomp=<the file's JSON>` (the daemon never reads client paths).
 */
function securityOpts(list: string[]): string[] {
  return list.map((opt) => {
    let i = opt.indexOf("=");
    if (i < 0 && opt !== "no-new-privileges") i = opt.indexOf(":");
    const k = i < 0 ? opt : opt.slice(0, i), v = i < 0 ? "" : opt.slice(i + 1);
    if (k !== "no-new-privileges" && v === "") {
      throw new Error(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    }
    if (k !== "seccomp" || v === "builtin" || v === "unconfined") return opt;
    let text: string;
    try {
      text = Deno.readTextFileSync(v);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound
        ? "no such file or directory"
        : (e as Error).message;
      throw new Error(`opening seccomp profile (${v}) failed: open ${v}: ${why}`);
    }
    try {
      return `seccomp=${compactJson(text)}`;
    } catch (e) {
      throw new Error(
        `compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`,
      );
    }
  });
}

/** Build the create body from parsed flags, the image and the command. */
export function createBody(
  opts: Flags,
  image: string,
  cmd: string[],
  tty: { rows: number; columns: number } | undefined,
): ContainerCreateRequest {
  const attach: string[] = (opts.attach ?? []).map((s: string) => s.toLowerCase());
  const detach = !!opts.detach;
  let attachStdin = attach.includes("stdin");
  let attachStdout = attach.includes("stdout");
  let attachStderr = attach.includes("stderr");
  if (!detach && attach.length === 0) {
    attachStdout = attachStderr = true;
    if (opts.interactive) attachStdin = true;
  }
  if (detach) attachStdin = attachStdout = attachStderr = false;
  const binds: string[] = [];
  const volumes: EmptySet = {};
  for (const v of opts.volume ?? []) {
    const parts = v.split(":");
    if (parts.length === 1 && v.startsWith("/")) volumes[v] = {};
    else binds.push(v);
  }
  const tmpfs: Record<string, string> = {};
  for (const t of opts.tmpfs ?? []) {
    const i = t.indexOf(":");
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? "" : t.slice(i + 1);
  }
  const logOpts: Record<string, string> = {};
  for (const l of opts.logOpt ?? []) {
    const i = l.indexOf("=");
    if (i < 0) throw new Error(`invalid log opt '${l}': not a key=value pair`);
    logOpts[l.slice(0, i)] = l.slice(i + 1);
  }
  const sysctls: Record<string, string> = {};
  for (const s of opts.sysctl ?? []) {
    const i = s.indexOf("=");
    sysctls[s.slice(0, i)] = s.slice(i + 1);
  }
  let restart = { Name: "", MaximumRetryCount: 0 };
  if (opts.restart) {
    const [name, n] = String(opts.restart).split(":");
    restart = { Name: name, MaximumRetryCount: n ? Number(n) : 0 };
    if (n && !/^\d+$/.test(n)) {
      throw new Error(`invalid restart policy format: maximum retry count must be an integer`);
    }
  }
  const ulimits = (opts.ulimit ?? []).map((u: string) => {
    const [name, vals] = u.split("=");
    const [soft, hard = soft] = (vals ?? "").split(":");
    if (!name || !vals) throw new Error(`invalid ulimit argument: ${u}`);
    return { Name: name, Soft: Number(soft), Hard: Number(hard) };
  });
  const { exposed, bindings } = ports(opts);
  let entrypoint: string[] | undefined;
  if (opts.entrypoint !== undefined) entrypoint = opts.entrypoint === "" ? [""] : [opts.entrypoint];
  const hostConfig: Wire<HostConfigBody> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: opts.cidfile ?? "",
    LogConfig: { Type: opts.logDriver ?? "", Config: logOpts },
    NetworkMode: runNetworking(opts).NetworkMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: !!opts.rm,
    VolumeDriver: "",
    VolumesFrom: opts.volumesFrom ?? null,
    ConsoleSize: tty ? [tty.rows, tty.columns] : [0, 0],
    CapAdd: opts.capAdd ?? null,
    CapDrop: opts.capDrop ?? null,
    CgroupnsMode: "",
    Dns: opts.dns ?? [],
    DnsOptions: opts.dnsOption ?? [],
    DnsSearch: opts.dnsSearch ?? [],
    ExtraHosts: opts.addHost ?? null,
    GroupAdd: opts.groupAdd ?? null,
    IpcMode: opts.ipc ?? "",
    PidMode: opts.pid ?? "",
    Privileged: !!opts.privileged,
    PublishAllPorts: !!opts.publishAll,
    ReadonlyRootfs: !!opts.readOnly,
    SecurityOpt: opts.securityOpt ? securityOpts(opts.securityOpt) : null,
    UTSMode: opts.uts ?? "",
    UsernsMode: opts.userns ?? "",
    ShmSize: opts.shmSize ? ramInBytes(opts.shmSize) : 0,
    Runtime: opts.runtime ?? "",
    CpuShares: opts.cpuShares ? Number(opts.cpuShares) : 0,
    Memory: opts.memory ? ramInBytes(opts.memory) : 0,
    MemorySwap: opts.memorySwap ? (opts.memorySwap === "-1" ? -1 : ramInBytes(opts.memorySwap)) : 0,
    NanoCpus: opts.cpus ? Math.round(Number(opts.cpus) * 1e9) : 0,
    CpusetCpus: opts.cpusetCpus ?? "",
    PidsLimit: opts.pidsLimit !== undefined ? Number(opts.pidsLimit) : null,
    Ulimits: ulimits.length ? ulimits : null,
    OomKillDisable: !!opts.oomKillDisable,
    Sysctls: Object.keys(sysctls).length ? sysctls : undefined,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    Mounts: (opts.mount ?? []).map(parseMount),
    Init: opts.init ? true : null,
    Devices: (opts.device ?? []).map(parseDevice),
    DeviceCgroupRules: (opts.deviceCgroupRule ?? []).map(checkDeviceCgroupRule),
  };
  if (opts.cpus && !(Number(opts.cpus) > 0)) {
    throw new Error(`invalid argument "${opts.cpus}" for "--cpus" flag`);
  }
  return {
    Hostname: opts.hostname ?? "",
    Domainname: opts.domainname ?? "",
    User: opts.user ?? "",
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: !!opts.tty,
    OpenStdin: !!opts.interactive,
    StdinOnce: !!opts.interactive && attachStdin,
    Env: envList(opts),
    Cmd: cmd.length ? cmd : null,
    Image: image,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    WorkingDir: opts.workdir ?? "",
    Entrypoint: entrypoint ?? null,
    Labels: labels(opts),
    StopSignal: opts.stopSignal,
    StopTimeout: opts.stopTimeout !== undefined ? Number(opts.stopTimeout) : undefined,
    Healthcheck: healthConfig(opts),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: runNetworking(opts).EndpointsConfig },
  };
}

/** pflag's DurationVar: Go's time.ParseDuration (signed), its error in pflag's words. */
export function flagDuration(flag: string, v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new Error(`invalid argument "${v}" for "--${flag}" flag: ${messageOf(e)}`);
  }
}

/** The docker CLI's --health-* / --no-healthcheck → Config.Healthcheck. */
export function healthConfig(opts: Flags): HealthConfig | undefined {
  const interval = opts.healthInterval ? flagDuration("health-interval", opts.healthInterval) : 0;
  const timeout = opts.healthTimeout ? flagDuration("health-timeout", opts.healthTimeout) : 0;
  const start = opts.healthStartPeriod
    ? flagDuration("health-start-period", opts.healthStartPeriod)
    : 0;
  const retries = opts.healthRetries ? Number(opts.healthRetries) : 0;
  if (!Number.isInteger(retries)) {
    throw new Error(`invalid argument "${opts.healthRetries}" for "--health-retries" flag`);
  }
  const have = !!opts.healthCmd || !!interval || !!timeout || !!start || !!retries;
  // commander: --no-healthcheck sets healthcheck=false
  if (opts.healthcheck === false) {
    if (have) throw new Error("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!have) return undefined;
  if (interval < 0) throw new Error("--health-interval cannot be negative");
  if (timeout < 0) throw new Error("--health-timeout cannot be negative");
  if (retries < 0) throw new Error("--health-retries cannot be negative");
  if (start < 0) throw new Error("--health-start-period cannot be negative");
  return {
    Test: opts.healthCmd ? ["CMD-SHELL", opts.healthCmd] : undefined,
    Interval: interval,
    Timeout: timeout,
    StartPeriod: start,
    Retries: retries,
  };
}
