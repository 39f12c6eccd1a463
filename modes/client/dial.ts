/**
 * Where the client's daemon is and how to reach it: `unix:///PATH` or
 * `tcp://HOST:PORT`, plain or TLS, with the docker CLI's flags and
 * environment (`--tls`, `--tlsverify`, `--tlscacert/--tlscert/--tlskey`,
 * DOCKER_TLS_VERIFY, DOCKER_TLS, DOCKER_CERT_PATH, default ~/.docker).
 * Decisions: docs/transport.md.
 * @module
 */

/** A byte stream to the daemon (a Deno.Conn, or a node:tls socket for --tls without verify). */
export interface Conn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

export interface TlsFlags {
  tls?: boolean;
  /** Given at all (`--tlsverify` or `--tlsverify=false`): the docker CLI then turns TLS on. */
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/** PEM contents. `verify` false: the server's certificate is not checked (docker's --tls). */
export interface ClientTls {
  verify: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

export type Target =
  | { proto: "unix"; path: string }
  | { proto: "tcp"; hostname: string; port: number; tls?: ClientTls };

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false; // absent or unreadable: as the docker CLI, a default file that is not there is skipped
  }
};

function readPem(what: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new Error(`could not read ${what} "${path}": ${e instanceof Error ? e.message : e}`);
  }
}

/** The docker CLI's TLS options (cli/flags SetDefaultOptions), files read. */
export function resolveTls(f: TlsFlags, env = Deno.env.toObject()): ClientTls | undefined {
  const verify = f.tlsverify ?? (env.DOCKER_TLS_VERIFY ?? "") !== "";
  const on = f.tls || f.tlsverify !== undefined || verify || (env.DOCKER_TLS ?? "") !== "";
  if (!on) return undefined;
  const dir = env.DOCKER_CERT_PATH ||
    env.DOCKER_CONFIG || `${env.HOME || "/root"}/.docker`;
  const ca = f.tlscacert ?? `${dir}/ca.pem`;
  const cert = f.tlscert ?? `${dir}/cert.pem`;
  const key = f.tlskey ?? `${dir}/key.pem`;
  const out: ClientTls = { verify };
  if (verify || f.tlscacert !== undefined || exists(ca)) out.ca = readPem("CA certificate", ca);
  if (f.tlscert !== undefined || exists(cert)) out.cert = readPem("client certificate", cert);
  if (f.tlskey !== undefined || exists(key)) out.key = readPem("client key", key);
  if (!out.cert !== !out.key) {
    throw new Error("client certificate and key must be given together (--tlscert, --tlskey)");
  }
  return out;
}

/** Parse a client host (`unix://`, `tcp://`; the port defaults to 2376 with TLS, else 2375). */
export function parseTarget(host: string, tls?: ClientTls): Target {
  if (host.startsWith("unix://")) return { proto: "unix", path: host.slice("unix://".length) };
  if (!host.startsWith("tcp://")) {
    throw new Error(`unsupported host ${host}: berth speaks to unix:// and tcp:// hosts`);
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+)(?::(\d+))?\/?$/.exec(host.slice("tcp://".length));
  const port = m?.[2] ? Number(m[2]) : tls ? 2376 : 2375;
  if (!m || port < 1 || port > 65535) throw new Error(`invalid host ${host}: want tcp://HOST:PORT`);
  return { proto: "tcp", hostname: m[1].replace(/^\[(.*)\]$/, "$1"), port, tls };
}

/** Open a connection to the daemon. */
export async function dial(t: Target): Promise<Conn> {
  if (t.proto === "unix") return await Deno.connect({ transport: "unix", path: t.path });
  if (!t.tls) return await Deno.connect({ hostname: t.hostname, port: t.port });
  if (t.tls.verify) {
    const { ca, cert, key } = t.tls;
    return await Deno.connectTls({
      hostname: t.hostname,
      port: t.port,
      caCerts: ca ? [ca] : undefined,
      ...(cert && key ? { cert, key } : {}),
    });
  }
  return await insecureTls(t.hostname, t.port, t.tls);
}

/** docker's --tls without --tlsverify: encrypted, the server's certificate unchecked (node:tls). */
async function insecureTls(host: string, port: number, t: ClientTls): Promise<Conn> {
  const { default: tls } = await import("node:tls");
  const s = tls.connect({ host, port, rejectUnauthorized: false, cert: t.cert, key: t.key });
  await new Promise<void>((resolve, reject) => {
    s.once("secureConnect", () => resolve());
    s.once("error", reject);
  });
  const chunks: Uint8Array[] = [];
  let ended = false, failed: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  s.on("data", (d: Uint8Array) => {
    chunks.push(new Uint8Array(d));
    s.pause();
    poke();
  });
  s.on("end", () => (ended = true, poke()));
  s.on("close", () => (ended = true, poke()));
  s.on("error", (e: Error) => (failed = e, poke()));
  return {
    async read(p) {
      while (!chunks.length) {
        if (failed) throw failed;
        if (ended) return null;
        s.resume();
        await new Promise<void>((r) => wake = r);
      }
      const c = chunks[0];
      const n = Math.min(p.length, c.length);
      p.set(c.subarray(0, n));
      if (n === c.length) chunks.shift();
      else chunks[0] = c.subarray(n);
      return n;
    },
    write: (p) =>
      new Promise((resolve, reject) => s.write(p, (e) => e ? reject(e) : resolve(p.length))),
    closeWrite: () => new Promise((resolve) => s.end(() => resolve())),
    close: () => void s.destroy(),
  };
}

/**
 * `fetch` for docker's --tls without --tlsverify (Deno's fetch always checks
 * the server's certificate): one node:https request, answered as a Response.
 */
export async function insecureFetch(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: BodyInit; signal?: AbortSignal },
  t: ClientTls,
): Promise<Response> {
  const [{ default: https }, { Readable }] = await Promise.all([
    import("node:https"),
    import("node:stream"),
  ]);
  const body = init.body;
  return await new Promise<Response>((resolve, reject) => {
    const req = https.request(url, {
      method: init.method,
      headers: init.headers,
      rejectUnauthorized: false,
      cert: t.cert,
      key: t.key,
      signal: init.signal,
    }, (res) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      }
      const status = res.statusCode ?? 502;
      const empty = status === 204 || status === 304 || init.method === "HEAD";
      resolve(
        new Response(empty ? null : Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>, {
          status,
          statusText: res.statusMessage,
          headers,
        }),
      );
    });
    req.on("error", reject);
    if (body instanceof ReadableStream) {
      Readable.fromWeb(body as import("node:stream/web").ReadableStream).pipe(req);
    } else if (body === undefined || body === null) req.end();
    else if (typeof body === "string" || body instanceof Uint8Array) req.end(body);
    else reject(new Error("unsupported request body over --tls"));
  });
}
