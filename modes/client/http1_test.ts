import { assertEquals, assertRejects } from "../../core/testing/assert.ts";
import { http1, readResponse } from "./http1.ts";
import http from "node:http";

function reader(text: string, chunk = 3) {
  const b = new TextEncoder().encode(text);
  let off = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (off >= b.length) return Promise.resolve(null);
      const n = Math.min(chunk, p.length, b.length - off);
      p.set(b.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
  };
}
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("readResponse: content-length, chunked, close-delimited, bodiless", async () => {
  let r = await readResponse(
    reader("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhelloEXTRA"),
  );
  assertEquals([r.status, text(r.body), r.headers.get("x-a")], [201, "hello", "b"]);
  r = await readResponse(
    reader(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6\r\npedia \r\n0\r\n\r\n",
    ),
  );
  assertEquals(text(r.body), "Wikipedia ");
  r = await readResponse(reader('HTTP/1.0 404 Not Found\r\n\r\n{"message":"no"}'));
  assertEquals([r.status, text(r.body)], [404, '{"message":"no"}']);
  r = await readResponse(reader("HTTP/1.1 204 No Content\r\n\r\n"));
  assertEquals([r.status, r.body.length], [204, 0]);
  await assertRejects(() => readResponse(reader("garbage\r\n\r\n")));
  await assertRejects(() =>
    readResponse(reader("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"))
  );
});

Deno.test("http1 against node:http on a unix socket", async () => {
  const dir = await Deno.makeTempDir();
  const sock = `${dir}/s.sock`;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => body += c);
    req.on("end", () => {
      if (req.url === "/chunked") {
        res.write("a".repeat(20000));
        res.end("b");
      } else {
        res.setHeader("Content-Type", "application/json");
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            body,
            type: req.headers["content-type"],
          }),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const r = await http1(
      sock,
      "POST",
      "/x?y=1",
      { "Content-Type": "application/json" },
      new TextEncoder().encode("{}"),
    );
    assertEquals(JSON.parse(text(r.body)), {
      method: "POST",
      url: "/x?y=1",
      body: "{}",
      type: "application/json",
    });
    const c = await http1(sock, "GET", "/chunked", {});
    assertEquals(c.body.length, 20001);
  } finally {
    await new Promise((r) => server.close(r));
    await Deno.remove(dir, { recursive: true });
  }
});

/** A reader serving `head` then `size` bytes of body in 16 KiB reads (a socket's pace). */
function bigReader(head: string, size: number) {
  const h = new TextEncoder().encode(head);
  let off = 0;
  const total = h.length + size;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (off >= total) return Promise.resolve(null);
      const n = Math.min(16 * 1024, p.length, total - off);
      p.fill(0x61, 0, n);
      if (off < h.length) p.set(h.subarray(off, Math.min(h.length, off + n)));
      off += n;
      return Promise.resolve(n);
    },
  };
}

async function timeRead(size: number, delimited: "length" | "close"): Promise<number> {
  const head = delimited === "length"
    ? `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`
    : "HTTP/1.1 200 OK\r\n\r\n";
  const t0 = performance.now();
  const r = await readResponse(bigReader(head, size));
  const ms = performance.now() - t0;
  assertEquals(r.body.length, size);
  return ms;
}

Deno.test("readResponse reads in linear time: 20 MB costs about 20× 1 MB, not hundreds of times", async () => {
  for (const how of ["length", "close"] as const) {
    await timeRead(1 << 20, how); // warm up
    const small = Math.min(await timeRead(1 << 20, how), await timeRead(1 << 20, how));
    const big = Math.min(await timeRead(20 << 20, how), await timeRead(20 << 20, how));
    // Linear: ~20× (plus noise, and other tests' load: 1.1 s was seen on a busy
    // machine); the old quadratic buffer took ~200× here (150 s for 20 MB).
    const bound = 100 * small + 10000;
    if (big > bound) {
      throw new Error(`${how}: 20 MB took ${big.toFixed(0)} ms, 1 MB ${small.toFixed(1)} ms`);
    }
  }
});
