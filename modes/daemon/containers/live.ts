/**
 * The daemon's in-memory view of a container that goes beyond its record:
 * the shim connection, waiters, pending attaches and restart timers. One per
 * container, created on demand.
 * @module
 */
import type { ShimClient } from "../../../core/shim/client.ts";
import { handledElsewhere } from "../../../core/errdefs/ignore.ts";

export interface PendingAttach {
  /** called once the shim exists (container created, not yet started) */
  connect(shim: ShimClient): Promise<void>;
  /** the start failed: give up */
  fail(message: string): void;
}

export class Live {
  shim?: ShimClient;
  /** bumped on each start; exit reports for older starts are ignored */
  gen = 0;
  /** settles when the current start attempt has finished (either way) */
  starting: Promise<void> = Promise.resolve();
  exitWaiters: ((code: number) => void)[] = [];
  removeWaiters: ((code: number) => void)[] = [];
  pendingAttach = new Set<PendingAttach>();
  restartTimer?: ReturnType<typeof setTimeout>;
  /** force-removal in progress: no restart, no auto-remove */
  removing = false;
  /** last time the container was started (ms), for restart back-off */
  startedAtMs = 0;
  restartDelay = 0;
  #chain: Promise<unknown> = Promise.resolve();

  /** Run `fn` after every earlier serialised operation on this container. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(handledElsewhere); // p's caller gets its failure
    return p;
  }

  /** Resolves with the exit code at the next exit. */
  nextExit(): Promise<number> {
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  nextRemove(): Promise<number> {
    return new Promise((resolve) => this.removeWaiters.push(resolve));
  }

  notifyExit(code: number): void {
    const w = this.exitWaiters;
    this.exitWaiters = [];
    for (const f of w) f(code);
  }

  notifyRemove(code: number): void {
    const w = this.removeWaiters;
    this.removeWaiters = [];
    for (const f of w) f(code);
  }
}
