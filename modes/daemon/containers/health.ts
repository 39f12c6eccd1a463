/**
 * Healthchecks (moby daemon/health.go): the image's HEALTHCHECK or the
 * container's `Healthcheck` runs as an exec in the container every
 * Interval (first one Interval after the start), killed after Timeout;
 * exit 0 is healthy, anything else a failure, and Retries consecutive
 * failures (not counted while in the start period and never healthy yet)
 * make it unhealthy. `State.Health` keeps Status, FailingStreak and the
 * last 5 results, saved in the record after each probe; a change of status
 * is a `health_status: …` event. Each probe is an exec and logs
 * exec_create/exec_start/exec_die, as in Docker.
 *
 * The checker runs in the daemon, as in dockerd: probes are execs, which
 * the daemon already drives; a shim-side checker would add timers and the
 * exec-building code to every shim's memory. While the daemon is down no
 * probe runs; at start the daemon resumes the monitor of every running
 * container from the state saved in its record.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { ContainerRecord, ContainerStore } from "../../../core/store/containers.ts";
import type { OciProcess, OciSpec } from "../../../core/oci/runtime_types.ts";
import { FRAME_EXIT, FrameParser, rfc3339Nano } from "../../../core/shim/protocol.ts";
import type { ShimClient } from "../../../core/shim/client.ts";
import { log } from "../log.ts";
import { newId } from "./names.ts";
import type { Events } from "../events/log.ts";
import type { Live } from "./live.ts";

export type HealthStatus = "starting" | "healthy" | "unhealthy";

export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthResult[];
}

import type { HealthConfig } from "../../../core/api/types.ts";

const SECOND = 1e9;
const DEFAULT_INTERVAL = 30 * SECOND;
const DEFAULT_TIMEOUT = 30 * SECOND;
const DEFAULT_RETRIES = 3;
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;
const MIN_DURATION = 1e6; // 1ms, moby's container.MinimumDuration

/**
 * moby's merge of the request's Healthcheck with the image's: what the
 * request leaves empty (no test, zero durations) comes from the image.
 */
export function mergeHealthcheck(
  user: HealthConfig | null | undefined,
  image: HealthConfig | null | undefined,
): HealthConfig | undefined {
  if (!user) return image ?? undefined;
  if (!image) return user;
  const m = { ...user };
  if (!m.Test?.length) m.Test = image.Test;
  if (!m.Interval) m.Interval = image.Interval;
  if (!m.Timeout) m.Timeout = image.Timeout;
  if (!m.StartPeriod) m.StartPeriod = image.StartPeriod;
  if (!m.Retries) m.Retries = image.Retries;
  return m;
}

/** moby's verifyContainerSettings for the Healthcheck (400 at create). */
export function checkHealthcheck(h: HealthConfig | null | undefined): void {
  if (!h) return;
  const d = (v: number | undefined, what: string) => {
    if (v && v < MIN_DURATION) {
      throw new InvalidArgument(`${what} in Healthcheck cannot be less than 1ms`);
    }
    if (v && v < 0) throw new InvalidArgument(`${what} in Healthcheck cannot be negative`);
  };
  d(h.Interval, "Interval");
  d(h.Timeout, "Timeout");
  d(h.StartPeriod, "StartPeriod");
  if ((h.Retries ?? 0) < 0) throw new InvalidArgument("Retries in Healthcheck cannot be negative");
}

/** The probe's argv, or undefined when there is no check (none, NONE, unknown kind). */
export function probeArgv(r: ContainerRecord): string[] | undefined {
  const t: string[] | null | undefined = r.Config.Healthcheck?.Test;
  if (!t?.length) return undefined;
  if (t[0] === "CMD" && t.length > 1) return t.slice(1);
  if (t[0] === "CMD-SHELL" && t.length > 1) {
    const shell: string[] = r.Config.Shell?.length ? r.Config.Shell : ["/bin/sh", "-c"];
    return [...shell, t.slice(1).join(" ")];
  }
  return undefined;
}

/** moby's exec event text: entrypoint, a space, the arguments ("ls " for a bare ls). */
export function execLine(cmd: string[]): string {
  return `${cmd[0]} ${cmd.slice(1).join(" ")}`;
}

/** `ps` and the health filter: none, starting, healthy, unhealthy. */
export function healthOf(r: ContainerRecord): string {
  return r.State.Health?.Status ?? "none";
}

interface Monitor {
  timer?: ReturnType<typeof setTimeout>;
  stopped: boolean;
}

/** What the monitor needs of the container service (./service.ts). */
export interface HealthHost {
  readonly store: ContainerStore;
  readonly events: Events;
  live(id: string): Live;
  shimDir(id: string): string;
}

export class HealthMonitor {
  #c: HealthHost;
  #mon = new Map<string, Monitor>();

  constructor(c: HealthHost) {
    this.#c = c;
  }

  /** The container (re)started: reset to starting and begin probing. */
  started(r: ContainerRecord): void {
    this.stop(r.Id);
    if (!probeArgv(r)) {
      delete r.State.Health;
      return;
    }
    r.State.Health = {
      Status: "starting",
      FailingStreak: 0,
      Log: r.State.Health?.Log ?? [],
    };
    this.resume(r);
  }

