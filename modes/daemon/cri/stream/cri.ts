/**
 * The CRI's Exec, Attach and PortForward: validate the request (kubelet's
 * and containerd's checks), answer a one-time URL of the streaming server
 * (./server.ts, listening from the first such call), and serve it: exec and
 * attach through the container's shim (the exec and attach streams
 * ExecSync and the Engine API use), port-forward inside the pod's network
 * namespace.
 * @module
 */
import { InvalidArgument } from "../../../../core/errdefs/mod.ts";
import {
  type ExitInfo,
  FRAME_EXIT,
  FRAME_STDERR,
  FRAME_STDOUT,
  FrameParser,
  writeAll,
} from "../../../../core/shim/protocol.ts";
import type { ShimStream } from "../../../../core/shim/client.ts";
import type { DaemonConfig } from "../../config.ts";
import { log, logFailure } from "../../log.ts";
import type { CriContainers } from "../containers.ts";
import type { CriPods } from "../pods.ts";
import type { Msg, Unary } from "../types.ts";
import { PORTFORWARD_PROTOCOL, servePortForward } from "./portforward.ts";
import {
  type Outcome,
  REMOTECOMMAND_PROTOCOLS,
  type RemoteIO,
  serveRemoteCommand,
  type TerminalSize,
} from "./remotecommand.ts";
import { StreamServer } from "./server.ts";
import { serveRemoteCommandWs, WS_PROTOCOLS } from "./websocket.ts";

function validateStdio(req: Msg): void {
  if (!req.container_id) throw new InvalidArgument("missing required container_id");
  if (req.tty && req.stderr) {
    throw new InvalidArgument("tty and stderr cannot both be true");
  }
  if (!req.stdin && !req.stdout && !req.stderr) {
    throw new InvalidArgument("one of stdin, stdout, or stderr must be set");
  }
}

/** The streams a request asks for. */
function stdio(req: Msg): { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } {
  return { stdin: !!req.stdin, stdout: !!req.stdout, stderr: !!req.stderr, tty: !!req.tty };
}

export class CriStreaming {
  readonly server: StreamServer;
  readonly #containers: CriContainers;
  readonly #pods: CriPods;

  constructor(config: DaemonConfig, pods: CriPods, containers: CriContainers) {
    this.#pods = pods;
    this.#containers = containers;
    const addr = config.criStreamAddress ?? { host: "127.0.0.1", port: 0 };
    this.server = new StreamServer({
      ...addr,
      handlers: {
        exec: {
          protocols: REMOTECOMMAND_PROTOCOLS,
          serve: (conn, protocol, req) =>
            serveRemoteCommand(conn, protocol, stdio(req), (io) => this.#exec(req, io)),
          ws: {
            protocols: WS_PROTOCOLS,
            serve: (ws, req) => serveRemoteCommandWs(ws, stdio(req), (io) => this.#exec(req, io)),
          },
        },
        attach: {
          protocols: REMOTECOMMAND_PROTOCOLS,
          serve: (conn, protocol, req) =>
            serveRemoteCommand(conn, protocol, stdio(req), (io) => this.#attach(req, io)),
          ws: {
            protocols: WS_PROTOCOLS,
            serve: (ws, req) => serveRemoteCommandWs(ws, stdio(req), (io) => this.#attach(req, io)),
          },
        },
        portforward: {
          protocols: [PORTFORWARD_PROTOCOL],
          serve: (conn, _protocol, req) => {
            const sb = this.#pods.ready(req.pod_sandbox_id);
            return servePortForward(conn, { id: sb.id, netns: sb.netns });
          },
        },
      },
    });
  }

  async exec(req: Msg): Promise<Msg> {
    validateStdio(req);
    if (!req.cmd?.length) throw new InvalidArgument("cmd must not be empty");
    const c = await this.#containers.running(req.container_id);
    return { url: await this.server.url("exec", { ...req, container_id: c.id }) };
  }

  async attach(req: Msg): Promise<Msg> {
    validateStdio(req);
    const c = await this.#containers.running(req.container_id);
    return { url: await this.server.url("attach", { ...req, container_id: c.id }) };
  }

  async portForward(req: Msg): Promise<Msg> {
    if (!req.pod_sandbox_id) throw new InvalidArgument("missing required pod_sandbox_id");
    const sb = this.#pods.ready(req.pod_sandbox_id);
    return { url: await this.server.url("portforward", { ...req, pod_sandbox_id: sb.id }) };
  }

  async #exec(req: Msg, io: RemoteIO): Promise<Outcome> {
    const id: string = req.container_id;
    const tty = !!req.tty;
    // sizes that come before the exec runs: the latest is its initial size
    const st: { size?: TerminalSize; exec?: string } = {};
    const resizes = io.resize
      ? this.#resizes(io.resize, id, (s) => st.size = s, () => st.exec)
      : null;
    if (resizes) await Promise.race([resizes.first, delay(100)]);
    const first = st.size;
    const opened = await this.#containers.openExec(id, req.cmd, {
      tty,
      stdin: !!io.stdin,
      size: first && { height: first.height, width: first.width },
    });
    st.exec = opened.exec;
    const s = opened.stream;
    const pid = Number(s.reply.pid ?? 0);
    const later = st.size;
    if (tty && later && later !== first) {
      // one that came while the exec started
      await this.#containers.resizeTty(id, later.height, later.width, st.exec).catch(
        logFailure("CRI exec: resize"),
      );
    }
    const kill = () => {
      try {
        if (pid > 0) Deno.kill(pid, "SIGKILL"); // the client went: as containerd, the exec goes
      } catch { /* it ended meanwhile */ }
    };
    io.gone.addEventListener("abort", kill, { once: true });
    try {
      const exit = await this.#pump(s, io, pid > 0);
      if (!exit) return { error: "the shim ended the exec stream without an exit" };
      if (exit.error) return { error: `failed to exec in container: ${exit.error}` };
      return {
        exitCode: exit.exitCode,
        message: `error executing command ${goList(req.cmd)}, exit code ${exit.exitCode}`,
      };
    } finally {
      io.gone.removeEventListener("abort", kill);
    }
  }

