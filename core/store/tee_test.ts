import { assertEquals } from "../testing/assert.ts";
import { balancedTee } from "./tee.ts";

Deno.test("balancedTee: both branches get everything; a slow branch holds the source back", async () => {
  let produced = 0;
  const src = new ReadableStream<Uint8Array>({
    pull(c) {
      if (produced === 100) return c.close();
      produced++;
      c.enqueue(new Uint8Array([produced]));
    },
  }, { highWaterMark: 0 });
  const [a, b] = balancedTee(src, 2);
  const ra = a.getReader();
  // Read a fast branch while b is not read: the source must not run ahead.
  for (let i = 0; i < 2; i++) await ra.read();
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(produced < 10, true, `produced ${produced}`);
  const rest = (async () => {
    let n = 2;
    while (!(await ra.read()).done) n++;
    return n;
  })();
  const bb = new Uint8Array(await new Response(b).arrayBuffer());
  assertEquals(bb.length, 100);
  assertEquals(await rest, 100);
});

Deno.test("balancedTee: cancelling one branch lets the other finish", async () => {
  const [a, b] = balancedTee(
    ReadableStream.from([1, 2, 3, 4, 5, 6].map((x) => new Uint8Array([x]))),
    1,
  );
  await b.cancel();
  assertEquals(
    new Uint8Array(await new Response(a).arrayBuffer()),
    new Uint8Array([1, 2, 3, 4, 5, 6]),
  );
});
