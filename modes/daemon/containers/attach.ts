/**
 * `POST /containers/{id}/attach`: optional replay of the log (`logs=1`),
 * then the live stream from the shim (`stream=1`). Attaching to a container
 * that is created but not started (what `docker run` does) is queued and
 * connected by start() between the shim's create and start, so no output is
 * lost.
 * @module
 */
import type { Duplex } from "node:stream";
import { Conflict } from "../../../core/errdefs/mod.ts";
import { frame } from "../../../core/shim/protocol.ts";
import type { ShimClient } from "../../../core/shim/client.ts";
import type { ContainerService } from "./service.ts";
import { bridge, EarlyInput, parseDetachKeys } from "./bridge.ts";
import { readLogs } from "./logs.ts";

export interface AttachOptions {
  stream: boolean;
  logs: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
}

export async function attach(
  svc: ContainerService,
  ref: string,
  o: AttachOptions,
  hijack: (multiplexed: boolean) => Duplex,
  head: Uint8Array | undefined,
): Promise<void> {
  const r = svc.resolve(ref);
  if (r.State.Paused && o.stream) {
    throw new Conflict(`container ${r.Id} is paused, unpause the container before attach`);
  }
  if (r.State.Restarting && o.stream) {
    throw new Conflict(`container ${r.Id} is restarting, wait until the container is running`);
  }
  const keys = parseDetachKeys(o.detachKeys);
  const tty = !!r.Config.Tty;
  const sock = hijack(!tty);
  const early = new EarlyInput(sock, head);
  if (o.logs && r.LogPath) {
    await readLogs(r.LogPath, {
      stdout: o.stdout,
      stderr: o.stderr,
      tail: -1,
      since: 0n,
      until: 0n,
      follow: false,
    }, (e) => {
      const b = new TextEncoder().encode(e.log);
      sock.write(tty ? b : frame(e.stream === "stderr" ? 2 : 1, b));
      return Promise.resolve(!sock.destroyed);
    });
  }
  if (!o.stream) {
    early.release();
    sock.end();
    return;
  }
  const stdin = o.stdin && !!r.Config.OpenStdin;
  svc.events.container("attach", r);
  const connect = async (shim: ShimClient) => {
    const s = await shim.stream({
      op: "attach",
      stdin,
      stdout: o.stdout,
      stderr: o.stderr,
    });
    bridge(sock, s.conn, { tty, stdin, early, rest: s.rest, detachKeys: keys });
  };
  const live = svc.live(r.Id);
  if (r.State.Running && live.shim) {
    try {
      await connect(live.shim);
    } catch {
      sock.end();
    }
    return;
  }
  if (r.State.Status === "created" || r.State.Status === "exited") {
    // Wait for the next start (docker run / start -a attach first).
    const pending = {
      connect: async (sh: ShimClient) => {
        live.pendingAttach.delete(pending);
        await connect(sh);
      },
      fail: (_msg: string) => {
        live.pendingAttach.delete(pending);
        sock.end();
      },
    };
    live.pendingAttach.add(pending);
    sock.on("close", () => live.pendingAttach.delete(pending));
    return;
  }
  sock.end();
}
