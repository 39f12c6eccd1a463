/**
 * The CRI's streaming server end to end: Exec, Attach and PortForward URLs
 * of a test daemon, driven over SPDY/3.1 the way client-go (crictl, kubelet)
 * does — the client side here is berth's own SPDY framing
 * (modes/daemon/cri/stream/spdy.ts) speaking the same frames, headers and
 * protocols (`v4.channel.k8s.io`, `portforward.k8s.io`). Exec with and
 * without a tty (output, stdin, exit codes as v4 Status, resize seen by
 * `stty size`), attach to a running container, port-forward to a server on
 * the pod's own 127.0.0.1 (busybox httpd), used and unknown tokens; exec
 * over a websocket (`v5.channel.k8s.io`) with Deno's own WebSocket client.
 */
import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import {
  cniNetwork,
  type CriClients,
  criClients,
  grpcError,
  podConfig,
  pushTestImage,
  remoteCommand,
  removeAllPods,
  spdyDial,
  text,
} from "./fixtures/cri.ts";
import type { Msg } from "../modes/daemon/cri/types.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";

const CNI_BIN = "/usr/lib/cni";
const enc = new TextEncoder();

/** Read a stream until `pred` holds of what came so far (or its end / a timeout). */
async function readUntil(
  s: AsyncIterable<Uint8Array>,
  pred: (t: string) => boolean,
  ms = 20_000,
): Promise<string> {
  let got = "";
  const it = s[Symbol.asyncIterator]();
  const end = Date.now() + ms;
  while (!pred(got)) {
    const left = end - Date.now();
    if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(got)}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<"t">((res) => timer = setTimeout(() => res("t"), left)),
    ]);
    clearTimeout(timer);
    if (r === "t") throw new Error(`timed out; got ${JSON.stringify(got)}`);
    if (r.done) break;
    got += new TextDecoder().decode(r.value);
  }
  return got;
}

