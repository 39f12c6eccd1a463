/**
 * version, info, and the generic `inspect`.
 * @module
 */
import { command, type Globals, out, parse, requireArgs, UsageExit } from "../cli.ts";
import { BERTH_VERSION } from "../../../core/version.ts";
import { bytesSize, humanSize, renderTemplate } from "../format.ts";
import { systemDf } from "./system_df.ts";
import { ApiError } from "../api.ts";

import type { PruneReport, SystemInfo, SystemVersion } from "../../../core/api/types.ts";

async function version(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "Show the berth version information")
    .option("-f, --format <string>", "Format output using a custom template");
  const { opts } = parse(c, args, name);
  const client = {
    Version: BERTH_VERSION,
    ApiVersion: "1.47",
    GoVersion: `deno${Deno.version.deno}`,
    Os: "linux",
    Arch: Deno.build.arch === "x86_64" ? "amd64" : Deno.build.arch,
  };
  let server: SystemVersion | undefined;
  let err: unknown;
  try {
    server = await g.api().json<SystemVersion>("GET", "/version");
  } catch (e) {
    err = e;
  }
  if (opts.format) {
    out(renderTemplate(opts.format, { Client: client, Server: server ?? null }) + "\n");
  } else {
    out(
      `Client:\n Version:           ${client.Version}\n API version:       ${client.ApiVersion}\n` +
        ` Go version:        ${client.GoVersion}\n OS/Arch:           ${client.Os}/${client.Arch}\n`,
    );
    if (server) {
      out(
        `\nServer: berth\n Engine:\n  Version:          ${server.Version}\n  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})\n` +
          `  Go version:       ${server.GoVersion}\n  OS/Arch:          ${server.Os}/${server.Arch}\n  Kernel version:   ${server.KernelVersion}\n`,
      );
    }
  }
  if (err) throw err;
  return 0;
}

async function info(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "Display system-wide information")
    .option("-f, --format <string>", "Format output using a custom template");
  const { opts } = parse(c, args, name);
  const i = await g.api().json<SystemInfo>("GET", "/info");
  if (opts.format) {
    out((opts.format === "json" ? JSON.stringify(i) : renderTemplate(opts.format, i)) + "\n");
    return 0;
  }
  out(
    `Client:\n Version:    ${BERTH_VERSION}\n Context:    default\n Debug Mode: ${g.debug}\n\nServer:\n` +
      ` Containers: ${i.Containers}\n  Running: ${i.ContainersRunning}\n  Paused: ${i.ContainersPaused}\n  Stopped: ${i.ContainersStopped}\n` +
      ` Images: ${i.Images}\n Server Version: ${i.ServerVersion}\n Storage Driver: ${i.Driver}\n` +
      ` Logging Driver: ${i.LoggingDriver}\n Cgroup Driver: ${i.CgroupDriver}\n Cgroup Version: ${i.CgroupVersion}\n` +
      ` Runtimes: ${
        Object.keys(i.Runtimes ?? {}).join(" ")
      }\n Default Runtime: ${i.DefaultRuntime}\n` +
      ` Kernel Version: ${i.KernelVersion}\n Operating System: ${i.OperatingSystem}\n OSType: ${i.OSType}\n` +
      ` Architecture: ${i.Architecture}\n CPUs: ${i.NCPU}\n Total Memory: ${
        bytesSize(i.MemTotal)
      }\n` +
      ` Name: ${i.Name}\n ID: ${i.ID}\n Docker Root Dir: ${i.DockerRootDir}\n Debug Mode: ${i.Debug}\n` +
      ` Live Restore Enabled: ${i.LiveRestoreEnabled}\n`,
  );
  return 0;
}

