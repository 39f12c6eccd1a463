/**
 * Fuzz: the client's HTTP/1.1 response reader (issue 11), whatever the
 * socket says. readResponse throws only its own Errors (bad response,
 * closed connection, bad chunked encoding, bad Content-Length), never a
 * TypeError or RangeError, in bounded time; a body is never longer than what
 * was received, and a Content-Length body is exactly that long.
 */
import { assert } from "../../core/testing/assert.ts";
import { fuzz } from "../../core/testing/fuzz.ts";
import { readResponse } from "./http1.ts";

/** The reader's own failures (what the CLI prints as "error during connect"-like lines). */
const OWN =
  /^(bad HTTP response from the daemon|daemon closed the connection|bad chunked encoding|bad Content-Length)/;

function reader(b: Uint8Array) {
  let off = 0;
  let k = b.length ? b[b.length - 1] : 1;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (off >= b.length) return Promise.resolve(null);
      k = (k * 29 + 11) & 0xff;
      const n = Math.min(1 + (k % 97), p.length, b.length - off);
      p.set(b.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
  };
}

/** Inputs a fuzz run once broke the reader with. */
const REGRESSIONS: string[] = [
  // a Content-Length that is not a number: NaN read an empty body, "-5" all but 5 bytes
  'HTTP/1.1 200 OK\r\nContent-Length: 1true1\r\n\r\n{"ok":true}',
  'HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{"ok":true}',
  // lengths far beyond what was sent: a reader must not size a buffer from them up front
  // (RangeError: Invalid typed array length)
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n999999999999999999994\r\nWiki\r\n",
  "HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\n{}",
];

Deno.test("fuzz: client HTTP/1.1 response reader", async () => {
  await fuzz({
    name: "http1",
    seeds: [
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}',
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\n\r\n",
      'HTTP/1.0 404 Not Found\r\nApi-Version: 1.47\r\n\r\n{"message":"No such container: x"}',
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\0\0\0\0\0\0\x02hi",
      "HTTP/1.1 304 Not Modified\nServer: x\n\n",
    ],
    dictionary: [
      "\r\n",
      "\n",
      ": ",
      "Content-Length: ",
      "Transfer-Encoding: chunked",
      "HTTP/1.1 ",
      "0\r\n\r\n",
      "ffffffff",
      "-1",
    ],
    regressions: REGRESSIONS,
    maxLen: 4096,
    expected: (e) => e instanceof Error && e.constructor === Error && OWN.test(e.message),
    async run(input) {
      for (const method of ["GET", "HEAD"]) {
        const r = await readResponse(reader(input), method);
        assert(r.body.length <= input.length, `${r.body.length} body bytes from ${input.length}`);
        const cl = r.headers.get("content-length");
        const bodiless = method === "HEAD" || r.status < 200 || r.status === 204 ||
          r.status === 304;
        if (
          cl !== undefined && !bodiless &&
          !/chunked/i.test(r.headers.get("transfer-encoding") ?? "")
        ) {
          assert(r.body.length === Number(cl), `Content-Length ${cl}, body ${r.body.length}`);
        }
      }
    },
  });
});
