/**
 * Port-forward's relay without a daemon: a client and server SPDY session
 * over loopback, forwarding to a TCP server of the test's own on the host's
 * 127.0.0.1 (no netns given: the pod uses the host's network). The pod
 * namespace case is tests/cri_stream_test.ts.
 */
import { assert, assertEquals, assertStringIncludes } from "../../../../core/testing/assert.ts";
import { connect, createServer, type Server, type Socket } from "node:net";
import { SpdyConnection } from "./spdy.ts";
import { servePortForward } from "./portforward.ts";

async function listen(s: Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return (s.address() as { port: number }).port;
}

Deno.test("port-forward: data both ways with half-closes, a refused port, a half pair times out", async () => {
  // the "pod's" server: answers what it read, upper-cased, after the client's FIN
  const echo = createServer({ allowHalfOpen: true }, (c: Socket) => {
    let got = "";
    c.on("data", (b) => got += b);
    c.on("end", () => c.end(got.toUpperCase()));
  });
  const port = await listen(echo);
  // a closed port: listen, note it, close
  const gone = createServer();
  const closedPort = await listen(gone);
  await new Promise((r) => gone.close(r));

  let served!: Promise<void>;
  const front = createServer((sock) => {
    served = servePortForward(new SpdyConnection(sock, { server: true }), { id: "pod1" }, 300);
  });
  const frontPort = await listen(front);
  const sock = connect(frontPort, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  const client = new SpdyConnection(sock, { server: false });
  try {
    const open = async (rid: string, p: number) => {
      const error = await client.openStream({
        streamtype: ["error"],
        port: [String(p)],
        requestid: [rid],
      });
      await error.end();
      const data = await client.openStream({
        streamtype: ["data"],
        port: [String(p)],
        requestid: [rid],
      });
      return { error, data };
    };
    const a = await open("1", port);
    await a.data.write(new TextEncoder().encode("hello "));
    await a.data.write(new TextEncoder().encode("port"));
    await a.data.end();
    assertEquals(new TextDecoder().decode(await a.data.readAll()), "HELLO PORT");
    assertEquals((await a.error.readAll()).length, 0);

    const b = await open("2", closedPort);
    const msg = new TextDecoder().decode(await b.error.readAll());
    assertStringIncludes(
      msg,
      `error forwarding port ${closedPort} to pod pod1, uid : connection refused`,
    );

    // only the error half: reset after the pair timeout
    const lone = await client.openStream({
      streamtype: ["error"],
      port: [String(port)],
      requestid: ["3"],
    });
    await lone.readAll();
    assert(lone.reset, "the half pair was not reset");
  } finally {
    client.destroy();
    await served;
    await new Promise((r) => front.close(r));
    await new Promise((r) => echo.close(r));
  }
});