/** `inspect`: containers, then images, networks, volumes — like docker. */
async function inspect(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] NAME|ID [NAME|ID...]",
    "Return low-level information on berth objects",
  )
    .option("-f, --format <string>", "Format output using a custom template")
    .option("--type <string>", "Return JSON for specified type")
    .option("-s, --size", "Display total file sizes if the type is container");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] NAME|ID [NAME|ID...]", 1);
  const kinds: Array<[string, (n: string) => string]> = [
    ["container", (n) => `/containers/${n}/json`],
    ["image", (n) => `/images/${n}/json`],
    ["network", (n) => `/networks/${n}`],
    ["volume", (n) => `/volumes/${n}`],
  ];
  const want = opts.type ? kinds.filter(([k]) => k === opts.type) : kinds;
  if (want.length === 0) {
    console.error(`"${opts.type}" is not a valid value for --type`);
    return 1;
  }
  const found: unknown[] = [];
  let code = 0;
  for (const n of pos) {
    let hit: unknown;
    for (const [, path] of want) {
      try {
        hit = await g.api().json("GET", path(n), { query: { size: opts.size } });
        break;
      } catch (e) {
        if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 400)) throw e;
      }
    }
    if (hit === undefined) {
      console.error(`Error: No such object: ${n}`);
      code = 1;
    } else found.push(hit);
  }
  if (opts.format) { for (const f of found) out(renderTemplate(opts.format, f) + "\n"); }
  else out(JSON.stringify(found, null, 4) + "\n");
  return code;
}

async function confirm(msg: string, force: boolean): Promise<boolean> {
  if (force) return true;
  out(`${msg}\nAre you sure you want to continue? [y/N] `);
  const buf = new Uint8Array(64);
  const n = await Deno.stdin.read(buf);
  return !!n && /^y/i.test(new TextDecoder().decode(buf.subarray(0, n)));
}

/** `system prune`: stopped containers, unused networks, dangling (or all unused) images, volumes. */
async function systemPrune(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "Remove unused data")
    .option("-a, --all", "Remove all unused images not just dangling ones")
    .option("-f, --force", "Do not prompt for confirmation")
    .option("--volumes", "Prune anonymous volumes");
  const { opts } = parse(c, args, name);
  const what = [
    "all stopped containers",
    "all networks not used by at least one container",
    ...(opts.volumes ? ["all anonymous volumes not used by at least one container"] : []),
    opts.all
      ? "all images without at least one container associated to them"
      : "all dangling images",
  ];
  if (
    !(await confirm(
      `WARNING! This will remove:\n${what.map((w) => `  - ${w}`).join("\n")}\n`,
      !!opts.force,
    ))
  ) {
    return 0;
  }
  const api = g.api();
  let space = 0;
  const cs = await api.json<PruneReport>("POST", "/containers/prune");
  if (cs.ContainersDeleted?.length) {
    out(`Deleted Containers:\n${cs.ContainersDeleted.join("\n")}\n\n`);
  }
  space += cs.SpaceReclaimed ?? 0;
  const ns = await api.json<PruneReport>("POST", "/networks/prune");
  if (ns.NetworksDeleted?.length) out(`Deleted Networks:\n${ns.NetworksDeleted.join("\n")}\n\n`);
  if (opts.volumes) {
    const vs = await api.json<PruneReport>("POST", "/volumes/prune");
    if (vs.VolumesDeleted?.length) out(`Deleted Volumes:\n${vs.VolumesDeleted.join("\n")}\n\n`);
    space += vs.SpaceReclaimed ?? 0;
  }
  const is = await api.json<PruneReport>("POST", "/images/prune", {
    query: { filters: JSON.stringify({ dangling: [opts.all ? "false" : "true"] }) },
  });
  if (is.ImagesDeleted?.length) {
    out("Deleted Images:\n");
    for (const d of is.ImagesDeleted) {
      if (d.Untagged) out(`untagged: ${d.Untagged}\n`);
      if (d.Deleted) out(`deleted: ${d.Deleted}\n`);
    }
    out("\n");
  }
  space += is.SpaceReclaimed ?? 0;
  out(`Total reclaimed space: ${humanSize(space)}\n`);
  return 0;
}

export function run(name: string, args: string[], g: Globals): Promise<number> {
  switch (name) {
    case "system prune":
      return systemPrune(name, args, g);
    case "system df":
      return systemDf(name, args, g);
    case "version":
      return version(name, args, g);
    case "info":
      return info(name, args, g);
    case "inspect":
      return inspect(name, args, g);
  }
  throw new UsageExit(1);
}
