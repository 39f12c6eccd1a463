/**
 * Container commands. `run(name, …)` dispatches the small ones here: stop,
 * restart, kill, rm, logs, wait, container inspect, rename, top, port, pause,
 * unpause, container prune. run/create/start/attach (containers_run.ts), ps
 * (containers_ps.ts) and exec (exec.ts) are loaded by ../main.ts directly, so
 * each reads only its own modules (Deno reads every literal import's module,
 * dynamic ones too, before running).
 * @module
 */
import {
  command,
  filterFlag,
  filtersQuery,
  type Globals,
  out,
  parse,
  requireArgs,
} from "../cli.ts";
import { ApiError } from "../api.ts";
import { renderTemplate, table } from "../format.ts";
import { copyChunks, printErr } from "./containers_stream.ts";
import { tryParseDuration } from "../../../core/units.ts";
import type {
  ContainerJSON,
  ContainerTopResponse,
  ContainerWaitResponse,
  PruneReport,
} from "../../../core/api/types.ts";

/** Apply `fn` to each argument like docker: print the arg on success, errors at the end. */
async function each(
  pos: string[],
  fn: (ref: string) => Promise<void>,
  print = true,
): Promise<number> {
  let code = 0;
  for (const ref of pos) {
    try {
      await fn(ref);
      if (print) out(`${ref}\n`);
    } catch (e) {
      if (e instanceof ApiError) printErr(`Error response from daemon: ${e.message}\n`);
      else printErr(`Error: ${(e as Error).message}\n`);
      code = 1;
    }
  }
  return code;
}

async function stopLike(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] CONTAINER [CONTAINER...]",
    `${name === "stop" ? "Stop" : "Restart"} one or more containers`,
  )
    .option("-s, --signal <string>", "Signal to send to the container")
    .option("-t, --time <int>", "Seconds to wait before killing the container")
    .option("--timeout <int>", "Seconds to wait before killing the container");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER [CONTAINER...]", 1);
  const t = opts.time ?? opts.timeout;
  return await each(pos, async (ref) => {
    await g.api().call("POST", `/containers/${ref}/${name}`, {
      query: { t, signal: opts.signal },
    });
  });
}

async function kill(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Kill one or more running containers",
  )
    .option("-s, --signal <string>", "Signal to send to the container");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER [CONTAINER...]", 1);
  return await each(pos, async (ref) => {
    await g.api().call("POST", `/containers/${ref}/kill`, { query: { signal: opts.signal } });
  });
}

async function rm(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers")
    .option("-f, --force", "Force the removal of a running container (uses SIGKILL)")
    .option("-l, --link", "Remove the specified link")
    .option("-v, --volumes", "Remove anonymous volumes associated with the container");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER [CONTAINER...]", 1);
  let code = 0;
  for (const ref of pos) {
    try {
      await g.api().call("DELETE", `/containers/${ref}`, {
        query: { force: opts.force, v: opts.volumes, link: opts.link },
      });
      out(`${ref}\n`);
    } catch (e) {
      if (opts.force && e instanceof ApiError && e.status === 404) continue;
      printErr(`Error response from daemon: ${(e as Error).message}\n`);
      code = 1;
    }
  }
  return code;
}

async function simple(name: string, args: string[], g: Globals, verb: string, summary: string) {
  const c = command(name, "CONTAINER [CONTAINER...]", summary);
  const { args: pos } = parse(c, args, name);
  requireArgs(pos, name, "CONTAINER [CONTAINER...]", 1);
  return await each(pos, async (ref) => {
    await g.api().call("POST", `/containers/${ref}/${verb}`);
  });
}

/** Go duration or RFC3339 or unix time → unix seconds string (docker's GetTimestamp). */
export function timestampArg(v: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(v)) return v;
  const ns = tryParseDuration(v);
  if (ns !== undefined) return ((now - ns / 1e6) / 1000).toFixed(9);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`invalid value for time: ${v}`);
  return (t / 1000).toFixed(9);
}

