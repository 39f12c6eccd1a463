/**
 * go-units' human-readable sizes and durations, as Docker prints them. Pure;
 * shared by the client (images, ps) and the daemon (container status text).
 *
 * @example
 * ```ts
 * import { humanDuration, humanSize } from "./units.ts";
 * console.assert(humanSize(4261376) === "4.26MB" && humanDuration(61_000) === "About a minute");
 * ```
 * @module
 */

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/** go-units HumanSizeWithPrecision(size, 3): decimal units. */
export function humanSize(size: number): string {
  let i = 0;
  let s = size;
  while (s >= 1000 && i < UNITS.length - 1) {
    s /= 1000;
    i++;
  }
  return `${Number(s.toPrecision(3))}${UNITS[i]}`;
}

/** go-units BytesSize (binary, precision 4) used by e.g. `docker stats`. */
export function bytesSize(size: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let s = size;
  while (s >= 1024 && i < u.length - 1) {
    s /= 1024;
    i++;
  }
  return `${Number(s.toPrecision(4))}${u[i]}`;
}

/** go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3600000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(Math.floor(ms / 3600000) / 24 / 365)} years`;
}
