import { assert, assertEquals } from "../../../../core/testing/assert.ts";
import { connect, createServer, type Socket } from "node:net";
import {
  concat,
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FrameReader,
  PING,
  SPDY_DICTIONARY,
  SpdyConnection,
  type SpdyStream,
} from "./spdy.ts";

function adler32(b: Uint8Array): number {
  let a = 1, s = 0;
  for (const x of b) (a = (a + x) % 65521, s = (s + a) % 65521);
  return ((s << 16) | a) >>> 0;
}

Deno.test("spdy: the SPDY/3 dictionary is the spec's (1423 bytes, Adler-32 0xe3c6a7c2)", () => {
  assertEquals(SPDY_DICTIONARY.length, 1423);
  assertEquals(adler32(SPDY_DICTIONARY), 0xe3c6a7c2);
});

Deno.test("spdy: frames split anywhere parse the same; header blocks round-trip", () => {
  const h = { streamtype: ["stdout"], port: ["80", "81"] };
  assertEquals(decodeHeaderBlock(encodeHeaderBlock(h)), h);
  const bytes = concat([
    controlFrame(PING, 0, new Uint8Array([0, 0, 0, 1])),
    dataFrame(3, 1, new TextEncoder().encode("hello")),
  ]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const r = new FrameReader();
    const fs = [...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))];
    assertEquals(fs.length, 2);
    assertEquals(fs[0], {
      control: true,
      type: PING,
      flags: 0,
      payload: new Uint8Array([0, 0, 0, 1]),
    });
    assertEquals(fs[1].control, false);
    if (!fs[1].control) {
      assertEquals([fs[1].streamId, fs[1].flags], [3, 1]);
      assertEquals(new TextDecoder().decode(fs[1].data), "hello");
    }
  }
});

/** A client and a server SPDY session over a loopback TCP connection. */
async function pair(): Promise<{ client: SpdyConnection; server: SpdyConnection; close(): void }> {
  let serverSock!: Socket;
  const accepted = new Promise<void>((r) => {
    const srv = createServer((s) => (serverSock = s, srv.close(), r()));
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      clientSock = connect(port, "127.0.0.1");
    });
  });
  let clientSock!: Socket;
  await accepted;
  const server = new SpdyConnection(serverSock, { server: true });
  const client = new SpdyConnection(clientSock, { server: false });
  return { client, server, close: () => (client.destroy(), server.destroy()) };
}

Deno.test("spdy: streams open with compressed headers, carry data both ways, half-close with FIN", async () => {
  const { client, server, close } = await pair();
  try {
    const got: SpdyStream[] = [];
    server.onStream = (s) => {
      got.push(s);
      s.reply();
      (async () => {
        // echo upper-cased, then FIN
        for await (const c of s) {
          await s.write(new TextEncoder().encode(new TextDecoder().decode(c).toUpperCase()));
        }
        await s.end();
      })();
    };
    // several streams: the header contexts stay in step across blocks
    for (const t of ["error", "stdin", "stdout", "stderr", "resize"]) {
      const s = await client.openStream({ streamtype: [t], requestid: ["0"] });
      await s.write(new TextEncoder().encode(`to ${t}`));
      await s.end();
      assertEquals(new TextDecoder().decode(await s.readAll()), `TO ${t.toUpperCase()}`);
    }
    assertEquals(got.map((s) => s.header("streamType")), [
      "error",
      "stdin",
      "stdout",
      "stderr",
      "resize",
    ]);
    assertEquals(got.map((s) => s.id), [1, 3, 5, 7, 9]);
    // a large write arrives whole (split in DATA frames)
    const big = new Uint8Array(200_000).fill(97);
    const s = await client.openStream({ streamtype: ["stdin"] });
    const back = s.readAll();
    await s.write(big);
    await s.end();
    assertEquals((await back).length, big.length);
  } finally {
    close();
  }
});

Deno.test("spdy: the server echoes the client's PING; a stream reset ends its reader; GOAWAY closes", async () => {
  const { client, server, close } = await pair();
  try {
    server.onStream = (s) => void s.reply();
    const s = await client.openStream({ streamtype: ["data"] });
    server.onStream = undefined;
    // a refused stream (no handler) rejects openStream
    let refused = false;
    await client.openStream({ streamtype: ["x"] }).catch(() => refused = true);
    assert(refused);
    const reading = s.readAll();
    await s.resetStream();
    assertEquals((await reading).length, 0);
    await server.close();
    await client.closed;
    assert(client.isClosed);
  } finally {
    close();
  }
});
