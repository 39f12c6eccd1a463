/**
 * The client personality: global options, then one command module loaded
 * lazily from the table below. Each module exports `run(name, args, g)`.
 * @module
 */
import { BERTH_VERSION } from "../../core/version.ts";
import { lazy } from "../../core/sys/lazy.ts";
import { type Globals, makeGlobals, reportError } from "./cli.ts";
import type { TlsFlags } from "./dial.ts";

export type Runner = (name: string, args: string[], g: Globals) => Promise<number>;
interface Entry {
  summary: string;
  load: () => Promise<{ run: Runner }>;
  hidden?: boolean;
}

// Non-literal loads (core/sys/lazy.ts): a command reads only its own modules.
// `fn` names the module's runner when it is not `run`.
const cmd = (name: string, fn = "run") => async () => ({
  run: (await lazy<Record<string, Runner>>(`modes/client/commands/${name}.ts`))[fn],
});
const images = cmd("images");
const system = cmd("system");
const containers = cmd("containers");
const volumes = cmd("volumes");
const networks = cmd("networks");
const distribution = cmd("distribution");

/** Top-level commands. Areas add their own lines. */
export const COMMANDS: Record<string, Entry> = {
  images: { summary: "List images", load: images },
  rmi: { summary: "Remove one or more images", load: images },
  tag: { summary: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", load: images },
  load: { summary: "Load an image from a tar archive or STDIN", load: images },
  save: { summary: "Save one or more images to a tar archive", load: images },
  import: {
    summary: "Import the contents from a tarball to create a filesystem image",
    load: images,
  },
  history: { summary: "Show the history of an image", load: images },
  build: { summary: "Build an image from a Dockerfile", load: cmd("build") },
  pull: { summary: "Download an image from a registry", load: distribution },
  push: { summary: "Upload an image to a registry", load: distribution },
  login: { summary: "Log in to a registry", load: distribution },
  logout: { summary: "Log out from a registry", load: distribution },
  version: { summary: "Show the berth version information", load: system },
  info: { summary: "Display system-wide information", load: system },
  inspect: { summary: "Return low-level information on berth objects", load: system },
  // run/create/start/attach, ps and exec load their own modules, not containers.ts's graph
  run: { summary: "Create and run a new container from an image", load: cmd("containers_run") },
  create: { summary: "Create a new container", load: cmd("containers_run") },
  start: { summary: "Start one or more stopped containers", load: cmd("containers_run", "start") },
  stop: { summary: "Stop one or more running containers", load: containers },
  restart: { summary: "Restart one or more containers", load: containers },
  kill: { summary: "Kill one or more running containers", load: containers },
  rm: { summary: "Remove one or more containers", load: containers },
  ps: { summary: "List containers", load: cmd("containers_ps", "ps") },
  logs: { summary: "Fetch the logs of a container", load: containers },
  wait: {
    summary: "Block until one or more containers stop, then print their exit codes",
    load: containers,
  },
  exec: { summary: "Execute a command in a running container", load: cmd("exec") },
  attach: {
    summary: "Attach local standard input, output, and error streams to a running container",
    load: cmd("containers_run", "attach"),
  },
  rename: { summary: "Rename a container", load: containers },
  top: { summary: "Display the running processes of a container", load: containers },
  port: { summary: "List port mappings or a specific mapping for the container", load: containers },
  pause: { summary: "Pause all processes within one or more containers", load: containers },
  unpause: { summary: "Unpause all processes within one or more containers", load: containers },
  cp: {
    summary: "Copy files/folders between a container and the local filesystem",
    load: cmd("cp"),
  },
  export: { summary: "Export a container's filesystem as a tar archive", load: cmd("cp") },
  stats: {
    summary: "Display a live stream of container(s) resource usage statistics",
    load: cmd("stats"),
  },
  update: { summary: "Update configuration of one or more containers", load: cmd("update") },
  commit: { summary: "Create a new image from a container's changes", load: cmd("commit") },
  events: { summary: "Get real time events from the server", load: cmd("events") },
};

/** `berth GROUP SUB` → top-level command name (docker's management commands). */
export const GROUPS: Record<string, Record<string, string>> = {
  image: {
    ls: "images",
    list: "images",
    rm: "rmi",
    remove: "rmi",
    tag: "tag",
    load: "load",
    save: "save",
    import: "import",
    history: "history",
    inspect: "image inspect",
    prune: "image prune",
    pull: "pull",
    push: "push",
    build: "build",
  },
  system: { info: "info", prune: "system prune", df: "system df", events: "events" },
  container: {
    ls: "ps",
    list: "ps",
    ps: "ps",
    run: "run",
    create: "create",
    start: "start",
    stop: "stop",
    restart: "restart",
    kill: "kill",
    rm: "rm",
    remove: "rm",
    logs: "logs",
    wait: "wait",
    exec: "exec",
    attach: "attach",
    rename: "rename",
    top: "top",
    port: "port",
    pause: "pause",
    unpause: "unpause",
    cp: "cp",
    export: "export",
    stats: "stats",
    update: "update",
    commit: "commit",
    inspect: "container inspect",
    prune: "container prune",
  },
  network: {
    create: "network create",
    ls: "network ls",
    list: "network ls",
    inspect: "network inspect",
    rm: "network rm",
    remove: "network rm",
    prune: "network prune",
    connect: "network connect",
    disconnect: "network disconnect",
  },
  volume: {
    create: "volume create",
    ls: "volume ls",
    list: "volume ls",
    inspect: "volume inspect",
    rm: "volume rm",
    remove: "volume rm",
    prune: "volume prune",
  },
};

/** Commands only reachable through a group, mapped to their module. */
export const SUBCOMMANDS: Record<string, Entry> = {
  "system prune": { summary: "Remove unused data", load: system },
  "system df": { summary: "Show berth disk usage", load: system },
  "image inspect": { summary: "Display detailed information on one or more images", load: images },
  "image prune": { summary: "Remove unused images", load: images },
  "container inspect": {
    summary: "Display detailed information on one or more containers",
    load: containers,
  },
  "container prune": { summary: "Remove all stopped containers", load: containers },
  "volume create": { summary: "Create a volume", load: volumes },
  "volume ls": { summary: "List volumes", load: volumes },
  "volume inspect": {
    summary: "Display detailed information on one or more volumes",
    load: volumes,
  },
  "volume rm": { summary: "Remove one or more volumes", load: volumes },
  "volume prune": { summary: "Remove unused local volumes", load: volumes },
  "network create": { summary: "Create a network", load: networks },
  "network ls": { summary: "List networks", load: networks },
  "network inspect": {
    summary: "Display detailed information on one or more networks",
    load: networks,
  },
  "network rm": { summary: "Remove one or more networks", load: networks },
  "network prune": { summary: "Remove all unused networks", load: networks },
  "network connect": { summary: "Connect a container to a network", load: networks },
  "network disconnect": { summary: "Disconnect a container from a network", load: networks },
};

function usage(): string {
  const names = Object.keys(COMMANDS).filter((k) => !COMMANDS[k].hidden).sort();
  const w = Math.max(...names.map((n) => n.length)) + 2;
  return `
Usage:  berth [OPTIONS] COMMAND

A self-contained container engine

Personalities:
  daemon      Serve the Engine API (unix socket, tcp, TLS)
  registry    Serve the OCI Distribution API

Commands:
${names.map((n) => `  ${n.padEnd(w)}${COMMANDS[n].summary}`).join("\n")}

Management Commands:
${Object.keys(GROUPS).sort().map((g) => `  ${g}`).join("\n")}

Global Options:
  -H, --host string      Daemon to connect to: unix:///PATH or tcp://HOST:PORT
                         (env BERTH_HOST, DOCKER_HOST)
      --tls              Use TLS; implied by --tlsverify
      --tlsverify        Use TLS and verify the remote (env DOCKER_TLS_VERIFY)
      --tlscacert string Trust certs signed only by this CA (default "~/.docker/ca.pem")
      --tlscert string   Path to TLS certificate file (default "~/.docker/cert.pem")
      --tlskey string    Path to TLS key file (default "~/.docker/key.pem")
      --config string    Location of client config files (default "~/.docker")
  -D, --debug            Enable debug mode
  -v, --version          Print version information and quit

Run 'berth COMMAND --help' for more information on a command.
`;
}

/**
 * A global TLS flag at argv[i] (`a`, with `next` after it) into `f`: how many
 * arguments it took (0: not one).
 */
function tlsFlag(a: string, next: string | undefined, f: TlsFlags): number {
  const eq = a.indexOf("=");
  const name = eq > 0 ? a.slice(0, eq) : a;
  const v = eq > 0 ? a.slice(eq + 1) : undefined;
  if (name === "--tls" || name === "--tlsverify") {
    const b = v === undefined || ["1", "t", "T", "true", "TRUE", "True"].includes(v);
    f[name === "--tls" ? "tls" : "tlsverify"] = b;
    return 1;
  }
  if (name === "--tlscacert" || name === "--tlscert" || name === "--tlskey") {
    f[name.slice(2) as "tlscacert" | "tlscert" | "tlskey"] = v ?? next;
    return v === undefined ? 2 : 1;
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let host: string | undefined;
  let debug = false;
  let configDir: string | undefined;
  const tlsFlags: TlsFlags = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    const tf = tlsFlag(a, argv[i + 1], tlsFlags);
    if (tf) i += tf - 1;
    else if (a === "-H" || a === "--host") host = argv[++i];
    else if (a.startsWith("--host=")) host = a.slice(7);
    else if (a === "--config") configDir = argv[++i];
    else if (a.startsWith("--config=")) configDir = a.slice(9);
    else if (a === "-D" || a === "--debug") debug = true;
    else if (a === "-l" || a === "--log-level") i++;
    else if (a === "-v" || a === "--version") {
      console.log(`berth version ${BERTH_VERSION}`);
      return 0;
    } else if (a === "-h" || a === "--help") {
      console.log(usage());
      return 0;
    } else if (a.startsWith("-")) {
      console.error(`unknown flag: ${a}\nSee 'berth --help'.`);
      return 125;
    } else break;
  }
  const rest = argv.slice(i);
  if (rest.length === 0) {
    console.log(usage());
    return 0;
  }
  let [name, ...args] = rest;
  let entry: Entry | undefined = COMMANDS[name];
  const group = GROUPS[name];
  if (group) {
    const sub = args[0];
    if (!sub || sub === "--help" || sub === "-h") {
      console.log(
        `\nUsage:  berth ${name} COMMAND\n\nCommands:\n${
          Object.keys(group).map((k) => `  ${k}`).join("\n")
        }\n`,
      );
      return sub ? 0 : 1;
    }
    const target = group[sub];
    if (!target) {
      console.error(`berth: '${name} ${sub}' is not a berth command.\nSee 'berth ${name} --help'`);
      return 1;
    }
    name = target;
    args = args.slice(1);
    entry = COMMANDS[target] ?? SUBCOMMANDS[target];
  }
  if (!entry) {
    console.error(`berth: '${name}' is not a berth command.\nSee 'berth --help'`);
    return 1;
  }
  const g = makeGlobals(host, debug, configDir, tlsFlags);
  try {
    const mod = await entry.load();
    return await mod.run(name, args, g);
  } catch (e) {
    return reportError(e);
  } finally {
    try {
      g.api().close();
    } catch { /* never opened */ }
  }
}
