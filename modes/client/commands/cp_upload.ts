/**
 * PUT a streamed body (a tar) over a bare connection (unix, tcp or TLS) with
 * chunked encoding, as `docker cp` into a container does. Measured here,
 * Deno's `fetch` with a streamed request body took 2–4× as long as curl for
 * the same 100 MB tar into the same daemon; writing the chunks on the socket
 * ourselves runs at curl's pace. The daemon may answer before the body is
 * all sent (404, read-only…): the response is read meanwhile and sending
 * stops then.
 * @module
 */
import { type ApiClient, ApiError, ConnectError } from "../api.ts";
import type { Conn } from "../dial.ts";
import { type RawResponse, readResponse } from "../http1.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";

const enc = new TextEncoder();

async function writeAll(conn: Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
}

export async function putStream(
  api: ApiClient,
  path: string,
  query: Record<string, string | boolean>,
  body: ReadableStream<Uint8Array>,
): Promise<void> {
  const u = new URL(api.url(path, query));
  let conn: Conn;
  try {
    conn = await api.dial();
  } catch (e) {
    await body.cancel().catch(peerGone); // nothing will read it
    throw new ConnectError(
      `Cannot connect to the berth daemon at ${api.host}. Is the berth daemon running?`,
      { cause: e },
    );
  }
  const rd = body.getReader();
  try {
    await writeAll(
      conn,
      enc.encode(
        `PUT ${u.pathname}${u.search} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n` +
          "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n",
      ),
    );
    let answered = false;
    const res: Promise<RawResponse> = readResponse(conn, "PUT").finally(() => answered = true);
    res.catch(() => {}); // awaited below; this only keeps an early failure from being unhandled
    try {
      for (;;) {
        const { value, done } = await rd.read();
        if (done || answered) break;
        if (value.length === 0) continue;
        await writeAll(conn, enc.encode(`${value.length.toString(16)}\r\n`));
        await writeAll(conn, value);
        await writeAll(conn, enc.encode("\r\n"));
      }
      if (!answered) await writeAll(conn, enc.encode("0\r\n\r\n"));
    } catch (e) {
      // the daemon closed its side (it answered early): its answer says why
      if (!answered) await Promise.race([res, new Promise((r) => setTimeout(r, 1000))]);
      if (!answered) throw e;
    }
    const r = await res;
    if (r.status >= 400) {
      const text = new TextDecoder().decode(r.body).trim();
      let msg = text;
      try {
        const j = JSON.parse(text);
        if (j && typeof j.message === "string") msg = j.message;
      } catch { /* not JSON: shown as it came */ }
      throw new ApiError(r.status, msg || `HTTP ${r.status}`);
    }
  } finally {
    await rd.cancel().catch(peerGone); // done or given up: release the source
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}
