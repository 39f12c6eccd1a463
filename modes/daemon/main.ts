/**
 * `berth daemon`: parse flags, take the root lock, open the stores, serve the
 * Engine API on a unix socket, shut down cleanly on SIGTERM/SIGINT.
 * @module
 */
import { parseArgs } from "node:util";
import { chmod } from "node:fs/promises";
import { ContentStore } from "../../core/store/content.ts";
import { LayerStore } from "../../core/store/layers.ts";
import { ImageStore } from "../../core/store/images.ts";
import { tryLock, unlock } from "../../core/sys/lock.ts";
import { messageOf } from "../../core/errdefs/mod.ts";
import { Router } from "./router.ts";
import { createApiServer, type Handler } from "./server.ts";
import { registerAll } from "./routes.ts";
import { ImageService } from "./images/service.ts";
import { type DaemonConfig, log, type Services, setLogLevel } from "./services.ts";
import { startAreas, stopAreas } from "./areas.ts";

const USAGE = `Usage:  berth daemon [OPTIONS]

Options:
      --root DIR                 Root of persistent state (default /var/lib/berth)
      --data-root DIR            Same as --root
  -H, --host unix:///PATH        Engine API socket (default unix:///run/berth/berth.sock)
      --exec-root DIR            Root of runtime state (default /run/berth)
  -l, --log-level LEVEL          debug|info|warn|error (default info)
      --add-runtime NAME=PATH    Register an OCI runtime (runc-compatible CLI)
      --default-runtime NAME     Runtime used when --runtime is not given (default berth)
      --insecure-registry HOST   Allow plain HTTP to this registry
      --bip CIDR                 Address of the default bridge
      --default-address-pool P   Pools for user-defined networks (base=CIDR,size=N)
`;

export function parseDaemonArgs(args: string[]): DaemonConfig {
  const { values } = parseArgs({
    args,
    options: {
      root: { type: "string" },
      "data-root": { type: "string" },
      host: { type: "string", short: "H" },
      "exec-root": { type: "string" },
      "log-level": { type: "string", short: "l" },
      "add-runtime": { type: "string", multiple: true },
      "default-runtime": { type: "string" },
      "insecure-registry": { type: "string", multiple: true },
      bip: { type: "string" },
      "default-address-pool": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const host = values.host ?? "unix:///run/berth/berth.sock";
  if (!host.startsWith("unix://")) {
    throw new Error(`unsupported host ${host}: only unix:// sockets`);
  }
  const level = (values["log-level"] ?? "info") as DaemonConfig["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(level)) {
    throw new Error(`invalid log level: ${level}`);
  }
  const runtimes: Record<string, string> = {};
  for (const r of values["add-runtime"] ?? []) {
    const i = r.indexOf("=");
    if (i < 1) throw new Error(`invalid --add-runtime ${r}: want NAME=PATH`);
    runtimes[r.slice(0, i)] = r.slice(i + 1);
  }
  return {
    root: values.root ?? values["data-root"] ?? "/var/lib/berth",
    execRoot: values["exec-root"] ?? "/run/berth",
    socket: host.slice("unix://".length),
    logLevel: level,
    runtimes,
    defaultRuntime: values["default-runtime"] ?? "berth",
    insecureRegistries: values["insecure-registry"] ?? [],
    bip: values.bip,
    defaultAddressPools: values["default-address-pool"],
  };
}

export async function main(args: string[]): Promise<number> {
  let config: DaemonConfig;
  try {
    config = parseDaemonArgs(args);
  } catch (e) {
    console.error(`berth daemon: ${messageOf(e)}\nSee 'berth daemon --help'.`);
    return 125;
  }
  setLogLevel(config.logLevel);
  await Deno.mkdir(config.root, { recursive: true, mode: 0o711 });
  await Deno.mkdir(config.execRoot, { recursive: true, mode: 0o711 });
  const lockFd = tryLock(`${config.root}/berth.lock`);
  if (lockFd < 0) {
    console.error(
      `berth daemon: another daemon is already using ${config.root} (lock ${config.root}/berth.lock is held)`,
    );
    return 1;
  }
  const content = new ContentStore(config.root);
  const layers = new LayerStore(config.root);
  const images = new ImageStore(config.root);
  await Promise.all([content.init(), layers.init(), images.init()]);
  const services = {
    config,
    content,
    layers,
    images,
    imageUsers: () => [],
    pinnedBlobs: new Set<string>(),
  } as unknown as Services;
  services.imageService = new ImageService(services);
  await startAreas(services);

  const router = new Router<Handler>();
  registerAll(router);
  const server = createApiServer(router, services);
  const sockDir = config.socket.slice(0, config.socket.lastIndexOf("/"));
  await Deno.mkdir(sockDir, { recursive: true });
  await Deno.remove(config.socket).catch(() => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.socket, () => resolve());
  });
  await chmod(config.socket, 0o660);
  log.info(`API listen on ${config.socket}`);

  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  const onSig = (name: string) => () => stop(name);
  Deno.addSignalListener("SIGTERM", onSig("SIGTERM"));
  Deno.addSignalListener("SIGINT", onSig("SIGINT"));
  const sig = await stopped;
  log.info(`received ${sig}, shutting down`);
  server.close();
  server.closeAllConnections?.();
  await stopAreas(services).catch((e) => log.warn(`stopping: ${messageOf(e)}`));
  await Deno.remove(config.socket).catch(() => {});
  unlock(lockFd);
  return 0;
}
