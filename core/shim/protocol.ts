/**
 * The shim's control protocol, shared by the shim (server) and the daemon
 * (core/shim/client.ts). One request per unix-socket connection:
 *
 *     client → {"op":"state"}\n
 *     shim   → {"ok":true,…}\n          (or {"ok":false,"error":"…","kind":"NotFound"})
 *
 * Streaming ops (attach, exec, wait) keep the connection open after the reply
 * line: the client's bytes are the process's stdin (raw, half-close = EOF),
 * the shim's bytes are output frames with Docker's 8-byte header
 * `[type,0,0,0,len BE u32]` (1 stdout, 2 stderr; with a TTY everything is 1).
 * An exec stream ends with one frame of type {@link FRAME_EXIT} whose payload
 * is the JSON {@link ExitInfo}.
 *
 * The shim's files, in its directory `<exec-root>/shims/<id>/`:
 * shim.json (ShimConfig, from the daemon), config.json + rootfs/ (the OCI
 * bundle), shim.pid, exit.json (ExitInfo, written atomically before the shim
 * exits). The socket lives at `<exec-root>/s/<first 24 hex of id>` because a
 * unix socket path must fit in 108 bytes.
 *
 * Tasks: a shim starts with one task, the container of its shim.json (the
 * Engine API's containers, one shim each, as Docker's). A CRI pod's shim
 * (started for the pod's holder) also runs the pod's containers, as
 * containerd's runc v2 shim groups a sandbox: `{"op":"create","task":ID,
 * "config":ShimConfig,"dir":DIR}` adds one (its own IO, log, init.pid and
 * exit.json in DIR), and every other op names it with `task` (absent: the
 * first task). `delete` forgets a task (killing it if it still runs). The
 * shim ends when every task it holds has exited (or was deleted), or on
 * `shutdown`, which kills whatever still runs.
 * @module
 */
import { concatBytes } from "../bytes.ts";

/** What the daemon tells a shim (written to shim.json before spawning it). */
export interface ShimConfig {
  /** the container's id as the OCI runtime knows it (may be a prefix of berth's) */
  id: string;
  /** control socket path (kept short: sun_path holds 108 bytes) */
  socket: string;
  /** OCI bundle directory (config.json, rootfs/) */
  bundle: string;
  runtime: {
    /** "berth" = built-in; else an external runc-compatible CLI */
    name: string;
    path?: string;
    /** runtime state root (like `runc --root`) */
    root: string;
    /** argv prefix that starts berth (for the built-in runtime's `init`) */
    berthArgv?: string[];
  };
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  /** log file path; "" for no logs */
  logPath: string;
  /** the log's format: Docker's json-file (default) or the CRI's (core/shim/jsonlog.ts) */
  logFormat?: "json-file" | "cri";
  /** rotate when a file exceeds this many bytes (0 = never) */
  logMaxSize?: number;
  /** number of files kept, the live one included (default 1) */
  logMaxFile?: number;
  /** [height, width] of the tty at creation */
  consoleSize?: [number, number];
}

/** How a process ended. */
export interface ExitInfo {
  exitCode: number;
  signal?: number;
  /** RFC3339Nano */
  exitedAt: string;
  oomKilled?: boolean;
  /** set when the process could not be started or the shim failed */
  error?: string;
  /**
   * set when the shim could not make the runtime forget the container after
   * the exit (its delete failed twice): the daemon logs it and deletes it
   * itself (reap.ts finishRuntimeCleanup)
   */
  cleanupError?: string;
}

export type ShimStatus = "created" | "running" | "paused" | "stopped";

export interface ShimState {
  id: string;
  status: ShimStatus;
  pid: number;
  shimPid: number;
  startedAt?: string;
  exit?: ExitInfo;
}

/** Every request may name the task it is for (absent: the shim's first task). */
export type ShimRequest = ShimOp & { task?: string };

