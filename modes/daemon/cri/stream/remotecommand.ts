/**
 * Exec and attach over SPDY, the remotecommand protocols of client-go and
 * kubelet (`v4.channel.k8s.io`, also v3, v2 and `channel.k8s.io`): the
 * client opens one stream per `streamtype` header (error, stdin, stdout,
 * stderr; resize with a tty from v3 on), we accept them, run the command
 * and at its end send how it ended on the error stream — v4: a
 * metav1.Status JSON (Success; Failure with reason NonZeroExitCode and the
 * exit code as an `ExitCode` cause; InternalError), earlier: the message
 * as text, nothing on success. Resize messages are JSON
 * `{"Width":W,"Height":H}`, one after the other.
 * @module
 */
import type { SpdyConnection } from "./spdy.ts";

export const V5 = "v5.channel.k8s.io",
  V4 = "v4.channel.k8s.io",
  V3 = "v3.channel.k8s.io",
  V2 = "v2.channel.k8s.io",
  V1 = "channel.k8s.io";
export const REMOTECOMMAND_PROTOCOLS = [V4, V3, V2, V1];
/** kubelet's default stream creation timeout */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface TerminalSize {
  width: number;
  height: number;
}

/** One of the command's streams: a SPDY stream (./spdy.ts) or a websocket channel (./websocket.ts). */
export interface Channel {
  write(data: Uint8Array): Promise<void>;
  /** our side is done (SPDY: FIN; websocket: nothing, the close says it) */
  end(): Promise<void>;
  /** what the client sends, until it closes its side */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

/** The client's side of a command, for the runner. */
export interface RemoteIO {
  stdin?: Channel;
  stdout?: Channel;
  stderr?: Channel;
  /** terminal sizes as the client sends them (tty, v3+) */
  resize?: AsyncIterable<TerminalSize>;
  /** aborts when the client goes away */
  gone: AbortSignal;
}

/** How the command ended: an exit code (with the runtime's message for a non-zero one) or an error. */
export type Outcome = { exitCode: number; message?: string } | { error: string };

/** metav1.Status JSON as kubelet writes it on the v4 error stream (Go's field order). */
export function statusJson(o: Outcome): string {
  if ("error" in o) {
    return JSON.stringify({
      metadata: {},
      status: "Failure",
      message: `Internal error occurred: ${o.error}`,
      reason: "InternalError",
      details: { causes: [{ message: o.error }] },
      code: 500,
    });
  }
  if (o.exitCode === 0) return JSON.stringify({ metadata: {}, status: "Success" });
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: ${
      o.message ?? `exit code ${o.exitCode}`
    }`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(o.exitCode) }] },
  });
}

/** Parse a stream of concatenated JSON TerminalSize objects. */
export async function* terminalSizes(
  s: { [Symbol.asyncIterator](): AsyncIterator<Uint8Array> },
): AsyncGenerator<TerminalSize> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of s) {
    buf += dec.decode(chunk, { stream: true });
    for (;;) {
      const start = buf.indexOf("{"), end = buf.indexOf("}", start);
      if (start < 0 || end < 0) break;
      const text = buf.slice(start, end + 1);
      buf = buf.slice(end + 1);
      try {
        const v = JSON.parse(text);
        yield { width: Number(v.Width ?? 0), height: Number(v.Height ?? 0) };
      } catch { /* not a size: kubelet's decoder would end the stream; we skip it */ }
    }
  }
}

/**
 * Wait for the client's streams (as many as the options say), accept them,
 * run, report the outcome and end the streams. A client that does not open
 * them all within the timeout gets the connection closed.
 */
export async function serveRemoteCommand(
  conn: SpdyConnection,
  protocol: string,
  opts: StreamOptions,
  run: (io: RemoteIO) => Promise<Outcome>,
  timeoutMs = STREAM_CREATION_TIMEOUT_MS,
): Promise<void> {
  const resizing = opts.tty && (protocol === V4 || protocol === V3);
  const want = 1 + Number(opts.stdin) + Number(opts.stdout) + Number(opts.stderr) +
    Number(resizing);
  const got: Record<string, Channel> = {};
  const all = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    conn.closed.then(() => (clearTimeout(timer), resolve(false)));
    conn.onStream = (s) => {
      const t = s.header("streamtype") ?? "";
      const ok = ["error", "stdin", "stdout", "stderr", "resize"].includes(t) && !got[t];
      if (!ok) return void s.resetStream();
      got[t] = s;
      s.reply();
      if (Object.keys(got).length === want) (clearTimeout(timer), resolve(true));
    };
  });
  if (!(await all)) return;
  conn.onStream = (s) => void s.resetStream(); // nothing more is expected
  const gone = new AbortController();
  conn.closed.then(() => gone.abort());
  await runAndReport(got as Streams, protocol, gone.signal, run);
}

/** The command's channels by stream type (error always). */
export type Streams =
  & { error: Channel }
  & Partial<Record<"stdin" | "stdout" | "stderr" | "resize", Channel>>;

/** Run with the client's channels; end stdout/stderr; report the outcome on the error channel. */
export async function runAndReport(
  got: Streams,
  protocol: string,
  gone: AbortSignal,
  run: (io: RemoteIO) => Promise<Outcome>,
): Promise<void> {
  const io: RemoteIO = {
    stdin: got.stdin,
    stdout: got.stdout,
    stderr: got.stderr,
    resize: got.resize ? terminalSizes(got.resize) : undefined,
    gone,
  };
  let outcome: Outcome;
  try {
    outcome = await run(io);
  } catch (e) {
    outcome = { error: e instanceof Error ? e.message : String(e) };
  }
  await got.stdout?.end();
  await got.stderr?.end();
  const err = got.error;
  if (protocol === V4 || protocol === V5) {
    await err.write(new TextEncoder().encode(statusJson(outcome)));
  } else if ("error" in outcome) await err.write(new TextEncoder().encode(outcome.error));
  else if (outcome.exitCode !== 0) {
    const msg = `command terminated with non-zero exit code: ${
      outcome.message ?? `exit code ${outcome.exitCode}`
    }`;
    await err.write(new TextEncoder().encode(msg));
  }
  await err.end();
}
