/**
 * The daemon's side of the shim: spawn a detached shim for a container and
 * talk to it over its control socket (protocol.ts). Works the same for a
 * shim this daemon spawned and for one a previous daemon left running.
 *
 * @example
 * ```ts ignore
 * const shim = await spawnShim(dir, config);
 * await shim.call({ op: "create" });
 * const waiting = shim.wait();          // resolves with ExitInfo
 * await shim.call({ op: "start" });
 * ```
 * @module
 */
import { bundleUnit, selfArgv } from "../sys/self.ts";
import { canRenice, cloexecFrom, setThreadNice, threadNice } from "../sys/libc_proc.ts";
import {
  encodeLine,
  type ExitInfo,
  readLine,
  type ShimConfig,
  type ShimReply,
  type ShimRequest,
  writeAll,
} from "./protocol.ts";
import { peerGone, removeIfExists } from "../errdefs/ignore.ts";

/** A shim reply with ok=false, as an Error (with errdefs-like kind and a Docker exit class). */
export class ShimError extends Error {
  readonly kind?: string;
  readonly exitCode?: number;
  constructor(r: ShimReply) {
    super(r.error ?? "shim error");
    this.name = "ShimError";
    this.kind = r.kind;
    this.exitCode = r.exitCode;
  }
}

/** An open streaming connection: the reply, any bytes already read after it, the conn. */
export interface ShimStream {
  reply: ShimReply;
  rest: Uint8Array;
  conn: Deno.UnixConn;
}

export class ShimClient {
  readonly dir: string;
  readonly socket: string;
  /** the task every request names (a CRI pod's container in the pod's shim); absent: the first */
  readonly task?: string;
  /** `dir`: the task's own directory (exit.json); `socket`: its shim's */
  constructor(dir: string, socket: string, task?: string) {
    this.dir = dir;
    this.socket = socket;
    this.task = task;
  }

  async #open(req: ShimRequest): Promise<ShimStream> {
    const conn = await Deno.connect({ transport: "unix", path: this.socket });
    try {
      await writeAll(conn, encodeLine(this.task ? { ...req, task: this.task } : req));
      const line = await readLine(conn);
      if (!line) throw new Error("shim closed the connection");
      const reply = line.value as ShimReply;
      if (!reply.ok) throw new ShimError(reply);
      return { reply, rest: line.rest, conn };
    } catch (e) {
      try {
        conn.close();
      } catch { /* closed */ }
      throw e;
    }
  }

  /** One request, one reply. */
  async call(req: ShimRequest): Promise<ShimReply> {
    const s = await this.#open(req);
    s.conn.close();
    return s.reply;
  }

  /** A streaming request (attach, exec): the connection stays open. */
  stream(req: ShimRequest): Promise<ShimStream> {
    return this.#open(req);
  }

  /**
   * Wait for the container's exit on a held connection. Resolves with the
   * exit info, or null when the connection broke without one (shim gone:
   * read exit.json then).
   */
  async wait(): Promise<ExitInfo | null> {
    const s = await this.#open({ op: "wait" });
    try {
      const line = await readLine(s.conn, 1 << 20, s.rest);
      return (line?.value as ExitInfo) ?? null;
    } catch {
      return null;
    } finally {
      try {
        s.conn.close();
      } catch { /* closed */ }
    }
  }

  /**
   * True when something answers on the socket; for a task, when its shim
   * still holds it (a shim that lost it, or a new shim, would say NotFound).
   */
  async alive(): Promise<boolean> {
    if (this.task) {
      return await this.call({ op: "state" }).then(
        () => true,
        (e) => !(e instanceof ShimError && e.kind === "NotFound") && !isConnectError(e),
      );
    }
    try {
      const c = await Deno.connect({ transport: "unix", path: this.socket });
      c.close();
      return true;
    } catch {
      return false;
    }
  }
}

/** The shim is not there: nothing listens on its socket, or the socket is gone. */
function isConnectError(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.ConnectionRefused ||
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    (e instanceof Error && e.message === "shim closed the connection");
}