  /** Probe again (daemon start, unpause) from the state in the record. */
  resume(r: ContainerRecord): void {
    if (!probeArgv(r) || this.#mon.has(r.Id)) return;
    r.State.Health ??= { Status: "starting", FailingStreak: 0, Log: [] };
    const m: Monitor = { stopped: false };
    this.#mon.set(r.Id, m);
    this.#schedule(r, m);
  }

  stop(id: string): void {
    const m = this.#mon.get(id);
    if (!m) return;
    m.stopped = true;
    clearTimeout(m.timer);
    this.#mon.delete(id);
  }

  close(): void {
    for (const id of [...this.#mon.keys()]) this.stop(id);
  }

  #schedule(r: ContainerRecord, m: Monitor): void {
    const interval = (r.Config.Healthcheck?.Interval || DEFAULT_INTERVAL) / 1e6;
    m.timer = setTimeout(() => {
      this.#probeOnce(r, m)
        .catch((e) => log.warn(`healthcheck ${r.Id.slice(0, 12)}: ${(e as Error).message}`))
        .finally(() => {
          if (!m.stopped) this.#schedule(r, m);
        });
    }, interval);
  }

  async #probeOnce(r: ContainerRecord, m: Monitor): Promise<void> {
    const argv = probeArgv(r);
    const live = this.#c.live(r.Id);
    if (!argv || !live.shim || !r.State.Running || r.State.Paused) return;
    const timeoutMs = (r.Config.Healthcheck?.Timeout || DEFAULT_TIMEOUT) / 1e6;
    const start = rfc3339Nano();
    const startMs = Date.now();
    let result: HealthResult;
    try {
      const { exitCode, output, timedOut, end } = await this.#exec(r, live.shim, argv, timeoutMs);
      result = timedOut
        ? {
          Start: start,
          End: end,
          ExitCode: -1,
          Output: `Health check exceeded timeout (${goSeconds(timeoutMs)})`,
        }
        : { Start: start, End: rfc3339Nano(), ExitCode: exitCode, Output: output };
    } catch (e) {
      result = { Start: start, End: rfc3339Nano(), ExitCode: -1, Output: (e as Error).message };
    }
    if (m.stopped || !r.State.Running) return;
    await this.#record(r, result, startMs);
  }

  /** moby's handleProbeResult. */
  async #record(r: ContainerRecord, res: HealthResult, startMs: number): Promise<void> {
    const h = r.State.Health ??= { Status: "starting", FailingStreak: 0, Log: [] };
    const old = h.Status;
    h.Log = [...h.Log, res].slice(-MAX_LOG);
    if (res.ExitCode === 0) {
      h.FailingStreak = 0;
      h.Status = "healthy";
    } else {
      const startPeriod = (r.Config.Healthcheck?.StartPeriod || 0) / 1e6;
      const inStart = h.Status === "starting" &&
        startMs - Date.parse(r.State.StartedAt) < startPeriod;
      if (!inStart) {
        h.FailingStreak++;
        if (h.FailingStreak >= (r.Config.Healthcheck?.Retries || DEFAULT_RETRIES)) {
          h.Status = "unhealthy";
        }
      }
    }
    await this.#c.store.save(r).catch((e) =>
      log.warn(`saving health of ${r.Id.slice(0, 12)}: ${(e as Error).message}`)
    );
    if (old !== h.Status) this.#c.events.container(`health_status: ${h.Status}`, r);
  }

  /** Run the probe as an exec through the shim; output capped at 4 KiB. */
  async #exec(
    r: ContainerRecord,
    shim: ShimClient,
    argv: string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number; output: string; timedOut: boolean; end: string }> {
    const spec = JSON.parse(
      await Deno.readTextFile(`${this.#c.shimDir(r.Id)}/config.json`),
    ) as OciSpec;
    const proc: OciProcess = { ...spec.process, args: argv, terminal: false };
    delete proc.consoleSize;
    const execID = newId();
    const line = execLine(argv);
    this.#c.events.container(`exec_create: ${line}`, r, { execID });
    const s = await shim.stream({
      op: "exec",
      exec: execID,
      process: proc as unknown as Record<string, unknown>,
      tty: false,
      stdin: false,
    });
    this.#c.events.container(`exec_start: ${line}`, r, { execID });
    const pid = Number(s.reply.pid ?? 0);
    const parser = new FrameParser();
    const chunks: Uint8Array[] = [];
    let size = 0;
    let exitCode = -1;
    const feed = (b: Uint8Array) => {
      for (const f of parser.push(b)) {
        if (f.type === FRAME_EXIT) {
          const info = JSON.parse(new TextDecoder().decode(f.payload));
          exitCode = info.error ? 126 : info.exitCode;
          if (info.error) chunks.push(new TextEncoder().encode(info.error));
        } else if (size < MAX_OUTPUT) {
          const p = f.payload.subarray(0, MAX_OUTPUT - size);
          chunks.push(p);
          size += p.length;
        }
      }
    };
    const pump = (async () => {
      feed(s.rest);
      const buf = new Uint8Array(4096);
      for (;;) {
        const n = await s.conn.read(buf).catch(() => null); // broken: the end, as EOF
        if (n === null) break;
        feed(buf.subarray(0, n));
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      pump.then(() => false),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), timeoutMs)),
    ]);
    clearTimeout(timer);
    const end = rfc3339Nano();
    if (timedOut) {
      // as later mobys: TERM the probe (runc exec forwards it) and let it go
      if (pid > 0) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch { /* already gone */ }
      }
      const late = setTimeout(() => s.conn.close(), 10_000);
      await pump;
      clearTimeout(late);
    }
    try {
      s.conn.close();
    } catch { /* closed by the timeout above */ }
    this.#c.events.container("exec_die", r, { execID, exitCode: String(exitCode) });
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return { exitCode, output: new TextDecoder().decode(out), timedOut, end };
  }
}

/** Go's Duration.String() of a timeout ("500ms", "1.5s", "1m30s"). */
export function goSeconds(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000), m = Math.floor(ms / 60_000) % 60;
  const s = `${(ms % 60_000) / 1000}s`;
  return h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
}
