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
import { selfArgv } from "../sys/self.ts";
import { cloexecFrom } from "../sys/libc_proc.ts";
import {
  encodeLine,
  type ExitInfo,
  readLine,
  type ShimConfig,
  type ShimReply,
  type ShimRequest,
  writeAll,
} from "./protocol.ts";

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
  constructor(dir: string, socket: string) {
    this.dir = dir;
    this.socket = socket;
  }

  async #open(req: ShimRequest): Promise<ShimStream> {
    const conn = await Deno.connect({ transport: "unix", path: this.socket });
    try {
      await writeAll(conn, encodeLine(req));
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

  /** True when something answers on the socket. */
  async alive(): Promise<boolean> {
    try {
      const c = await Deno.connect({ transport: "unix", path: this.socket });
      c.close();
      return true;
    } catch {
      return false;
    }
  }
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
 * process does not load the other personalities' module graphs; a compiled
 * binary or a bundle re-execs itself with `shim`.
 */
export function shimArgv(args: string[]): string[] {
  const main = Deno.mainModule;
  if (main.startsWith("file://") && main.endsWith("/main.ts")) {
    const entry = decodeURIComponent(new URL("./entry.ts", import.meta.url).pathname);
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

function spawnDetached(args: string[], env?: Record<string, string>): Deno.ChildProcess {
  const [cmd, ...rest] = shimArgv(args);
  // Nothing of ours may leak into the shim (the API listener above all: a
  // shim holding it would keep a dead daemon's socket accepting connections).
  try {
    cloexecFrom(3);
  } catch { /* old kernel: best effort */ }
  const child = new Deno.Command(cmd, {
    args: rest,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
    cwd: "/",
    env: { DENO_V8_FLAGS: SHIM_V8_FLAGS, ...env },
  }).spawn();
  child.unref();
  // Reap it if it dies while we are alive (it is our child until we exit).
  child.status.catch(() => {});
  return child;
}

async function waitSocket(path: string, child: Deno.ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    try {
      const c = await Deno.connect({ transport: "unix", path });
      return c;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      throw new Error(`shim did not come up on ${path}`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 8);
  }
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
  await Deno.remove(`${dir}/exit.json`).catch(() => {});
  const child = spawnDetached([dir], opts.env);
  (await waitSocket(cfg.socket, child, opts.timeoutMs ?? 10_000)).close();
  return new ShimClient(dir, cfg.socket);
}

interface Warm {
  sock: string;
  hold: Deno.Conn;
}

/**
 * Keeps one shim booted ahead of need (`berth shim --warm`), so starting a
 * container does not wait for a process to boot. The warm shim holds a
 * connection to us and exits when it closes (daemon gone) before adoption.
 */
export class ShimPool {
  readonly dir: string;
  #warm?: Promise<Warm | null>;
  #closed = false;

  /** Which runtime module warm shims preload ("berth" or an external one). */
  readonly preload: "berth" | "external";

  /** `dir` holds the warm sockets (the short socket dir). */
  constructor(dir: string, defaultRuntime = "berth") {
    this.dir = dir;
    this.preload = defaultRuntime === "berth" ? "berth" : "external";
  }

  /**
   * Boot a warm shim unless one is there. The daemon calls this after a
   * start has finished, not when it takes one: a Deno boot running beside
   * the container's create costs that create ~10 ms of CPU on small hosts.
   */
  fill(): void {
    if (this.#warm || this.#closed) return;
    const sock = `${this.dir}/w-${crypto.randomUUID().slice(0, 8)}`;
    this.#warm = (async () => {
      const child = spawnDetached(["--warm", sock, this.preload]);
      const hold = await waitSocket(sock, child, 10_000);
      await writeAll(hold, encodeLine({ op: "hold" }));
      return { sock, hold };
    })().catch(() => null);
  }

  /** Start a shim for `dir` (adopting the warm one when there is one). */
  async take(dir: string, cfg: ShimConfig): Promise<ShimClient> {
    const pending = this.#warm;
    this.#warm = undefined;
    const w = pending ? await pending : null;
    if (w) {
      await Deno.writeTextFile(`${dir}/shim.json`, JSON.stringify(cfg));
      await Deno.remove(`${dir}/exit.json`).catch(() => {});
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
      try {
        w.hold.close();
      } catch { /* closed */ }
    }
    return await spawnShim(dir, cfg);
  }

  /** Let the warm shim go (it exits when its hold connection closes). */
  async close(): Promise<void> {
    this.#closed = true;
    const w = await this.#warm;
    try {
      w?.hold.close();
    } catch { /* closed */ }
  }
}
