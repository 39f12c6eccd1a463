/**
 * Port forwarding over SPDY (`portforward.k8s.io`, client-go's and
 * kubelet's): for each forwarded connection the client opens an error
 * stream and a data stream with the same `port` and `requestid` headers. We
 * connect to 127.0.0.1:<port> inside the pod's network namespace (the socket
 * is made there: core/net/_libc_linux.ts, setns on this thread around
 * socket(); its reads and writes block worker threads, never ours) and copy
 * both ways; the client's FIN becomes ours toward the port and back. A
 * failure is written as text on the error stream, as kubelet does.
 * @module
 */
import type { SpdyConnection, SpdyStream } from "./spdy.ts";
import {
  closeFd,
  recvAsync,
  sendAllAsync,
  shutdownFd,
  tcpConnectInNetns,
} from "../../../../core/net/_libc_linux.ts";
import { log } from "../../log.ts";

export const PORTFORWARD_PROTOCOL = "portforward.k8s.io";
const LOOPBACK = 0x7f000001;
/** kubelet's stream creation timeout: both streams of a request within it */
export const PAIR_TIMEOUT_MS = 30_000;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  port: number;
}

/**
 * Serve a port-forward session until the client closes it. `netns` is the
 * pod's pinned network namespace (undefined: the pod uses the host's).
 */
export async function servePortForward(
  conn: SpdyConnection,
  pod: { id: string; netns?: string },
  pairTimeoutMs = PAIR_TIMEOUT_MS,
): Promise<void> {
  const pairs = new Map<string, Pair & { timer?: ReturnType<typeof setTimeout> }>();
  const running = new Set<Promise<void>>();
  conn.onStream = (s) => {
    const type = s.header("streamtype");
    const port = Number(s.header("port"));
    if (
      (type !== "data" && type !== "error") || !Number.isInteger(port) || port < 1 || port > 65535
    ) {
      return void s.resetStream();
    }
    // kubelet's fallback for clients without requestid: the error stream's id
    const rid = s.header("requestid") ?? String(type === "error" ? s.id : s.id - 2);
    const p = pairs.get(rid) ?? { port };
    if (p[type]) return void s.resetStream();
    p[type] = s;
    s.reply();
    if (!p.timer) {
      // kubelet's rule: the other half must come within the stream creation timeout
      p.timer = setTimeout(() => {
        if (pairs.get(rid) !== p) return;
        pairs.delete(rid);
        log.debug(`CRI port-forward: request ${rid}: timed out waiting for its other stream`);
        p.data?.resetStream();
        p.error?.resetStream();
      }, pairTimeoutMs);
    }
    pairs.set(rid, p);
    if (p.data && p.error) {
      clearTimeout(p.timer);
      pairs.delete(rid);
      const job = forward(p as Required<Pair>, pod).finally(() => running.delete(job));
      running.add(job);
    }
  };
  await conn.closed;
  for (const p of pairs.values()) clearTimeout(p.timer);
  await Promise.all(running);
}

async function forward(p: Required<Pair>, pod: { id: string; netns?: string }): Promise<void> {
  let fd: number;
  try {
    fd = await tcpConnectInNetns(pod.netns, LOOPBACK, p.port);
  } catch (e) {
    const msg = `error forwarding port ${p.port} to pod ${pod.id}, uid : ${
      e instanceof Error ? e.message : e
    }`;
    log.debug(`CRI port-forward: ${msg}`);
    await p.error.write(new TextEncoder().encode(msg));
    await p.error.end();
    await p.data.end();
    return;
  }
  let closed = false; // the fd is closed (its number may be reused): touch it no more
  let sending: Promise<boolean> = Promise.resolve(true);
  // client → port; its FIN is our FIN toward the port
  const up = (async () => {
    for await (const chunk of p.data) {
      if (closed) break;
      sending = sendAllAsync(fd, chunk);
      if (!(await sending)) break;
    }
    if (!closed) shutdownFd(fd, 1);
  })();
  // port → client; the port's EOF is our FIN on the data stream
  const down = (async () => {
    const buf = new Uint8Array(32 * 1024);
    for (;;) {
      const n = await recvAsync(fd, buf);
      if (n <= 0) break;
      await p.data.write(buf.slice(0, n));
    }
    await p.data.end();
  })();
  // as containerd: once one direction is done, the other gets a second to finish
  await Promise.race([up, down]);
  await Promise.race([Promise.all([up, down]), new Promise((r) => setTimeout(r, 1000))]);
  shutdownFd(fd, 2); // wakes a recv still blocked on its worker thread
  await down;
  await sending; // fails at once after the shutdown
  closed = true;
  closeFd(fd);
  await p.error.end();
}
