/**
 * Keep the idle daemon small: after start-up, and whenever the API has been
 * quiet for a while after some requests, run a full compacting GC, trim
 * malloc's free pages and unmap the executable's code pages this process
 * touched (core/sys/memory.ts). A quiet period is "no request began or ended"
 * — long-lived requests (attach, wait, events) do not hold it off, heavy ones
 * do. After a
 * heavy request (load, pull, push, build, save, import, commit, export, cp) the wait is
 * short: those leave megabytes of garbage and touch code no container path
 * needs.
 *
 * Nothing here runs on a request's path: a collection happens only once the
 * API is quiet, and costs a few milliseconds.
 *
 * @example
 * ```ts ignore
 * import { MemoryKeeper } from "./memory.ts";
 * const keeper = new MemoryKeeper();
 * keeper.collect(); // start-up garbage, before serving
 * keeper.watch(server);
 * ```
 * @module
 */
import type http from "node:http";
import type https from "node:https";
import { collectGarbage, dropExecutablePages } from "../../core/sys/memory.ts";
import { log } from "./log.ts";

/** Requests after which memory is given back at once (path without /vN.NN). */
const HEAVY =
  /^\/(images\/(load|create|get|.+\/(push|get))|build|commit|containers\/[^/]+\/(export|archive))$/;

/** Is this request URL (origin or absolute form) a heavy one? */
export function isHeavy(url: string | undefined): boolean {
  if (!url) return false;
  const path = new URL(url, "http://berth").pathname.replace(/^\/v\d+\.\d+(?=\/)/, "");
  return HEAVY.test(path);
}

export interface KeeperOptions {
  /** Quiet time before collecting after ordinary requests (ms). */
  idleMs?: number;
  /** Delay of the collection that follows heavy requests (ms). */
  heavyMs?: number;
  /** Collect at the next request even if never quiet, after this long (ms). */
  maxDirtyMs?: number;
}

export class MemoryKeeper {
  readonly idleMs: number;
  readonly heavyMs: number;
  readonly maxDirtyMs: number;
  /** When the first request since the last collection came (0: clean). */
  #dirtySince = 0;
  #heavyInFlight = 0;
  #heavyDone = false;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;
  /** Collections so far (for tests and logs). */
  collections = 0;

  constructor(opts: KeeperOptions = {}) {
    this.idleMs = opts.idleMs ?? 1000;
    this.heavyMs = opts.heavyMs ?? 20;
    this.maxDirtyMs = opts.maxDirtyMs ?? 60_000;
  }

  /** Follow the requests of the Engine API server. */
  watch(server: http.Server | https.Server): void {
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const heavy = isHeavy(req.url);
      this.begin(heavy);
      res.once("close", () => this.end(heavy));
    });
    server.on("upgrade", () => {
      this.begin(false);
      this.end(false);
    });
  }

  /** A request began. */
  begin(heavy = false): void {
    if (heavy) this.#heavyInFlight++;
    this.#touch();
  }

  /** A request ended. */
  end(heavy = false): void {
    if (heavy && --this.#heavyInFlight === 0) this.#heavyDone = true;
    this.#touch();
    if (this.#heavyDone && this.#heavyInFlight === 0 && this.#soon === undefined) {
      // Not postponed by other requests: collect right after the heavy work.
      this.#soon = setTimeout(() => {
        this.#soon = undefined;
        this.collect();
      }, this.heavyMs);
      Deno.unrefTimer(this.#soon as unknown as number);
    }
  }

  /** Collect now: full GC, malloc_trim, drop the executable's pages. */
  collect(): void {
    this.close();
    const t0 = performance.now();
    collectGarbage();
    dropExecutablePages();
    this.#dirtySince = 0;
    this.#heavyDone = false;
    this.collections++;
    log.debug(`memory: collected in ${(performance.now() - t0).toFixed(1)} ms`);
  }

  /** Stop the timers (daemon shutdown). */
  close(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    if (this.#soon !== undefined) clearTimeout(this.#soon);
    this.#idle = this.#soon = undefined;
  }

  /** Activity: collect after `idleMs` of quiet (sooner when dirty for long). */
  #touch(): void {
    const now = performance.now();
    if (this.#dirtySince === 0) this.#dirtySince = now;
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    const overdue = now - this.#dirtySince > this.maxDirtyMs;
    this.#idle = setTimeout(() => {
      this.#idle = undefined;
      // A heavy request still running collects when it ends (end()).
      if (this.#dirtySince !== 0 && this.#heavyInFlight === 0) this.collect();
    }, overdue ? 0 : this.idleMs);
    Deno.unrefTimer(this.#idle as unknown as number);
  }
}
