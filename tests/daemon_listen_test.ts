/**
 * modes/daemon/listen.ts in-process, with stand-in API handlers and the real
 * client (modes/client/api.ts): unix, plain tcp and TLS listeners at once;
 * --tlsverify refuses a client without a certificate; --tls alone does not ask
 * for one (and the client's --tls skips the server check); a hijacked stream
 * over TLS survives the client's half-close (the docker CLI's CloseWrite).
 */
import { assert, assertEquals, assertRejects } from "../core/testing/assert.ts";
import { listenAll, loadTls } from "../modes/daemon/listen.ts";
import type { ApiHandlers } from "../modes/daemon/server.ts";
import type { DaemonConfig } from "../modes/daemon/config.ts";
import { type DaemonTls, parseHost } from "../modes/daemon/hosts.ts";
import { ApiClient } from "../modes/client/api.ts";
import { resolveTls } from "../modes/client/dial.ts";
import { freePort, makeCerts, OPENSSL } from "./fixtures/certs.ts";

const handlers: ApiHandlers = {
  request: (req, res) => void res.end(`ok ${req.url}`),
  upgrade: (_req, socket) => {
    socket.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    socket.on("data", () => {});
    // answers after the client's EOF, as a container's output goes on after stdin ends
    socket.on("end", () => setTimeout(() => socket.end("after-eof\n"), 100));
  },
};

async function serveWith(dir: string, tls: DaemonTls | undefined, tcpPort: number) {
  const hosts = [parseHost(`tcp://127.0.0.1:${tcpPort}`, !!tls)];
  const config = {
    socket: `${dir}/api-internal.sock`,
    hosts,
    tls,
    insecureTcp: tls?.verify ? [] : hosts.map((h) => h.url),
  } as unknown as DaemonConfig;
  return await listenAll(config, handlers, tls ? await loadTls(tls) : undefined);
}

async function readAll(conn: { read(p: Uint8Array): Promise<number | null> }): Promise<string> {
  const buf = new Uint8Array(4096);
  let s = "";
  for (let n; (n = await conn.read(buf)) !== null;) {
    s += new TextDecoder().decode(buf.subarray(0, n));
  }
  return s;
}

Deno.test({
  name: "listen: --tlsverify with the client's flags; refusal without a certificate; half-close",
  ignore: !OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const port = freePort();
    const l = await serveWith(certs, {
      verify: true,
      ca: `${certs}/ca.pem`,
      cert: `${certs}/server-cert.pem`,
      key: `${certs}/server-key.pem`,
    }, port);
    const host = `tcp://127.0.0.1:${port}`;
    try {
      const env = { DOCKER_CERT_PATH: certs, DOCKER_TLS_VERIFY: "1" };
      const c = new ApiClient(host, resolveTls({}, env));
      assertEquals(await c.call("GET", "/_ping"), "ok /v1.47/_ping");
      assertEquals(await (await c.request("GET", "/info")).text(), "ok /v1.47/info");
      const { conn, head } = await c.hijack("POST", "/exec/x/start", { body: {} });
      assertEquals(head.length, 0);
      await conn.closeWrite();
      assertEquals(await readAll(conn), "after-eof\n");
      conn.close();
      c.close();
      // the private unix socket for the build's self-pull (no unix -H)
      const u = new ApiClient(`unix://${certs}/api-internal.sock`);
      assertEquals(await u.call("GET", "/_ping"), "ok /v1.47/_ping");
      assertEquals(Deno.statSync(`${certs}/api-internal.sock`).mode! & 0o777, 0o600);
      // --tlscacert alone does not turn TLS on (docker CLI)
      const noTls = new ApiClient(host, resolveTls({ tlscacert: `${certs}/ca.pem` }, {}));
      assertEquals(noTls.target.proto === "tcp" && noTls.target.tls, undefined);
      const verifyNoCert = new ApiClient(
        host,
        resolveTls({ tlsverify: true, tlscacert: `${certs}/ca.pem` }, { HOME: "/nonexistent" }),
      );
      await assertRejects(() => verifyNoCert.call("GET", "/_ping"));
      const plain = new ApiClient(host);
      await assertRejects(() => plain.call("GET", "/_ping"));
    } finally {
      await l.close();
      await Deno.remove(certs, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "listen: --tls without verify asks no client certificate; the client's --tls skips the check",
  ignore: !OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const port = freePort();
    const l = await serveWith(certs, {
      verify: false,
      cert: `${certs}/server-cert.pem`,
      key: `${certs}/server-key.pem`,
    }, port);
    const host = `tcp://127.0.0.1:${port}`;
    try {
      const insecure = new ApiClient(host, resolveTls({ tls: true }, { HOME: "/nonexistent" }));
      assertEquals(await insecure.call("GET", "/_ping"), "ok /v1.47/_ping");
      assertEquals(await (await insecure.request("GET", "/info")).text(), "ok /v1.47/info");
      const { conn } = await insecure.hijack("POST", "/containers/x/attach");
      await conn.closeWrite();
      assertEquals(await readAll(conn), "after-eof\n");
      conn.close();
      // verifying against the wrong CA (the client certificate) fails
      const wrong = new ApiClient(
        host,
        resolveTls({ tlsverify: true, tlscacert: `${certs}/cert.pem` }, { HOME: "/nonexistent" }),
      );
      const e = await assertRejects(() => wrong.call("GET", "/_ping"));
      assert(String(e).length > 0);
    } finally {
      await l.close();
      await Deno.remove(certs, { recursive: true });
    }
  },
});
