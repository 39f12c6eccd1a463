/**
 * `berth update [OPTIONS] CONTAINER...` (docker update): resources and the
 * restart policy of containers, live. Prints each container updated, then
 * the daemon's warnings; errors are collected and printed at the end.
 * @module
 */
import { command, type Globals, parse, reportError, UsageExit } from "../cli.ts";
import { ApiError } from "../api.ts";
import { ramInBytes } from "./containers_opts.ts";
import type { ContainerUpdate } from "../../../core/api/types.ts";

function flagError(value: string, flag: string, why: string): never {
  console.error(
    `invalid argument "${value}" for "${flag}" flag: ${why}\nSee 'berth update --help'.`,
  );
  throw new UsageExit(125);
}

function int(v: string | undefined, flag: string): number {
  if (v === undefined) return 0;
  if (!/^-?\d+$/.test(v)) flagError(v, flag, `strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

function bytes(v: string | undefined, flag: string, allowMinus = false): number {
  if (v === undefined || v === "") return 0;
  if (allowMinus && v === "-1") return -1;
  try {
    return ramInBytes(v);
  } catch {
    flagError(v, flag, `invalid size: '${v}'`);
  }
}

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Update configuration of one or more containers",
  )
    .option(
      "--blkio-weight <uint16>",
      "Block IO (relative weight), between 10 and 1000, or 0 to disable",
    )
    .option("--cpu-period <int>", "Limit CPU CFS (Completely Fair Scheduler) period")
    .option("--cpu-quota <int>", "Limit CPU CFS (Completely Fair Scheduler) quota")
    .option("-c, --cpu-shares <int>", "CPU shares (relative weight)")
    .option("--cpus <decimal>", "Number of CPUs")
    .option("--cpuset-cpus <string>", "CPUs in which to allow execution (0-3, 0,1)")
    .option("--cpuset-mems <string>", "MEMs in which to allow execution (0-3, 0,1)")
    .option("--kernel-memory <bytes>", "Kernel memory limit (deprecated)")
    .option("-m, --memory <bytes>", "Memory limit")
    .option("--memory-reservation <bytes>", "Memory soft limit")
    .option(
      "--memory-swap <bytes>",
      "Swap limit equal to memory plus swap: -1 to enable unlimited swap",
    )
    .option("--pids-limit <int>", "Tune container pids limit (set -1 for unlimited)")
    .option("--restart <string>", "Restart policy to apply when a container exits");
  const { opts, args: pos } = parse(c, args, name);
  if (pos.length < 1) {
    console.error(
      `"berth update" requires at least 1 argument.\nSee 'berth update --help'.\n\n` +
        `Usage:  berth update [OPTIONS] CONTAINER [CONTAINER...]\n\n` +
        `Update configuration of one or more containers`,
    );
    return 1;
  }
  const set = Object.keys(opts).filter((k) => opts[k] !== undefined);
  if (set.length === 0) {
    console.error("you must provide one or more flags when using this command");
    return 1;
  }
  let nano = 0;
  if (opts.cpus !== undefined) {
    const n = Number(opts.cpus);
    if (!Number.isFinite(n) || n < 0) flagError(opts.cpus, "--cpus", "failed to parse");
    nano = Math.round(n * 1e9);
  }
  let restart: { Name: string; MaximumRetryCount: number } | undefined;
  if (opts.restart !== undefined) {
    const [rn, n] = String(opts.restart).split(":");
    if (n !== undefined && !/^\d+$/.test(n)) {
      console.error("invalid restart policy format: maximum retry count must be an integer");
      return 1;
    }
    restart = { Name: rn, MaximumRetryCount: n ? Number(n) : 0 };
  }
  const body: ContainerUpdate = {
    BlkioWeight: int(opts.blkioWeight, "--blkio-weight"),
    CpuShares: int(opts.cpuShares, "-c, --cpu-shares"),
    CpuPeriod: int(opts.cpuPeriod, "--cpu-period"),
    CpuQuota: int(opts.cpuQuota, "--cpu-quota"),
    NanoCpus: nano,
    CpusetCpus: opts.cpusetCpus ?? "",
    CpusetMems: opts.cpusetMems ?? "",
    KernelMemory: bytes(opts.kernelMemory, "--kernel-memory"),
    Memory: bytes(opts.memory, "-m, --memory"),
    MemoryReservation: bytes(opts.memoryReservation, "--memory-reservation"),
    MemorySwap: bytes(opts.memorySwap, "--memory-swap", true),
    ...(opts.pidsLimit !== undefined ? { PidsLimit: int(opts.pidsLimit, "--pids-limit") } : {}),
    ...(restart ? { RestartPolicy: restart } : {}),
  };
  const warnings: string[] = [];
  const errors: unknown[] = [];
  for (const ctr of pos) {
    try {
      const r = await g.api().json<{ Warnings?: string[] | null }>(
        "POST",
        `/containers/${encodeURIComponent(ctr)}/update`,
        { body },
      );
      console.log(ctr);
      warnings.push(...(r.Warnings ?? []));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      errors.push(e);
    }
  }
  if (warnings.length) console.log(warnings.join("\n"));
  for (const e of errors) reportError(e);
  return errors.length ? 1 : 0;
}
