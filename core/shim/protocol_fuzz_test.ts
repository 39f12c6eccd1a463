/**
 * Fuzz: the shim protocol decoders (issue 11). FrameParser never throws,
 * whatever the bytes and however they are split, yields no more payload than
 * it was given, and gives back exactly the frames that were encoded;
 * readLine returns the first line's JSON and the bytes after it, null at a
 * clean end, or throws SyntaxError (bad JSON) or its "line too long" Error.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { fuzz } from "../testing/fuzz.ts";
import { frame, FrameParser, readLine } from "./protocol.ts";

/** Split points derived from the input itself (deterministic per input). */
function chunks(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  let k = b.length ? b[0] : 0;
  while (off < b.length) {
    k = (k * 31 + 7) & 0xff;
    const n = 1 + (k % 37);
    out.push(b.subarray(off, off + n));
    off += n;
  }
  return out;
}

function reader(b: Uint8Array) {
  const parts = chunks(b);
  return {
    read(p: Uint8Array): Promise<number | null> {
      const c = parts.shift();
      if (!c) return Promise.resolve(null);
      p.set(c.subarray(0, p.length));
      if (c.length > p.length) parts.unshift(c.subarray(p.length));
      return Promise.resolve(Math.min(c.length, p.length));
    },
  };
}

class Expected extends Error {}

/** Inputs a fuzz run once broke the decoders with (none yet). */
const REGRESSIONS: Uint8Array[] = [];

const enc = new TextEncoder();

Deno.test("fuzz: shim stream frames", async () => {
  await fuzz({
    name: "shim-frames",
    seeds: [
      new Uint8Array([...frame(1, enc.encode("hello")), ...frame(2, enc.encode("err"))]),
      frame(5, enc.encode(JSON.stringify({ exitCode: 0, exitedAt: "2024-01-01T00:00:00Z" }))),
      new Uint8Array([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
    ],
    regressions: REGRESSIONS,
    maxLen: 4096,
    expected: () => false,
    run(input) {
      // arbitrary bytes: no throw, no payload out of nothing
      const p = new FrameParser();
      let got = 0;
      for (const c of chunks(input)) for (const f of p.push(c)) got += f.payload.length;
      assert(got <= input.length, `${got} payload bytes from ${input.length}`);
      // the input cut into frames: the same frames come back
      let want = "";
      const parts: Uint8Array[] = [];
      for (let off = 0; off < input.length;) {
        const n = input[off] % 64;
        const payload = input.subarray(off + 1, off + 1 + n);
        want += `${input[off] % 6}:${payload.join(",")};`;
        parts.push(frame(input[off] % 6, payload));
        off += 1 + n;
      }
      const stream = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
      let at = 0;
      for (const x of parts) {
        stream.set(x, at);
        at += x.length;
      }
      const q = new FrameParser();
      let back = "";
      for (const c of chunks(stream)) {
        for (const f of q.push(c)) back += `${f.type}:${f.payload.join(",")};`;
      }
      assertEquals(back, want);
    },
  });
});

Deno.test("fuzz: shim request lines", async () => {
  await fuzz({
    name: "shim-lines",
    seeds: [
      '{"op":"state"}\n',
      '{"op":"kill","signal":9,"all":true}\n',
      '{"op":"exec","exec":"e1","process":{"args":["sh"]},"tty":false,"stdin":true}\nstdin bytes',
      '{"op":"resize","h":24,"w":80}\n',
      "\n",
      '{"op":"attach"',
    ],
    dictionary: ["\n", "{", "}", '"', ":", ",", "[", "]", "null", "\\u0000"],
    regressions: REGRESSIONS,
    maxLen: 2048,
    expected: (e) => e instanceof Expected,
    async run(input) {
      let line;
      try {
        line = await readLine(reader(input), 1024);
      } catch (e) {
        if (e instanceof SyntaxError || (e as Error).message === "protocol line too long") {
          throw new Expected();
        }
        throw e;
      }
      const nl = input.indexOf(10);
      if (line === null) return assert(nl < 0, "null although a line was there");
      assert(nl >= 0);
      assertEquals(line.value, JSON.parse(new TextDecoder().decode(input.subarray(0, nl))));
      assertEquals([...line.rest], [...input.subarray(nl + 1)].slice(0, line.rest.length));
    },
  });
});
