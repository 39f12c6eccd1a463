/**
 * Fuzz: DNS packets (issue 11), the bytes any container can send to
 * 127.0.0.11. decodeMessage throws only DnsFormatError; the responder never
 * throws (a throw there would end the DNS server's loop for every container)
 * and always answers with a message that decodes and echoes the question; a
 * decoded question encodes back to the same question.
 */
import { assert, assertEquals } from "../../testing/assert.ts";
import { fuzz } from "../../testing/fuzz.ts";
import { parseIp } from "../ipv4.ts";
import {
  decodeMessage,
  DnsFormatError,
  encodeQuery,
  encodeReply,
  TYPE_A,
  TYPE_AAAA,
  TYPE_PTR,
} from "./packet.ts";
import { DnsResponder } from "./responder.ts";
import { NameTable } from "./resolver.ts";

const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** 5000 questions, each a pointer to one 30 KB name: 6 s and 250 MB to decode before names were capped at 255 bytes. */
function nameBomb(): Uint8Array {
  const p: number[] = [0, 1, 1, 0, 0x13, 0x88, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 480; i++) p.push(63, ...new Array(63).fill(97));
  p.push(0, 0, 1, 0, 1);
  while (p.length < 65535 - 6) p.push(0xc0, 12, 0, 1, 0, 1);
  return new Uint8Array(p);
}

/** Inputs a fuzz run once broke the codec or the responder with. */
const REGRESSIONS: Uint8Array[] = [
  // a label of bytes >= 0x80 grew past 63 bytes once decoded as UTF-8 and re-encoded: the
  // responder threw from encodeReply (ending the DNS server's loop)
  b64(
    "AAMBAAABAADtQDQyOTQ5NjcyOTYCMTAHaW4tYWRkAD8ADAABAD8ACAABAD8ADAABAD8ADAABAD8AEujV/Y9MDAABAD8iDAABAD8ADAABAQA/AAwAAQA/AAwAAQA/AAwAAQA/AAwAAQA/AAwAAQA/ADA3NwA/AAwAAQA/AAwAAQA/QwwAAQA/AAwAAQA/AAwAAQA/gAwAAQA/AAwAAQA/AAwAAQA/AAwAAT8/AAwAAQA/d2ViAA0A",
  ),
  nameBomb(),
  // a label holding a dot ("a." then "b"): echoed as a.b, another question (now "a\\..b")
  new Uint8Array([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 97, 46, 1, 98, 0, 0, 1, 0, 1]),
];

function seeds(): Uint8Array[] {
  const q = decodeMessage(encodeQuery(7, "web.front", TYPE_A));
  return [
    encodeQuery(1, "web", TYPE_A),
    encodeQuery(2, "www.example.com.", TYPE_AAAA),
    encodeQuery(3, "2.0.0.10.in-addr.arpa", TYPE_PTR),
    encodeReply(q, { answers: [{ type: TYPE_A, ttl: 600, ip: parseIp("10.0.0.2") }] }),
    encodeReply(q, { answers: [{ type: TYPE_PTR, ttl: 600, target: "web.front" }] }),
    encodeReply(q, { answers: [{ type: 16, ttl: 1, data: new Uint8Array([3, 97, 98, 99]) }] }),
  ];
}

function table(): NameTable {
  const t = new NameTable();
  t.set("n1", "front", { id: "c1", names: ["web", "www"], ip: parseIp("10.0.0.2") });
  t.set("n1", "front", { id: "c2", names: ["api"], ip: parseIp("10.0.0.3") });
  return t;
}

Deno.test("fuzz: DNS message codec", async () => {
  await fuzz({
    name: "dns-codec",
    seeds: seeds(),
    dictionary: [new Uint8Array([0xc0, 12]), new Uint8Array([0xc0, 0]), new Uint8Array([63]), "\0"],
    regressions: REGRESSIONS,
    maxLen: 1024,
    expected: (e) => e instanceof DnsFormatError,
    run(input) {
      const m = decodeMessage(input);
      if (m.questions.length === 0) return;
      const q = m.questions[0];
      const again = decodeMessage(encodeReply(m, { answers: m.answers }));
      assertEquals(again.questions[0], q, "question round trip");
      assertEquals(again.answers.length, m.answers.length);
    },
  });
});

Deno.test("fuzz: DNS responder", async () => {
  const r = new DnsResponder({ table: table(), upstreams: () => [] });
  try {
    await fuzz({
      name: "dns-responder",
      seeds: seeds(),
      dictionary: [new Uint8Array([0xc0, 12]), new Uint8Array([63]), "web", "front"],
      regressions: REGRESSIONS,
      maxLen: 1024,
      expected: () => false,
      run(input) {
        const out: Uint8Array[] = [];
        r.handle({ nets: ["n1"], forward: false }, input, (d) => out.push(d));
        if (out.length === 0) return; // not a query: dropped
        assertEquals(out.length, 1);
        const reply = decodeMessage(out[0]);
        const asked = decodeMessage(input);
        assert(reply.qr && reply.id === asked.id);
        assertEquals(reply.questions[0]?.name, asked.questions[0]?.name);
      },
    });
  } finally {
    r.close();
  }
});
