import { assertEquals, assertThrows } from "../../testing/assert.ts";
import {
  decodeMessage,
  encodeQuery,
  encodeReply,
  RCODE_NXDOMAIN,
  TYPE_A,
  TYPE_AAAA,
  TYPE_PTR,
  withId,
} from "./packet.ts";
import { NameTable, parsePtr, parsePtr6 } from "./resolver.ts";
import { ip6Bytes, parseIp6, ptrName6 } from "../ipv6.ts";
import { parseIp } from "../ipv4.ts";

Deno.test("dns packet: query and replies round-trip", () => {
  const q = decodeMessage(encodeQuery(0x1234, "web.example.", TYPE_A));
  assertEquals(q.id, 0x1234);
  assertEquals(q.rd, true);
  assertEquals(q.qr, false);
  assertEquals(q.questions, [{ name: "web.example", type: TYPE_A, class: 1 }]);
  const r = decodeMessage(encodeReply(q, {
    authoritative: true,
    answers: [
      { type: TYPE_A, ttl: 600, ip: parseIp("10.0.0.2") },
      { type: TYPE_A, ttl: 600, ip: parseIp("10.0.0.3") },
    ],
  }));
  assertEquals(r.qr, true);
  assertEquals(r.id, 0x1234);
  assertEquals(r.answers.map((a) => [a.name, a.ip]), [
    ["web.example", parseIp("10.0.0.2")],
    ["web.example", parseIp("10.0.0.3")],
  ]);
  const p = decodeMessage(
    encodeReply(decodeMessage(encodeQuery(1, "2.0.0.10.in-addr.arpa", TYPE_PTR)), {
      answers: [{ type: TYPE_PTR, ttl: 600, target: "web.net1" }],
    }),
  );
  assertEquals(p.answers[0].target, "web.net1");
  const nx = decodeMessage(encodeReply(q, { rcode: RCODE_NXDOMAIN }));
  assertEquals([nx.rcode, nx.answers.length], [RCODE_NXDOMAIN, 0]);
  assertEquals(decodeMessage(withId(encodeQuery(1, "a", TYPE_A), 99)).id, 99);
});

Deno.test("dns packet: rejects malformed input", () => {
  assertThrows(() => decodeMessage(new Uint8Array(5)));
  const loop = encodeQuery(1, "a", TYPE_A);
  loop.set([0xc0, 12], 12); // name points at itself
  assertThrows(() => decodeMessage(loop), Error, "loop");
  const trunc = encodeQuery(1, "abcdef", TYPE_A).slice(0, 16);
  assertThrows(() => decodeMessage(trunc));
});

Deno.test("dns resolver: names, aliases, network suffix, PTR, isolation", () => {
  const t = new NameTable();
  t.set("n1", "front", {
    id: "c1",
    names: ["Web", "www", "abc123def456"],
    ip: parseIp("10.0.0.2"),
  });
  t.set("n1", "front", { id: "c2", names: ["api", "www"], ip: parseIp("10.0.0.3") });
  t.set("n2", "back", { id: "c3", names: ["db"], ip: parseIp("10.1.0.2") });
  assertEquals(t.lookup(["n1"], "web"), [parseIp("10.0.0.2")]);
  assertEquals(t.lookup(["n1"], "WEB.front."), [parseIp("10.0.0.2")]);
  assertEquals(t.lookup(["n1"], "www").sort(), [parseIp("10.0.0.2"), parseIp("10.0.0.3")].sort());
  assertEquals(t.lookup(["n1"], "db"), []);
  assertEquals(t.answer(["n1"], "db", TYPE_A).kind, "forward");
  assertEquals(t.answer(["n1", "n2"], "db", TYPE_A).kind, "answer");
  assertEquals(t.answer(["n1"], "web", TYPE_AAAA).kind, "nodata");
  const ptr = t.answer(["n1"], "3.0.0.10.in-addr.arpa", TYPE_PTR);
  assertEquals(ptr.kind === "answer" && ptr.records[0].target, "api.front");
  assertEquals(parsePtr("3.0.0.10.in-addr.arpa."), parseIp("10.0.0.3"));
  t.delete("n1", "c2");
  assertEquals(t.lookup(["n1"], "api"), []);
  assertEquals(t.count("n1"), 1);
});

Deno.test("dns names: AAAA and ip6.arpa PTR for dual-stack endpoints", () => {
  const t = new NameTable();
  const v6 = parseIp6("fd00:1::2");
  t.set("n1", "dual", { id: "c1", names: ["web"], ip: parseIp("10.0.0.2"), ip6: v6 });
  t.set("n1", "dual", { id: "c2", names: ["v4only"], ip: parseIp("10.0.0.3") });
  const a = t.answer(["n1"], "web", TYPE_AAAA);
  assertEquals(a.kind === "answer" && a.records.map((r) => r.data), [ip6Bytes(v6)]);
  assertEquals(t.answer(["n1"], "v4only", TYPE_AAAA).kind, "nodata");
  const ptr = t.answer(["n1"], ptrName6(v6), TYPE_PTR);
  assertEquals(ptr.kind === "answer" && ptr.records[0].target, "web.dual");
  assertEquals(parsePtr6(ptrName6(v6) + "."), v6);
  // the record round-trips through the codec as 16 bytes of rdata
  const q = decodeMessage(encodeQuery(9, "web", TYPE_AAAA));
  const r = decodeMessage(encodeReply(q, { answers: a.kind === "answer" ? a.records : [] }));
  assertEquals(r.answers[0].data, ip6Bytes(v6));
});
