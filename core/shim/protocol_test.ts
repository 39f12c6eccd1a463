import { assertEquals, assertMatch } from "../testing/assert.ts";
import { frame, FrameParser, readLine, rfc3339Nano } from "./protocol.ts";

Deno.test("protocol: frames round-trip through the incremental parser", () => {
  const a = frame(1, new TextEncoder().encode("hello"));
  const b = frame(2, new TextEncoder().encode("err"));
  assertEquals([...a.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 5]);
  const p = new FrameParser();
  const all = new Uint8Array([...a, ...b]);
  const got = [
    ...p.push(all.subarray(0, 3)),
    ...p.push(all.subarray(3, 15)),
    ...p.push(all.subarray(15)),
  ];
  assertEquals(got.map((f) => [f.type, new TextDecoder().decode(f.payload)]), [[1, "hello"], [
    2,
    "err",
  ]]);
});

Deno.test("protocol: RFC3339Nano trims trailing zeros", () => {
  assertEquals(rfc3339Nano(1714564800_123450000n), "2024-05-01T12:00:00.12345Z");
  assertEquals(rfc3339Nano(1714564800_000000000n), "2024-05-01T12:00:00Z");
  assertMatch(rfc3339Nano(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
});

Deno.test("protocol: readLine returns the bytes after the newline", async () => {
  const data = new TextEncoder().encode('{"ok":true}\nrest');
  let off = 0;
  const r = {
    read(p: Uint8Array) {
      if (off >= data.length) return Promise.resolve(null);
      const n = Math.min(5, data.length - off, p.length);
      p.set(data.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
  };
  const line = await readLine(r);
  assertEquals(line!.value, { ok: true });
  assertEquals(new TextDecoder().decode(line!.rest), "res");
});