async function logs(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] CONTAINER", "Fetch the logs of a container")
    .option("--details", "Show extra details provided to logs")
    .option("-f, --follow", "Follow log output")
    .option("--since <string>", "Show logs since timestamp or relative (e.g. 42m)")
    .option("-n, --tail <string>", "Number of lines to show from the end of the logs", "all")
    .option("-t, --timestamps", "Show timestamps")
    .option("--until <string>", "Show logs before a timestamp or relative (e.g. 42m)");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER", 1, 1);
  const info = await g.api().json<ContainerJSON>("GET", `/containers/${pos[0]}/json`);
  const res = await g.api().request("GET", `/containers/${pos[0]}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      follow: opts.follow,
      tail: opts.tail,
      timestamps: opts.timestamps,
      since: opts.since ? timestampArg(opts.since) : undefined,
      until: opts.until ? timestampArg(opts.until) : undefined,
    },
  });
  if (!res.body) return 0;
  await copyChunks(res.body, !!info.Config.Tty);
  return 0;
}

async function wait(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "CONTAINER [CONTAINER...]",
    "Block until one or more containers stop, then print their exit codes",
  );
  const { args: pos } = parse(c, args, name);
  requireArgs(pos, name, "CONTAINER [CONTAINER...]", 1);
  return await each(pos, async (ref) => {
    const r = await g.api().json<ContainerWaitResponse>("POST", `/containers/${ref}/wait`);
    out(`${r.StatusCode}\n`);
  }, false);
}

async function inspect(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Display detailed information on one or more containers",
  )
    .option("-f, --format <string>", "Format output using a custom template")
    .option("-s, --size", "Display total file sizes");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER [CONTAINER...]", 1);
  const found: ContainerJSON[] = [];
  let code = 0;
  for (const ref of pos) {
    try {
      found.push(
        await g.api().json<ContainerJSON>("GET", `/containers/${ref}/json`, {
          query: { size: opts.size },
        }),
      );
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
      printErr(`Error: No such container: ${ref}\n`);
      code = 1;
    }
  }
  if (opts.format) { for (const f of found) out(renderTemplate(opts.format, f) + "\n"); }
  else out(JSON.stringify(found, null, 4) + "\n");
  return code;
}

async function rename(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "CONTAINER NEW_NAME", "Rename a container");
  const { args: pos } = parse(c, args, name);
  requireArgs(pos, name, "CONTAINER NEW_NAME", 2, 2);
  await g.api().call("POST", `/containers/${pos[0]}/rename`, { query: { name: pos[1] } });
  return 0;
}

async function top(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "CONTAINER [ps OPTIONS]",
    "Display the running processes of a container",
    {
      interspersed: false,
    },
  );
  const { args: pos } = parse(c, args, name);
  requireArgs(pos, name, "CONTAINER [ps OPTIONS]", 1);
  const r = await g.api().json<ContainerTopResponse>("GET", `/containers/${pos[0]}/top`, {
    query: { ps_args: pos.slice(1).join(" ") || undefined },
  });
  out(table([r.Titles, ...(r.Processes ?? [])]));
  return 0;
}

async function port(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "CONTAINER [PRIVATE_PORT[/PROTO]]",
    "List port mappings or a specific mapping for the container",
  );
  const { args: pos } = parse(c, args, name);
  requireArgs(pos, name, "CONTAINER [PRIVATE_PORT[/PROTO]]", 1, 2);
  const info = await g.api().json<ContainerJSON>("GET", `/containers/${pos[0]}/json`);
  const ports = info.NetworkSettings?.Ports ?? {};
  if (pos[1]) {
    const [p, proto = "tcp"] = pos[1].split("/");
    const b = ports[`${p}/${proto}`];
    if (!b?.length) {
      printErr(`Error: No public port '${p}/${proto}' published for ${pos[0]}\n`);
      return 1;
    }
    for (const h of b) out(`${h.HostIp || "0.0.0.0"}:${h.HostPort}\n`);
    return 0;
  }
  const keys = Object.keys(ports).sort();
  for (const k of keys) {
    for (const h of ports[k] ?? []) {
      const ip = h.HostIp || "0.0.0.0";
      out(`${k} -> ${ip.includes(":") ? `[${ip}]` : ip}:${h.HostPort}\n`);
    }
  }
  return 0;
}

async function prune(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "Remove all stopped containers")
    .option(
      "--filter <filter>",
      'Provide filter values (e.g. "until=<timestamp>")',
      filterFlag,
    )
    .option("-f, --force", "Do not prompt for confirmation");
  const { opts } = parse(c, args, name);
  if (!opts.force) {
    out(
      "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ",
    );
    const buf = new Uint8Array(64);
    const n = await Deno.stdin.read(buf);
    const ans = n ? new TextDecoder().decode(buf.subarray(0, n)).trim().toLowerCase() : "";
    if (ans !== "y" && ans !== "yes") return 0;
  }
  const r = await g.api().json<PruneReport>("POST", "/containers/prune", {
    query: { filters: filtersQuery(opts.filter) },
  });
  if (r.ContainersDeleted?.length) {
    out(`Deleted Containers:\n${r.ContainersDeleted.join("\n")}\n\n`);
  }
  const { humanSize } = await import("../format.ts");
  out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
  return 0;
}

export function run(name: string, args: string[], g: Globals): Promise<number> {
  switch (name) {
    case "stop":
    case "restart":
      return stopLike(name, args, g);
    case "kill":
      return kill(name, args, g);
    case "rm":
      return rm(name, args, g);
    case "pause":
      return simple(name, args, g, "pause", "Pause all processes within one or more containers");
    case "unpause":
      return simple(
        name,
        args,
        g,
        "unpause",
        "Unpause all processes within one or more containers",
      );
    case "logs":
      return logs(name, args, g);
    case "wait":
      return wait(name, args, g);
    case "container inspect":
      return inspect(name, args, g);
    case "rename":
      return rename(name, args, g);
    case "top":
      return top(name, args, g);
    case "port":
      return port(name, args, g);
    case "container prune":
      return prune(name, args, g);
  }
  printErr(`berth: '${name}' is not a berth command.\n`);
  return Promise.resolve(1);
}