  async #attach(req: Msg, io: RemoteIO): Promise<Outcome> {
    const id: string = req.container_id;
    const a = await this.#containers.openAttach(id, {
      stdin: !!io.stdin,
      stdout: !!io.stdout,
      stderr: !!io.stderr,
    });
    if (io.resize) this.#resizes(io.resize, id);
    const close = () => {
      try {
        a.stream.conn.close();
      } catch { /* closed */ }
    };
    io.gone.addEventListener("abort", close, { once: true });
    try {
      await this.#pump(a.stream, { ...io, stdin: a.stdin ? io.stdin : undefined }, true);
      return { exitCode: 0 };
    } finally {
      io.gone.removeEventListener("abort", close);
    }
  }

  /**
   * Apply terminal sizes as they come: to the container's tty (attach) or,
   * given `early`, to its exec once that has an id (`early` keeps the ones before).
   */
  #resizes(
    sizes: AsyncIterable<TerminalSize>,
    container: string,
    early?: (s: TerminalSize) => void,
    execId?: () => string | undefined,
  ): { first: Promise<void> } {
    let firstSeen!: () => void;
    const first = new Promise<void>((r) => firstSeen = r);
    (async () => {
      for await (const sz of sizes) {
        firstSeen();
        if (!sz.width || !sz.height) continue;
        const exec = execId?.();
        if (early && !exec) {
          early(sz);
          continue;
        }
        await this.#containers.resizeTty(container, sz.height, sz.width, exec)
          .catch(logFailure("CRI: resize"));
      }
    })().catch(logFailure("CRI: reading resize messages"));
    return { first };
  }

  /**
   * Copy the client's stdin to the shim stream (half-closing it at the
   * client's FIN) and the shim's output frames to the client's streams,
   * until the shim ends the stream. Returns the exit frame, if one came.
   */
  async #pump(
    s: ShimStream,
    io: RemoteIO,
    forward: boolean,
  ): Promise<ExitInfo | undefined> {
    const conn = s.conn;
    if (io.stdin) {
      const stdin = io.stdin;
      (async () => {
        for await (const chunk of stdin) await writeAll(conn, chunk);
        await conn.closeWrite(); // EOF to the process (attach: the shim closes it if stdin_once)
      })().catch((e) => log.debug(`CRI stream: stdin: ${e}`)); // the process or shim is gone
    }
    let exit: ExitInfo | undefined;
    const parser = new FrameParser();
    const feed = async (b: Uint8Array) => {
      for (const f of parser.push(b)) {
        if (f.type === FRAME_EXIT) exit = JSON.parse(new TextDecoder().decode(f.payload));
        else if (!forward) continue; // a process that could not start: its error is the status
        else if (f.type === FRAME_STDOUT) await io.stdout?.write(f.payload);
        else if (f.type === FRAME_STDERR) await io.stderr?.write(f.payload);
      }
    };
    try {
      await feed(s.rest);
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await conn.read(buf).catch(() => null); // broken: the end, as EOF
        if (n === null) break;
        await feed(buf.subarray(0, n));
      }
    } finally {
      try {
        conn.close();
      } catch { /* closed by the client's going */ }
    }
    return exit;
  }

  handlers(): Record<string, Unary> {
    return {
      Exec: (req) => this.exec(req),
      Attach: (req) => this.attach(req),
      PortForward: (req) => this.portForward(req),
    };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Go's %v of a []string: [a b c]. */
function goList(a: string[]): string {
  return `[${a.join(" ")}]`;
}
