/**
 * Engine API: exec create/start/resize/inspect.
 * @module
 */
import type { ApiRouter } from "../server.ts";
import type { Ctx } from "../context.ts";
import type { ExecService } from "../containers/exec.ts";
import type { Duplex } from "node:stream";
import { TooLarge } from "../../../core/errdefs/mod.ts";
import { log } from "../log.ts";
import { concatBytes } from "../../../core/bytes.ts";
import { cmpVersion } from "../api_version.ts";
import { decodeBytes, jsonRoute, MAX_JSON_BODY, readBody } from "../api/body.ts";
import {
  ExecConfig,
  ExecStartCheck,
  type ExecStartCheck as Start,
} from "../../../core/api/exec.ts";

function execs(ctx: Ctx): ExecService {
  return ctx.daemon.execs;
}

/**
 * The JSON body of an upgrade request (exec start), and the client bytes
 * that follow it. Deno's node:http hands the body to `req` when it came with
 * the head; otherwise its Content-Length bytes are the first ones after the
 * headers: in the upgrade's `head`, or still to come on the socket. Those
 * must not reach the process's stdin. If they never come (the HTTP layer
 * kept them), the start goes on without a body after a short wait: the
 * exec's Tty comes from exec create, and a detached start is not upgraded.
 */
export async function upgradeBody(
  ctx: Ctx,
): Promise<{ body: Start; head: Uint8Array }> {
  const req = ctx.req as unknown as { complete?: boolean; headers: Record<string, unknown> };
  const head = ctx.upgradeHead ?? new Uint8Array(0);
  if (req.complete) {
    return { body: await readBody(ctx, ExecStartCheck, { empty: "optional" }), head };
  }
  const n = Number(req.headers["content-length"] ?? 0);
  if (n > MAX_JSON_BODY) {
    throw new TooLarge(`request body too large: the limit is ${MAX_JSON_BODY} bytes`);
  }
  if (!(n > 0) || !ctx.upgradeSocket) return { body: {}, head };
  let buf = head;
  if (buf.length < n) {
    buf = concatBytes(buf, await readSome(ctx.upgradeSocket, n - buf.length, 250));
  }
  log.debug(`exec start body: ${head.length} bytes came with the head, ${buf.length} in all`);
  if (buf.length < n) return { body: {}, head: buf };
  return {
    body: decodeBytes(ExecStartCheck, buf.subarray(0, n), "optional"),
    head: buf.subarray(n),
  };
}

/** At least `need` bytes from a socket (fewer on timeout or end); leaves it paused. */
function readSome(sock: Duplex, need: number, ms: number): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    let got = 0;
    const done = () => {
      clearTimeout(timer);
      sock.off("data", onData);
      sock.off("end", done);
      sock.pause();
      resolve(concatBytes(...chunks));
    };
    const onData = (c: Uint8Array) => {
      chunks.push(new Uint8Array(c));
      if ((got += c.length) >= need) done();
    };
    const timer = setTimeout(done, ms);
    sock.on("data", onData);
    sock.on("end", done);
  });
}

export function register(r: ApiRouter): void {
  r.add(
    "POST",
    "/containers/{id}/exec",
    jsonRoute(ExecConfig, (ctx, body) => {
      ctx.send(201, { Id: execs(ctx).create(ctx.params.id, body) });
    }),
  );

  r.add("POST", "/exec/{id}/start", async (ctx) => {
    const { body, head } = ctx.upgradeSocket
      ? await upgradeBody(ctx)
      // postContainerExecStart: the body is required (EOF is a 400) and read
      // before the exec is looked up.
      : { body: await readBody(ctx, ExecStartCheck), head: undefined };
    const ex = execs(ctx);
    const e = ex.get(ctx.params.id);
    if (body.Detach) {
      await ex.startDetached(e.ID);
      if (ctx.upgradeSocket) {
        ctx.upgradeSocket.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      } else ctx.noContent(200);
      return;
    }
    // The start request decides the framing, as moby's postContainerExecStart
    // does; the process gets a terminal per exec create (Tty there).
    const raw = body.Tty ?? e.ProcessConfig.tty;
    const sock = ctx.hijack(!raw && cmpVersion(ctx.apiVersion, "1.42") >= 0);
    await ex.startAttached(e.ID, sock, head, !!raw);
  });

  r.add("POST", "/exec/{id}/resize", async (ctx) => {
    await execs(ctx).resize(ctx.params.id, ctx.int("h", 0)!, ctx.int("w", 0)!);
    ctx.noContent(200);
  });

  r.add("GET", "/exec/{id}/json", (ctx) => {
    ctx.send(200, execs(ctx).inspect(ctx.params.id));
  });
}
