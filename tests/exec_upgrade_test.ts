/**
 * Exec start over a hijacked connection: the request's JSON body is never
 * part of the process's stdin, however the client's bytes are split across
 * writes (with the headers; alone, later; glued to the first stdin bytes).
 */
import { assertEquals } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, teardown } from "./containers_helpers.ts";

const enc = new TextEncoder();

/** Raw `POST /exec/{id}/start` with Upgrade; `parts` are written one by one, `gapMs` apart. */
async function rawStart(
  sock: string,
  id: string,
  parts: (head: string, body: string) => string[],
  gapMs = 40,
) {
  const body = JSON.stringify({ Detach: false, Tty: false });
  const head = `POST /v1.41/exec/${id}/start HTTP/1.1\r\nHost: localhost\r\n` +
    `Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`;
  const conn = await Deno.connect({ transport: "unix", path: sock });
  const out: Uint8Array[] = [];
  const reading = (async () => {
    const b = new Uint8Array(4096);
    for (let n; (n = await conn.read(b)) !== null;) out.push(b.slice(0, n));
  })().catch(() => {});
  for (const p of parts(head, body)) {
    await conn.write(enc.encode(p));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  await conn.closeWrite();
  await reading;
  conn.close();
  const all = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of out) all.set(c, off), off += c.length;
  // after the 101 head: Docker frames [type,0,0,0,len]; collect stdout's payload
  const text = new TextDecoder().decode(all);
  const start = text.indexOf("\r\n\r\n") + 4;
  let stdout = "";
  for (let i = start; i + 8 <= all.length;) {
    const len = new DataView(all.buffer, i + 4, 4).getUint32(0);
    if (all[i] === 1) stdout += new TextDecoder().decode(all.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return stdout;
}

Deno.test("exec start: the JSON body never reaches stdin", async () => {
  const d = await containerDaemon();
  try {
    const cid = expectCode(await d.berth(["run", "-d", "busybox", "sleep", "100"]), 0).stdout
      .trim();
    const sock = d.host.slice("unix://".length);
    const cases: [string, string, (head: string, body: string) => string[]][] = [
      ["body with the head, stdin later", "one", (h, b) => [h + b, "one\n"]],
      [
        "body alone, in pieces, stdin later",
        "two",
        (h, b) => [h, b.slice(0, 5), b.slice(5), "two\n"],
      ],
      ["body glued to stdin", "three", (h, b) => [h, b + "three\n"]],
      ["everything in one write", "four", (h, b) => [h + b + "four\n"]],
    ];
    for (const [what, want, parts] of cases) {
      const r = await fetch(`http://localhost/v1.41/containers/${cid}/exec`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ AttachStdin: true, AttachStdout: true, Cmd: ["cat"] }),
        client: Deno.createHttpClient({ proxy: { transport: "unix", path: sock } }),
      });
      const { Id } = await r.json();
      const got = await rawStart(sock, Id, parts);
      assertEquals(got.trim(), want, what);
    }
  } finally {
    await teardown(d);
  }
});
