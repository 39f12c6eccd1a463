/**
 * The daemon's own events. dockerd reloads its configuration file on
 * SIGHUP and logs `daemon reload` with the settings in force; berth has no
 * configuration file, so a SIGHUP only logs the event (with the settings it
 * runs with, in dockerd's attribute names).
 * @module
 */
import type { DaemonConfig } from "../config.ts";
import type { Events } from "./log.ts";

/** Info's ID of this daemon. */
export const DAEMON_ID = "berth";

export function reloadEvent(c: DaemonConfig, events: Events): void {
  events.daemon("reload", DAEMON_ID, {
    "allow-nondistributable-artifacts": "[]",
    debug: String(c.logLevel === "debug"),
    "default-runtime": c.defaultRuntime,
    "insecure-registries": `[${c.insecureRegistries.join(" ")}]`,
    labels: "[]",
    "live-restore": "false",
    name: Deno.hostname(),
    "registry-mirrors": "[]",
    runtimes: ["berth", "runc", ...Object.keys(c.runtimes)].filter((v, i, a) => a.indexOf(v) === i)
      .join(", "),
    "shutdown-timeout": "15",
  });
}