/** Read exit.json left by a shim, if any. */
export async function readExitFile(dir: string): Promise<ExitInfo | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/exit.json`)) as ExitInfo;
  } catch {
    return null;
  }
}

/**
 * argv to start a shim. From source, run core/shim/entry.ts directly (no
 * config, no lockfile: the shim's graph has no bare specifiers) so the
 * process does not load the other personalities' module graphs; the
 * single file runs its extracted shim chunk the same way (tools/bundle.ts); a
 * compiled binary re-execs itself with `shim`.
 */
export function shimArgv(args: string[]): string[] {
  const main = Deno.mainModule;
  const unit = bundleUnit("core/shim/entry.js");
  if (unit || (main.startsWith("file://") && main.endsWith("/main.ts"))) {
    const entry = unit ?? decodeURIComponent(new URL("./entry.ts", import.meta.url).pathname);
    return [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      "--no-prompt",
      "--no-check",
      "--no-config",
      "--no-lock",
      "--no-code-cache",
      entry,
      ...args,
    ];
  }
  return selfArgv(["shim", ...args]);
}

/**
 * V8 flags for shims: a small young generation (a shim allocates little and
 * often) and `gc()` to drop start-up garbage once the container runs.
 */
export const SHIM_V8_FLAGS = "--max-semi-space-size=1,--expose-gc";

/**
 * How much nicer than the daemon a warm shim boots (and its warm init with
 * it): booting ahead of need is background work, and on a small host it
 * should take CPU from nobody who waits. The shim takes the daemon's nice
 * value back when it is adopted (BERTH_SHIM_NICE), and so does the container.
 */
export const WARM_NICE = 10;

function spawnDetached(
  args: string[],
  env?: Record<string, string>,
  nicer = 0,
): Deno.ChildProcess {
  const [cmd, ...rest] = shimArgv(args);
  // Nothing of ours may leak into the shim (the API listener above all: a
  // shim holding it would keep a dead daemon's socket accepting connections).
  try {
    cloexecFrom(3);
  } catch { /* old kernel: best effort */ }
  // nice is per thread and inherited at fork: lower ours around the spawn
  const base = threadNice();
  const niced = nicer > 0 && canRenice() && setThreadNice(base + nicer);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args: rest,
      stdin: "null",
      stdout: "piped", // one byte when it listens (main.ts signalReady), then /dev/null
      stderr: "null",
      detached: true,
      cwd: "/",
      env: { DENO_V8_FLAGS: SHIM_V8_FLAGS, BERTH_SHIM_NICE: String(base), ...env },
    }).spawn();
  } finally {
    if (niced) setThreadNice(base);
  }
  child.unref();
  // Reap it if it dies while we are alive (it is our child until we exit);
  // how it ended reaches the daemon over its socket and exit.json, not here.
  child.status.catch(() => {});
  return child;
}

/**
 * Wait until the shim listens on `path`: it writes one byte on its stdout
 * then (no polling: a poll interval is latency on every container start),
 * and connect. EOF or a timeout means it failed to come up.
 */
async function waitSocket(path: string, child: Deno.ChildProcess, timeoutMs: number) {
  const reader = child.stdout.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const r = await Promise.race([
      reader.read(),
      new Promise<null>((res) => timer = setTimeout(() => res(null), timeoutMs)),
    ]);
    if (!r || r.done) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      throw new Error(`shim did not come up on ${path}`);
    }
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(peerGone);
  }
  return await Deno.connect({ transport: "unix", path });
}

/**
 * Write shim.json and start `berth shim <dir>` detached (own session, no
 * pipes to us), then wait until its socket answers.
 */
export async function spawnShim(
  dir: string,
  cfg: ShimConfig,
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ShimClient> {
  await Deno.writeTextFile(`${dir}/shim.json`, JSON.stringify(cfg));
  await removeIfExists(`${dir}/exit.json`); // a stale one would report an old exit
  const child = spawnDetached([dir], opts.env);
  (await waitSocket(cfg.socket, child, opts.timeoutMs ?? 10_000)).close();
  return new ShimClient(dir, cfg.socket);
}

interface Warm {
  sock: string;
  hold: Deno.Conn;
}

/** A warm shim being booted or ready. */
interface Slot {
  warm: Promise<Warm | null>;
  ready: boolean;
}

/**
 * Keeps shims booted ahead of need (`berth shim --warm`), so starting a
 * container does not wait for a process to boot. A warm shim holds a
 * connection to us and exits when it closes (daemon gone) before adoption.
 *
 * One is kept ready. When starts come in a burst (the next one before the
 * last warm shim had finished booting, or within {@link ShimPool.BURST_MS}),
 * two are kept, so each has two starts' time to boot; after
 * {@link ShimPool.CALM_MS} without a start the pool goes back to one.
 */
export class ShimPool {
  static readonly BURST_MS = 500;
  static readonly CALM_MS = 10_000;
  readonly dir: string;
  #slots: Slot[] = [];
  #target = 1;
  #lastTake = -Infinity;
  #calm: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** Which runtime module warm shims preload ("berth" or an external one). */
  readonly preload: "berth" | "external";

  /** `dir` holds the warm sockets (the short socket dir). */
  constructor(dir: string, defaultRuntime = "berth") {
    this.dir = dir;
    this.preload = defaultRuntime === "berth" ? "berth" : "external";
  }

  /**
   * Boot warm shims up to the pool's size. The daemon calls this after a
   * start has finished, not when it takes one: a Deno boot running beside
   * the container's create costs that create ~10 ms of CPU on small hosts.
   */
  fill(): void {
    while (!this.#closed && this.#slots.length < this.#target) this.#slots.push(this.#boot());
  }

  #boot(): Slot {
    const sock = `${this.dir}/w-${crypto.randomUUID().slice(0, 8)}`;
    const slot: Slot = { ready: false, warm: Promise.resolve(null) };
    slot.warm = (async () => {
      const child = spawnDetached(["--warm", sock, this.preload], undefined, WARM_NICE);
      const hold = await waitSocket(sock, child, 10_000);
      await writeAll(hold, encodeLine({ op: "hold" }));
      return { sock, hold };
    })().catch(() => null) // no warm shim: take() starts a cold one
      .finally(() => slot.ready = true);
    return slot;
  }

  /** Start a shim for `dir` (adopting a warm one when there is one). */
  async take(dir: string, cfg: ShimConfig): Promise<ShimClient> {
    const slot = this.#slots.shift();
    const now = performance.now();
    if ((slot && !slot.ready) || now - this.#lastTake < ShimPool.BURST_MS) this.#target = 2;
    this.#lastTake = now;
    this.#calmDown();
    const w = slot ? await slot.warm : null;
    if (w) {
      await Deno.writeTextFile(`${dir}/shim.json`, JSON.stringify(cfg));
      await removeIfExists(`${dir}/exit.json`); // a stale one would report an old exit
      try {
        const c = await Deno.connect({ transport: "unix", path: w.sock });
        try {
          await writeAll(c, encodeLine({ op: "adopt", dir }));
          const line = await readLine(c);
          if ((line?.value as ShimReply | undefined)?.ok) {
            w.hold.close();
            return new ShimClient(dir, cfg.socket);
          }
        } finally {
          c.close();
        }
      } catch { /* fall back to a fresh shim */ }
      release(w);
    }
    return await spawnShim(dir, cfg);
  }

  /** After CALM_MS without a take: back to one warm shim. */
  #calmDown(): void {
    if (this.#calm !== undefined) clearTimeout(this.#calm);
    this.#calm = setTimeout(() => {
      this.#calm = undefined;
      this.#target = 1;
      for (const s of this.#slots.splice(1)) s.warm.then((w) => w && release(w));
    }, ShimPool.CALM_MS);
    Deno.unrefTimer(this.#calm as unknown as number);
  }

  /** Let the warm shims go (each exits when its hold connection closes). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#calm !== undefined) clearTimeout(this.#calm);
    for (const s of this.#slots.splice(0)) {
      const w = await s.warm;
      if (w) release(w);
    }
  }
}

/** A warm shim exits when its hold connection closes. */
function release(w: Warm): void {
  try {
    w.hold.close();
  } catch { /* closed */ }
}
