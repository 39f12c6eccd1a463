/**
 * The semantic checks dockerd makes on a create (and update) body before it
 * stores anything (daemon verifyContainerSettings, verifyPlatformContainer-
 * Resources, the log driver's ValidateLogOpt, caps normalisation), with
 * Docker's words. Also checked here, earlier than Docker 20.10 does (it fails
 * only at start): negative CPU shares, log option values, and the seccomp
 * profile's JSON, so that a bad value is never stored.
 *
 * The checks that need daemon state (image, runtime names, networks, bind
 * sources on the host, links, the healthcheck merged with the image's) stay
 * in the services; `checkRefs` looks up VolumesFrom's containers.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { CAPABILITIES, normalizeCap } from "../../../core/oci/caps.ts";
import type { ContainerCreate, ContainerUpdate, HostConfig } from "../../../core/api/containers.ts";
import { JsonSyntaxError, parseGoJson } from "../../../core/api/json.ts";

/** moby's linuxMinMemory (6 MiB since 20.10). */
const MIN_MEMORY = 6 * 1024 * 1024;

type Resources = Omit<ContainerUpdate, "RestartPolicy">;

/** Resource limits (moby verifyPlatformContainerResources); `update` for POST …/update. */
export function checkResources(r: Resources, update = false): void {
  const mem = r.Memory ?? 0, swap = r.MemorySwap ?? 0, resv = r.MemoryReservation ?? 0;
  if (mem !== 0 && mem < MIN_MEMORY) throw bad("Minimum memory limit allowed is 6MB");
  if (mem > 0 && swap > 0 && swap < mem) {
    throw bad("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (mem === 0 && swap > 0 && !update) {
    throw bad("You should always set the Memory limit when using Memoryswap limit, see usage");
  }
  const swappiness = r.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw bad(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (mem > 0 && resv > 0 && mem < resv) {
    throw bad("Minimum memory limit can not be less than memory reservation limit, see usage");
  }
  if (resv !== 0 && resv < MIN_MEMORY) throw bad("Minimum memory reservation allowed is 6MB");
  const ncpu = navigator.hardwareConcurrency;
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) {
    throw bad("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  }
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) {
    throw bad("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  }
  if (nano < 0 || nano > ncpu * 1e9) {
    throw bad(
      `Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`,
    );
  }
  if ((r.CpuShares ?? 0) < 0) {
    throw bad(`invalid CPU shares (${r.CpuShares}): value must be a positive integer`);
  }
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw bad(
      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    );
  }
  const quota = r.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw bad("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  const weight = r.BlkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000)) {
    throw bad("Range of blkio weight is from 10 to 1000");
  }
  for (const u of r.Ulimits ?? []) {
    if ((u.Soft ?? 0) > (u.Hard ?? 0) && (u.Hard ?? 0) !== -1) {
      throw bad(
        `ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`,
      );
    }
  }
}

/** The HostConfig checks of a create (besides the resources). */
export function checkHostConfig(hc: HostConfig): void {
  checkResources(hc);
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) {
    throw bad(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  }
  if ((hc.ShmSize ?? 0) < 0) throw bad("SHM size can not be less than 0");
  checkCaps("CapAdd", hc.CapAdd);
  checkCaps("CapDrop", hc.CapDrop);
  checkLogOpts(hc.LogConfig?.Type ?? "", hc.LogConfig?.Config ?? {});
  for (const opt of hc.SecurityOpt ?? []) checkSeccompOpt(opt);
  const iso = hc.Isolation ?? "";
  if (iso !== "" && iso.toLowerCase() !== "default") {
    throw bad(`Invalid isolation: ${JSON.stringify(iso)} - linux only supports 'default'`);
  }
  checkMounts(hc);
  checkPortBindings(hc);
}

/** Everything a create body is checked for before the service sees it. */
export function checkCreate(body: ContainerCreate): void {
  checkHostConfig(body.HostConfig ?? {});
  for (const e of body.Env ?? []) {
    // opts.ValidateEnv: a name is required; "A" alone (take it from the client's env) is fine
    if (e === "" || e.startsWith("=")) throw bad(`invalid environment variable: ${e}`);
  }
}

const MOUNT_TYPES = ["bind", "volume", "tmpfs"];

/** volume/mounts/parser.go ErrVolumeTargetIsRoot */
const TARGET_IS_ROOT = "invalid specification: destination can't be '/'";

/** linuxValidateNotRoot: the path cleaned ("//", "/./", "/a/..") is "/". */
function isRoot(p: string): boolean {
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  return p.startsWith("/") && parts.length === 0;
}

/** moby's volume/mounts validator: what can be said without looking at the host. */
function checkMounts(hc: HostConfig): void {
  for (const dest of Object.keys(hc.Tmpfs ?? {})) {
    if (isRoot(dest)) throw bad(TARGET_IS_ROOT);
    if (!dest.startsWith("/")) {
      throw bad(`invalid mount path: '${dest}' mount path must be absolute`);
    }
  }
  for (const m of hc.Mounts ?? []) {
    const type = m.Type ?? "";
    const fail = (why: string) =>
      bad(`invalid mount config for type ${JSON.stringify(type)}: ${why}`);
    if (!MOUNT_TYPES.includes(type)) throw fail("mount type unknown");
    if (!m.Target) throw fail("field Target must not be empty");
    if (isRoot(m.Target)) throw fail(TARGET_IS_ROOT);
    if (!m.Target.startsWith("/")) {
      throw fail(`invalid mount path: '${m.Target}' mount path must be absolute`);
    }
    if (type === "bind") {
      if (!m.Source) throw fail("field Source must not be empty");
      if (!m.Source.startsWith("/")) {
        throw fail(`invalid mount path: '${m.Source}' mount path must be absolute`);
      }
    }
    if (type === "tmpfs" && m.Source) throw fail("field Source must not be specified");
  }
}

/** nat.ParsePortRange: "80", "8000-8010", within 0–65535. */
function checkPortRange(p: string): void {
  const m = /^(\d+)(?:-(\d+))?$/.exec(p);
  const ok = m && Number(m[1]) <= 65535 && (m[2] === undefined ||
    (Number(m[2]) <= 65535 && Number(m[2]) >= Number(m[1])));
  if (!ok) throw bad(`invalid port specification: ${JSON.stringify(p)}`);
}

function checkPortBindings(hc: HostConfig): void {
  for (const [key, bindings] of Object.entries(hc.PortBindings ?? {})) {
    checkPortRange(key.split("/")[0]);
    for (const b of bindings ?? []) if (b.HostPort) checkPortRange(b.HostPort);
  }
}

/** Docker's caps.NormalizeLegacyCapabilities: unknown names are refused. */
function checkCaps(what: string, caps: string[] | undefined): void {
  for (const c of caps ?? []) {
    const n = normalizeCap(c);
    if (n !== "ALL" && !CAPABILITIES.includes(n)) {
      throw bad(`invalid ${what}: unknown capability: ${JSON.stringify(n)}`);
    }
  }
}

const JSON_FILE_OPTS = [
  "max-file",
  "max-size",
  "compress",
  "labels",
  "labels-regex",
  "env",
  "env-regex",
  "tag",
];

/** The json-file driver's ValidateLogOpt, plus its option values (read at start by Docker). */
export function checkLogOpts(driver: string, cfg: Record<string, string>): void {
  if (driver !== "" && driver !== "json-file") return; // "none", or refused by the service
  for (const k of Object.keys(cfg)) {
    if (!JSON_FILE_OPTS.includes(k)) throw bad(`unknown log opt '${k}' for json-file log driver`);
  }
  if (cfg["max-size"] !== undefined && cfg["max-size"] !== "-1") ramInBytes(cfg["max-size"]);
  if (cfg["max-file"] !== undefined) {
    const v = cfg["max-file"];
    if (!/^[+-]?\d+$/.test(v)) {
      throw bad(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    }
    if (Number(v) < 1) throw bad("max-file cannot be less than 1");
  }
  if (cfg.compress !== undefined && !GO_BOOLS.includes(cfg.compress)) {
    throw bad(`strconv.ParseBool: parsing ${JSON.stringify(cfg.compress)}: invalid syntax`);
  }
}

const GO_BOOLS = ["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"];

/** go-units RAMInBytes: "64m", "1.5g", "100"; throws Docker's "invalid size". */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw bad(`invalid size: '${s}'`);
  const mult = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30, t: 2 ** 40, p: 2 ** 50 }[
    (m[2] ?? "").toLowerCase() as "" | "k"
  ];
  return Math.trunc(Number(m[1]) * mult);
}

/** A `seccomp=<profile JSON>` option must hold JSON (Docker reads it only at start). */
function checkSeccompOpt(opt: string): void {
  const m = /^seccomp[=:]([\s\S]*)$/.exec(opt);
  if (!m || m[1] === "unconfined" || m[1] === "builtin" || m[1] === "") return;
  try {
    parseGoJson(m[1], { whole: true });
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      throw bad(`Decoding seccomp profile failed: ${e.message}`);
    }
    throw e;
  }
}

function bad(msg: string): InvalidArgument {
  return new InvalidArgument(msg);
}

/**
 * Containers named by VolumesFrom must exist (moby: "No such container",
 * a 400). Links and the Healthcheck are checked by the container service
 * (containers/links.ts, health.ts).
 */
export function checkRefs(body: ContainerCreate, exists: (ref: string) => boolean): void {
  for (const v of body.HostConfig?.VolumesFrom ?? []) {
    const ref = v.split(":")[0];
    if (!exists(ref)) throw bad(`No such container: ${ref}`);
  }
}