export type ShimOp =
  /** with `config` and `dir`: add a task (a pod's container) to this shim */
  | { op: "create"; config?: ShimConfig; dir?: string }
  | { op: "start" }
  | { op: "state" }
  | { op: "kill"; signal: number; all?: boolean }
  | { op: "wait" }
  | { op: "attach"; stdin?: boolean; stdout?: boolean; stderr?: boolean }
  | { op: "resize"; h: number; w: number; exec?: string }
  | {
    op: "exec";
    exec: string;
    process: Record<string, unknown>;
    tty: boolean;
    stdin: boolean;
    detach?: boolean;
  }
  | { op: "pause" }
  | { op: "resume" }
  | { op: "pids" }
  | { op: "stats" }
  /** open the log file again by its path (the CRI's ReopenContainerLog, after kubelet rotated it) */
  | { op: "reopen-log" }
  /** forget the task (killed first if it still runs); the shim ends with its last task */
  | { op: "delete" }
  /** a task is coming soon (a pod's next container): boot its runtime's init now */
  | { op: "prewarm" }
  | { op: "shutdown" };

export interface ShimReply {
  ok: boolean;
  error?: string;
  /** core/errdefs kind, or a Docker exit-code class for create/exec errors */
  kind?: string;
  exitCode?: number;
  [k: string]: unknown;
}

export const FRAME_STDIN = 0;
export const FRAME_STDOUT = 1;
export const FRAME_STDERR = 2;
/** Last frame of an exec stream: JSON ExitInfo. */
export const FRAME_EXIT = 5;

/** Docker's stream frame: 8-byte header + payload. */
export function frame(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

/** Incremental parser of Docker stream frames. */
export class FrameParser {
  #buf = new Uint8Array(0);
  /** Feed bytes; returns the complete frames now available. */
  push(chunk: Uint8Array): { type: number; payload: Uint8Array }[] {
    let b = this.#buf.length ? concatBytes(this.#buf, chunk) : chunk;
    const out: { type: number; payload: Uint8Array }[] = [];
    while (b.length >= 8) {
      const len = new DataView(b.buffer, b.byteOffset, 8).getUint32(4);
      if (b.length < 8 + len) break;
      out.push({ type: b[0], payload: b.slice(8, 8 + len) });
      b = b.subarray(8 + len);
    }
    this.#buf = b.length ? b.slice() : new Uint8Array(0);
    return out;
  }
}

/** RFC3339 with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano). */
export function rfc3339Nano(ns?: bigint): string {
  const t = ns ?? nowNs();
  const ms = Number(t / 1_000_000n);
  const frac = (t % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const base = new Date(ms).toISOString().slice(0, 19);
  return frac ? `${base}.${frac}Z` : `${base}Z`;
}

/** Wall clock in nanoseconds (microsecond resolution). */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Read one `\n`-terminated JSON line from a connection. Returns the value
 * and whatever bytes came after the newline (the start of a stream).
 */
export async function readLine(
  r: { read(p: Uint8Array): Promise<number | null> },
  max = 1 << 20,
  initial: Uint8Array = new Uint8Array(0),
): Promise<{ value: unknown; rest: Uint8Array } | null> {
  let acc = initial;
  const buf = new Uint8Array(16384);
  for (;;) {
    const j = acc.indexOf(10);
    if (j >= 0) {
      return { value: JSON.parse(dec.decode(acc.subarray(0, j))), rest: acc.slice(j + 1) };
    }
    const n = await r.read(buf);
    if (n === null) return null;
    acc = concatBytes(acc, buf.subarray(0, n));
    if (acc.length > max) throw new Error("protocol line too long");
  }
}

export function encodeLine(v: unknown): Uint8Array {
  return enc.encode(JSON.stringify(v) + "\n");
}

/** Write all bytes to a Deno writer. */
export async function writeAll(
  w: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < data.length) off += await w.write(data.subarray(off));
}
