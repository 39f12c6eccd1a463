/**
 * The daemon's `-H` hosts and TLS flags, as dockerd takes them: `unix:///PATH`,
 * `tcp://HOST:PORT` (several at once), `--tls`, `--tlsverify`, `--tlscacert`,
 * `--tlscert`, `--tlskey`, with dockerd's defaults (DOCKER_TLS_VERIFY,
 * DOCKER_CERT_PATH or ~/.docker, port 2375 or 2376 with TLS). Pure: parsing and
 * checks only; ./listen.ts listens. Decisions: docs/transport.md.
 * @module
 */

export const DEFAULT_UNIX = "/run/berth/berth.sock";

export type ApiHost =
  | { proto: "unix"; path: string; url: string }
  | { proto: "tcp"; hostname: string; port: number; url: string };

export interface DaemonTls {
  /** --tlsverify: clients must present a certificate signed by `ca`. */
  verify: boolean;
  ca?: string;
  cert: string;
  key: string;
}

export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/** One `-H` value (dockerd's opts.ParseHost, for unix and tcp). */
export function parseHost(h: string, tls: boolean): ApiHost {
  const raw = h.trim();
  if (raw.startsWith("unix://")) {
    const path = raw.slice("unix://".length) || DEFAULT_UNIX;
    if (!path.startsWith("/")) {
      throw new Error(`invalid bind address (${raw}): want an absolute path`);
    }
    return { proto: "unix", path, url: `unix://${path}` };
  }
  const i = raw.indexOf("://");
  if (i >= 0 && raw.slice(0, i) !== "tcp") {
    throw new Error(`invalid bind address format: ${raw} (berth listens on unix:// and tcp://)`);
  }
  const rest = i >= 0 ? raw.slice(i + 3) : raw;
  const slash = rest.indexOf("/");
  if (slash >= 0 && rest.slice(slash) !== "/") {
    throw new Error(
      `invalid bind address (${rest.slice(slash)}): should not contain a path element`,
    );
  }
  const hostPort = slash >= 0 ? rest.slice(0, slash) : rest;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*)(?::(\d*))?$/.exec(hostPort);
  if (!m) throw new Error(`invalid bind address format: ${raw}`);
  const hostname = m[1] === "" ? "127.0.0.1" : m[1].replace(/^\[(.*)\]$/, "$1");
  const port = m[2] ? Number(m[2]) : tls ? 2376 : 2375;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid bind address format: ${raw}: bad port`);
  }
  const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
  return { proto: "tcp", hostname, port, url: `tcp://${shown}:${port}` };
}

/** 127.0.0.0/8, ::1, localhost. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The TLS set-up from the flags (undefined: no TLS). As dockerd, --tlsverify
 * implies --tls and DOCKER_TLS_VERIFY turns it on when the flag is not given;
 * the files default to ca.pem, cert.pem and key.pem in DOCKER_CERT_PATH or
 * ~/.docker.
 */
export function tlsFromFlags(f: TlsFlags, env = Deno.env.toObject()): DaemonTls | undefined {
  const verify = f.tlsverify ?? (env.DOCKER_TLS_VERIFY ?? "") !== "";
  const tls = verify || (f.tls ?? false);
  if (!tls) return undefined;
  const dir = env.DOCKER_CERT_PATH || `${env.HOME || "/root"}/.docker`;
  return {
    verify,
    ca: verify ? f.tlscacert ?? `${dir}/ca.pem` : undefined,
    cert: f.tlscert ?? `${dir}/cert.pem`,
    key: f.tlskey ?? `${dir}/key.pem`,
  };
}

/**
 * Refuse what dockerd refuses, plus plain TCP on a non-loopback address unless
 * the operator said `--tls=false` or `--tlsverify=false` (Docker 23+'s rule;
 * 20.10 only warned). Returns the hosts that will be served without client
 * verification (for the warning).
 */
export function checkHosts(hosts: ApiHost[], tls: DaemonTls | undefined, f: TlsFlags): ApiHost[] {
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h.url)) throw new Error(`-H ${h.url} given twice`);
    seen.add(h.url);
  }
  const unverified = hosts.filter((h) => h.proto === "tcp" && !tls?.verify);
  const explicitOff = f.tls === false || f.tlsverify === false;
  for (const h of unverified) {
    if (h.proto === "tcp" && !tls && !isLoopback(h.hostname) && !explicitOff) {
      throw new Error(
        `refusing to serve the API on ${h.url} without TLS (anyone who can reach it is root here): ` +
          `use --tlsverify with --tlscacert/--tlscert/--tlskey, or say --tls=false to accept the risk`,
      );
    }
  }
  return unverified;
}

/** dockerd 20.10's warning for an API served on TCP without --tlsverify. */
export const INSECURE_WARNING = [
  "Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.",
  "Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!",
];
