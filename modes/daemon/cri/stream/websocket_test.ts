import { assertEquals } from "../../../../core/testing/assert.ts";
import { acceptKey, wsFrame, WsFrameReader, wsHandshake } from "./websocket.ts";

Deno.test("websocket: RFC 6455's accept key; the client's subprotocol order; none in common refused", () => {
  assertEquals(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const h = {
    "sec-websocket-key": "k",
    "sec-websocket-protocol": "v4.channel.k8s.io, v5.channel.k8s.io",
  };
  const ok = wsHandshake(h, ["v5.channel.k8s.io", "v4.channel.k8s.io"]);
  assertEquals("protocol" in ok && ok.protocol, "v4.channel.k8s.io");
  const no = wsHandshake({ ...h, "sec-websocket-protocol": "base64.channel.k8s.io" }, [
    "v5.channel.k8s.io",
  ]);
  assertEquals("error" in no, true);
});

Deno.test("websocket: masked client frames of every length form, split anywhere, parse back", () => {
  const mask = new Uint8Array([1, 2, 3, 4]);
  const masked = (opcode: number, fin: boolean, p: Uint8Array) => {
    const f = wsFrame(opcode, p); // server form, then masked as a client sends it
    const head = f.length - p.length;
    const out = new Uint8Array(f.length + 4);
    out.set(f.subarray(0, head));
    out[0] = (fin ? 0x80 : 0) | opcode;
    out[1] |= 0x80;
    out.set(mask, head);
    for (let i = 0; i < p.length; i++) out[head + 4 + i] = p[i] ^ mask[i & 3];
    return out;
  };
  const sizes = [0, 5, 125, 126, 300, 70_000];
  const frames = sizes.map((n, i) => masked(2, i % 2 === 0, new Uint8Array(n).fill(n % 251)));
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) (all.set(f, o), o += f.length);
  for (const cut of [1, 2, 3, 7, 130, 1000, all.length - 1]) {
    const r = new WsFrameReader();
    const got = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))];
    assertEquals(
      got.map((f) => [f.fin, f.opcode, f.payload.length]),
      sizes.map((n, i) => [i % 2 === 0, 2, n]),
    );
    assertEquals(got[4].payload[0], 300 % 251);
  }
});