/** A websocket (Deno's own client) to a streaming URL: messages by channel, until the server closes. */
function wsSession(url: string, protocols: string[]) {
  const ws = new WebSocket(url.replace(/^http/, "ws"), protocols);
  ws.binaryType = "arraybuffer";
  const byChannel: Record<number, string> = {};
  const order: number[] = [];
  let onMsg: (() => void) | undefined;
  ws.onmessage = (e) => {
    const b = new Uint8Array(e.data as ArrayBuffer);
    order.push(b[0]);
    byChannel[b[0]] = (byChannel[b[0]] ?? "") + new TextDecoder().decode(b.subarray(1));
    onMsg?.();
  };
  const opened = new Promise<void>((res, rej) => (ws.onopen = () => res(), ws.onerror = rej));
  const closed = new Promise<number>((res) => ws.onclose = (e) => res(e.code));
  const send = (channel: number, data: string | number[]) =>
    ws.send(
      new Uint8Array([channel, ...(typeof data === "string" ? enc.encode(data) : data)]),
    );
  const until = async (pred: () => boolean, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out: ${JSON.stringify(byChannel)}`);
      await new Promise<void>((r) => (onMsg = r, setTimeout(r, 200)));
    }
  };
  return { ws, opened, closed, send, byChannel, order, until };
}

Deno.test("cri streaming: exec (pipes, tty, resize, exit codes), attach, port-forward in the pod's netns, tokens", async () => {
  const base = await Deno.makeTempDir({ prefix: "berth-cri-stream-" });
  const net = await cniNetwork(base);
  const reg = await startTestRegistry();
  let d: TestDaemon | undefined;
  let cli: CriClients | undefined;
  try {
    d = await startDaemon({ args: ["--cni-conf-dir", net.confDir, "--cni-bin-dir", CNI_BIN] });
    const { ref } = await pushTestImage(d, reg.host);
    cli = criClients(`${d.execRoot}/cri.sock`);
    await cli.im.PullImage({ image: { image: ref } });
    const sbConfig = podConfig("stream");
    const { pod_sandbox_id: pod } = await cli.rt.RunPodSandbox({ config: sbConfig });
    const run = async (name: string, config: Msg) => {
      const { container_id: id } = await cli!.rt.CreateContainer({
        pod_sandbox_id: pod,
        sandbox_config: sbConfig,
        config: { metadata: { name, attempt: 0 }, image: { image: ref }, ...config },
      });
      await cli!.rt.StartContainer({ container_id: id });
      return id as string;
    };
    // a web server on the pod's loopback only; a line echoer reading its stdin
    const web = await run("web", {
      command: [
        "sh",
        "-c",
        "mkdir -p /www && echo hello-pf > /www/index.html && " +
        "exec httpd -f -p 127.0.0.1:8080 -h /www",
      ],
    });
    const echo = await run("echo", {
      command: ["sh", "-c", 'while read l; do echo "got:$l"; done'],
      stdin: true,
    });
    const shell = await run("shell", { command: ["sh"], stdin: true, tty: true });

    // ---- validation (kubelet's words) ----
    const bad = await grpcError(
      cli.rt.Exec({ container_id: web, cmd: ["true"], tty: true, stderr: true, stdout: true }),
    );
    assertEquals(bad.code, grpc.status.INVALID_ARGUMENT);
    assertStringIncludes(bad.details, "tty and stderr cannot both be true");
    const none = await grpcError(cli.rt.Exec({ container_id: web, cmd: ["true"] }));
    assertStringIncludes(none.details, "one of stdin, stdout, or stderr must be set");
    const missing = await grpcError(
      cli.rt.Exec({ container_id: "nosuch", cmd: ["true"], stdout: true }),
    );
    assertEquals(missing.code, grpc.status.NOT_FOUND);
    assertEquals(
      (await grpcError(cli.rt.PortForward({ pod_sandbox_id: "nosuch", port: [80] }))).code,
      grpc.status.NOT_FOUND,
    );

    // ---- exec with pipes: stdout, stderr, a non-zero exit as v4 Status ----
    const { url } = await cli.rt.Exec({
      container_id: web,
      cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"],
      stdout: true,
      stderr: true,
    });
    assert(/^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]+$/.test(url), url);
    const x = await remoteCommand(url, { stdout: true, stderr: true });
    assertEquals(x.protocol, "v4.channel.k8s.io");
    const [out, err, status] = await Promise.all([text(x.stdout), text(x.stderr), text(x.error)]);
    assertEquals([out, err], ["out\n", "err\n"]);
    assertEquals(JSON.parse(status), {
      metadata: {},
      status: "Failure",
      message:
        "command terminated with non-zero exit code: error executing command [sh -c echo out; echo err >&2; exit 3], exit code 3",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
    await x.conn.closed;
    // the token was used: a second use is 404, as is an unknown one
    for (const u of [url, url.replace(/\/exec\/.*/, "/exec/AAAAAAAAAAA")]) {
      const again = await spdyDial(u, ["v4.channel.k8s.io"]);
      assertEquals([again.status, again.body], [404, "404 page not found\n"]);
    }
    const plain = await fetch(url.replace(/\/exec\/.*/, "/attach/nosuchtoken"));
    assertEquals([plain.status, await plain.text()], [404, "404 page not found\n"]);

    // ---- exec with stdin: cat echoes it; its FIN ends cat; exit 0 is Success ----
    const cat = await remoteCommand(
      (await cli.rt.Exec({ container_id: web, cmd: ["cat"], stdin: true, stdout: true })).url,
      { stdin: true, stdout: true, stderr: false },
    );
    await cat.stdin!.write(enc.encode("line one\nline two\n"));
    await cat.stdin!.end();
    assertEquals(await text(cat.stdout), "line one\nline two\n");
    assertEquals(JSON.parse(await text(cat.error)), { metadata: {}, status: "Success" });

    // ---- exec with a tty: the client's sizes reach it (stty size), then its exit code ----
    const t = await remoteCommand(
      (await cli.rt.Exec({ container_id: web, cmd: ["sh"], stdin: true, stdout: true, tty: true }))
        .url,
      { stdin: true, stdout: true, tty: true },
    );
    assert(t.resize && !t.stderr);
    await t.resize.write(enc.encode('{"Width":123,"Height":45}\n'));
    await t.stdin!.write(enc.encode("stty size\n"));
    await readUntil(t.stdout!, (s) => s.includes("45 123"));
    await t.resize.write(enc.encode('{"Width":99,"Height":20}\n'));
    await new Promise((r) => setTimeout(r, 300)); // the resize goes to the shim on its own
    await t.stdin!.write(enc.encode("stty size; tty; exit 5\n"));
    const rest = await readUntil(t.stdout!, () => false);
    assertStringIncludes(rest, "20 99");
    assertStringIncludes(rest, "/dev/pts/");
    const ts = JSON.parse(await text(t.error));
    assertEquals([ts.reason, ts.details.causes[0].message], ["NonZeroExitCode", "5"]);

    // ---- an older protocol (v2: the error as text, nothing on success) ----
    const v2 = await remoteCommand(
      (await cli.rt.Exec({ container_id: web, cmd: ["sh", "-c", "exit 2"], stdout: true })).url,
      { stdout: true, stderr: false },
      ["v2.channel.k8s.io"],
    );
    assertEquals(v2.protocol, "v2.channel.k8s.io");
    assertStringIncludes(await text(v2.error), "command terminated with non-zero exit code");
    // no protocol in common: 403 with the accepted ones
    const refused = await spdyDial(
      (await cli.rt.Exec({ container_id: web, cmd: ["true"], stdout: true })).url,
      ["v9.channel.k8s.io"],
    );
    assertEquals(refused.status, 403);
    assertStringIncludes(refused.body, "unable to negotiate protocol");
    assertEquals(refused.headers["x-accepted-stream-protocol-versions"]?.[0], "v4.channel.k8s.io");

    // ---- websocket v5 (Deno's WebSocket): channel-byte messages, stdin half-close [255, 0] ----
    const w = wsSession(
      (await cli.rt.Exec({ container_id: web, cmd: ["cat"], stdin: true, stdout: true })).url,
      ["v5.channel.k8s.io"],
    );
    await w.opened;
    assertEquals(w.ws.protocol, "v5.channel.k8s.io");
    w.send(0, "over websocket\n");
    w.send(255, [0]); // v5: stdin is done
    assertEquals(await w.closed, 1000);
    assertEquals(w.order[0], 1); // the empty "connection established" message on stdout
    assertEquals(w.byChannel[1], "over websocket\n");
    assertEquals(JSON.parse(w.byChannel[3]), { metadata: {}, status: "Success" });
    // a tty over websocket: resize on channel 4, the exit code in the status
    const wt = wsSession(
      (await cli.rt.Exec({ container_id: web, cmd: ["sh"], stdin: true, stdout: true, tty: true }))
        .url,
      ["v5.channel.k8s.io", "v4.channel.k8s.io"],
    );
    await wt.opened;
    wt.send(4, '{"Width":77,"Height":33}');
    wt.send(0, "stty size\n");
    await wt.until(() => (wt.byChannel[1] ?? "").includes("33 77"));
    wt.send(0, "exit 4\n");
    assertEquals(await wt.closed, 1000);
    const wst = JSON.parse(wt.byChannel[3]);
    assertEquals([wst.reason, wst.details.causes[0].message], ["NonZeroExitCode", "4"]);

    // ---- attach: the running container's stdin and stdout ----
    const a = await remoteCommand(
      (await cli.rt.Attach({ container_id: echo, stdin: true, stdout: true, stderr: true })).url,
      { stdin: true, stdout: true, stderr: true },
    );
    await a.stdin!.write(enc.encode("hello attach\n"));
    await readUntil(a.stdout!, (s) => s.includes("got:hello attach"));
    a.conn.destroy(); // the client goes; the container goes on
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(
      (await cli.rt.ContainerStatus({ container_id: echo })).status.state,
      "CONTAINER_RUNNING",
    );

    // attach to a tty container: its terminal takes the client's size
    const at = await remoteCommand(
      (await cli.rt.Attach({ container_id: shell, stdin: true, stdout: true, tty: true })).url,
      { stdin: true, stdout: true, tty: true },
    );
    await at.resize!.write(enc.encode('{"Width":61,"Height":17}'));
    await new Promise((r) => setTimeout(r, 300));
    await at.stdin!.write(enc.encode("stty size\n"));
    await readUntil(at.stdout!, (s) => s.includes("17 61"));
    at.conn.destroy();

    // ---- a command that cannot start: InternalError; a client that goes: its exec is killed ----
    const nosuch = await remoteCommand(
      (await cli.rt.Exec({ container_id: web, cmd: ["/nosuch"], stdout: true, stderr: true })).url,
      { stdout: true, stderr: true },
    );
    const ns = JSON.parse(await text(nosuch.error));
    assertEquals([ns.status, ns.reason, ns.code], ["Failure", "InternalError", 500]);
    assertStringIncludes(ns.message, "failed to exec in container");
    const sleeper = await remoteCommand(
      (await cli.rt.Exec({ container_id: web, cmd: ["sleep", "4242"], stdout: true })).url,
      { stdout: true, stderr: false },
    );
    const sleeping = async () =>
      new TextDecoder().decode(
        (await cli!.rt.ExecSync({ container_id: web, cmd: ["ps", "-o", "args"] })).stdout,
      ).includes("sleep 4242");
    for (let i = 0; i < 50 && !(await sleeping()); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert(await sleeping(), "the exec did not start");
    sleeper.conn.destroy();
    for (let i = 0; i < 50 && (await sleeping()); i++) await new Promise((r) => setTimeout(r, 100));
    assert(!(await sleeping()), "the exec outlived its client");

    // ---- port-forward: 127.0.0.1:8080 inside the pod, not the host's ----
    const { url: pf } = await cli.rt.PortForward({ pod_sandbox_id: pod, port: [8080] });
    assert(/\/portforward\/[A-Za-z0-9_-]+$/.test(pf), pf);
    const dial = await spdyDial(pf, ["portforward.k8s.io"]);
    assertEquals(dial.headers["x-stream-protocol-version"]?.[0], "portforward.k8s.io");
    const conn = dial.conn!;
    for (const rid of ["0", "1"]) { // two connections over one session
      const errS = await conn.openStream({
        streamtype: ["error"],
        port: ["8080"],
        requestid: [rid],
      });
      await errS.end();
      const data = await conn.openStream({
        streamtype: ["data"],
        port: ["8080"],
        requestid: [rid],
      });
      await data.write(enc.encode("GET /index.html HTTP/1.0\r\n\r\n"));
      await data.end();
      const page = await text(data);
      assertStringIncludes(page, "200 OK");
      assertStringIncludes(page, "hello-pf");
      assertEquals(await text(errS), "");
    }
    // nothing listens on 8081 in the pod: the error stream says so
    const errS = await conn.openStream({ streamtype: ["error"], port: ["8081"], requestid: ["2"] });
    await errS.end();
    const data = await conn.openStream({ streamtype: ["data"], port: ["8081"], requestid: ["2"] });
    const [perr, pdata] = await Promise.all([text(errS), text(data)]);
    assertEquals(pdata, "");
    assertStringIncludes(perr, `error forwarding port 8081 to pod ${pod}`);
    assertStringIncludes(perr, "connection refused");
    await conn.close();
  } finally {
    if (cli) await removeAllPods(cli).catch(() => {});
    cli?.close();
    await d?.stop();
    await reg.close();
    await net.cleanup();
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
});
