/**
 * The daemon's leveled logging to stderr (logrus's text format, as dockerd:
 * `time=… level=… msg=…`). One module with no imports, so any part of the
 * daemon (and the build code it runs) can log without reaching the
 * composition root (./daemon.ts).
 * @module
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

/** A logger that writes lines of `level` and above. */
export function makeLogger(level: LogLevel) {
  const order = ["debug", "info", "warn", "error"];
  const min = order.indexOf(level);
  const at = (l: string) => (msg: string) => {
    if (order.indexOf(l) >= min) {
      console.error(`time="${new Date().toISOString()}" level=${l} msg=${JSON.stringify(msg)}`);
    }
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** The daemon's logger: `info` until --log-level sets it (./main.ts). */
export const log = { ...makeLogger("info") };
export function setLogLevel(level: LogLevel): void {
  Object.assign(log, makeLogger(level));
}

/**
 * For `.catch(logFailure("removing x"))`: a failure that must not stop the
 * caller (cleanup that goes on, a background task) but must not go unseen:
 * it is logged as `what: message`.
 */
export function logFailure(what: string, level: "warn" | "error" = "warn"): (e: unknown) => void {
  return (e) => log[level](`${what}: ${e instanceof Error ? e.message : String(e)}`);
}
