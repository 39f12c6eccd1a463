import dgram from "node:dgram";
import { assertEquals, assertStringIncludes } from "../../testing/assert.ts";
import { delNetns, inNs, newNetns } from "../_testutil.ts";
import { parseIp } from "../ipv4.ts";
import { decodeMessage, encodeReply, TYPE_A } from "./packet.ts";
import { NameTable } from "./resolver.ts";
import { DNS_IP as DNS, EmbeddedDns } from "./server_linux.ts";

/** A fake upstream resolver on loopback: answers outside.test with 192.0.2.77. */
async function fakeUpstream(): Promise<{ port: number; close: () => void; hits: () => number }> {
  const s = dgram.createSocket("udp4");
  let hits = 0;
  s.on("message", (m, r) => {
    hits++;
    const q = decodeMessage(new Uint8Array(m));
    const name = q.questions[0]?.name;
    const reply = name === "outside.test" && q.questions[0].type === TYPE_A
      ? encodeReply(q, { answers: [{ type: TYPE_A, ttl: 5, ip: parseIp("192.0.2.77") }] })
      : encodeReply(q, { rcode: 3 });
    s.send(reply, r.port, r.address);
  });
  await new Promise<void>((res) => s.bind(0, "127.0.0.1", () => res()));
  return { port: s.address().port, close: () => s.close(), hits: () => hits };
}

Deno.test("embedded dns answers inside a netns and forwards the rest", async () => {
  const ns1 = await newNetns(), ns2 = await newNetns();
  const up = await fakeUpstream();
  const table = new NameTable();
  table.set("n1", "front", { id: "c1", names: ["web", "www"], ip: parseIp("10.77.0.2") });
  table.set("n2", "back", { id: "c2", names: ["db"], ip: parseIp("10.78.0.2") });
  const dns = new EmbeddedDns({
    table,
    upstreams: () => [{ ip: "127.0.0.1", port: up.port }],
    timeoutMs: 500,
  });
  try {
    dns.addContainer("c1", ns1.path, { nets: ["n1"], forward: true });
    dns.addContainer("c2", ns2.path, { nets: ["n2"], forward: false });
    const ask = (ns: string, name: string) =>
      inNs(ns, ["busybox", "nslookup", "-type=a", name, "127.0.0.11"]);
    const a = await ask(ns1.name, "www");
    assertStringIncludes(a.stdout, "10.77.0.2");
    const b = await ask(ns1.name, "web.front");
    assertStringIncludes(b.stdout, "10.77.0.2");
    const c = await ask(ns1.name, "db"); // other network: forwarded, NXDOMAIN upstream
    assertEquals(c.stdout.includes("10.78.0.2"), false);
    const d = await ask(ns1.name, "outside.test");
    assertStringIncludes(d.stdout, "192.0.2.77");
    const hits = up.hits();
    const e = await ask(ns2.name, "outside.test"); // forward off (internal network)
    assertEquals(e.stdout.includes("192.0.2.77"), false);
    assertEquals(up.hits(), hits);
    const f = await ask(ns2.name, "db");
    assertStringIncludes(f.stdout, "10.78.0.2");
    // DNS over TCP (length-prefixed), two queries on one connection
    const packet = new URL("./packet.ts", import.meta.url).pathname;
    const tcp = await inNs(ns1.name, [
      Deno.execPath(),
      "eval",
      `import { decodeMessage, encodeQuery } from "${packet}";
       const c = await Deno.connect({ hostname: "127.0.0.11", port: 53 });
       const out = [];
       for (const name of ["www", "outside.test"]) {
         const q = encodeQuery(9, name, 1);
         const m = new Uint8Array(2 + q.length); m[0] = q.length >> 8; m[1] = q.length & 255; m.set(q, 2);
         await c.write(m);
         let buf = new Uint8Array(0);
         while (buf.length < 2 || buf.length < 2 + ((buf[0] << 8) | buf[1])) {
           const b = new Uint8Array(4096); const n = await c.read(b); if (n === null) break;
           const x = new Uint8Array(buf.length + n); x.set(buf); x.set(b.subarray(0, n), buf.length); buf = x;
         }
         out.push(decodeMessage(buf.subarray(2)).answers[0]?.ip);
       }
       console.log(JSON.stringify(out)); c.close();`,
    ]);
    assertEquals(JSON.parse(tcp.stdout.trim() || "[]"), [
      parseIp("10.77.0.2"),
      parseIp("192.0.2.77"),
    ], tcp.stderr);
    dns.removeContainer("c1");
    assertEquals(dns.size, 1);
  } finally {
    await dns.close();
    up.close();
    await delNetns(ns1.name);
    await delNetns(ns2.name);
  }
});

Deno.test("embedded dns: a query that throws in the answer path is dropped, the next answered", async () => {
  const ns = await newNetns();
  class Throwing extends NameTable {
    override answer(view: string[], name: string, type: number) {
      if (name === "boom") throw new Error("boom");
      return super.answer(view, name, type);
    }
  }
  const table = new Throwing();
  table.set("n1", "front", { id: "c1", names: ["www"], ip: parseIp("10.77.0.2") });
  const logged: string[] = [];
  const dns = new EmbeddedDns({ table, upstreams: () => [], log: (m) => logged.push(m) });
  try {
    dns.addContainer("c1", ns.path, { nets: ["n1"], forward: false });
    // (before: the throw ended the DNS loop, and as an unhandled rejection the daemon)
    const boom = await inNs(ns.name, ["busybox", "timeout", "2", "nslookup", "boom", DNS]);
    assertEquals(boom.stdout.includes("10.77.0.2"), false);
    const ok = await inNs(ns.name, ["busybox", "nslookup", "-type=a", "www", DNS]);
    assertStringIncludes(ok.stdout, "10.77.0.2");
    assertStringIncludes(logged.join("\n"), "boom");
  } finally {
    await dns.close();
    await delNetns(ns.name);
  }
});
