/**
 * Registry credentials in docker's `~/.docker/config.json` (or
 * `$DOCKER_CONFIG/config.json`), read and written compatibly with the docker
 * CLI: `auths.<key>.auth` = base64("user:password"), `identitytoken` for
 * refresh tokens, Docker Hub under "https://index.docker.io/v1/". Credential
 * helpers (`credsStore`, `credHelpers`) are used when configured. Writes are
 * atomic and keep every other field of the file.
 *
 * @example
 * ```ts
 * import { getCredentials, saveCredentials } from "./credentials.ts";
 * const dir = await Deno.makeTempDir();
 * await saveCredentials("localhost:5000", { username: "u", password: "p" }, { configDir: dir });
 * console.assert((await getCredentials("localhost:5000", { configDir: dir }))?.username === "u");
 * ```
 * @module
 */
import { writeFileAtomic } from "../store/atomic.ts";
import { InvalidArgument } from "../errdefs/mod.ts";

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (docker's IdentityToken). */
  identityToken?: string;
  /** A bearer token to send as is (docker's RegistryToken). */
  registryToken?: string;
}

export interface CredentialOptions {
  /** Directory holding config.json; default $DOCKER_CONFIG or ~/.docker. */
  configDir?: string;
}

export const DOCKER_HUB_KEY = "https://index.docker.io/v1/";

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  email?: string;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function configDir(opts: CredentialOptions = {}): string {
  if (opts.configDir) return opts.configDir;
  const env = Deno.env.get("DOCKER_CONFIG");
  if (env) return env;
  return `${Deno.env.get("HOME") ?? "/root"}/.docker`;
}

/** Host part of a registry address: strips scheme and path (docker's convertToHostname). */
export function hostnameOf(address: string): string {
  let s = address.replace(/^[a-z]+:\/\//i, "");
  const slash = s.indexOf("/");
  if (slash >= 0) s = s.slice(0, slash);
  return s;
}

/** The config.json key for a registry host. */
export function credentialKey(host: string): string {
  const h = hostnameOf(host);
  return ["docker.io", "index.docker.io", "registry-1.docker.io"].includes(h) ? DOCKER_HUB_KEY : h;
}

async function readConfig(opts: CredentialOptions): Promise<ConfigFile> {
  const path = `${configDir(opts)}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as ConfigFile;
  } catch {
    throw new InvalidArgument(`${path}: invalid JSON`);
  }
}

async function writeConfig(cfg: ConfigFile, opts: CredentialOptions): Promise<void> {
  const dir = configDir(opts);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(`${dir}/config.json`, JSON.stringify(cfg, null, "\t") + "\n", {
    mode: 0o600,
  });
}

function findEntry(cfg: ConfigFile, key: string): [string, AuthEntry] | undefined {
  const auths = cfg.auths ?? {};
  if (auths[key]) return [key, auths[key]];
  const want = key === DOCKER_HUB_KEY ? "index.docker.io" : key;
  for (const [k, v] of Object.entries(auths)) {
    if (hostnameOf(k) === want) return [k, v];
  }
  return undefined;
}

function helperFor(cfg: ConfigFile, key: string): string | undefined {
  return cfg.credHelpers?.[key === DOCKER_HUB_KEY ? "docker.io" : key] ??
    cfg.credHelpers?.[key] ?? cfg.credsStore;
}

async function runHelper(helper: string, verb: string, input: string): Promise<string | null> {
  try {
    const child = new Deno.Command(`docker-credential-${helper}`, {
      args: [verb],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
    const out = await child.output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

function decodeAuth(auth: string): { username: string; password: string } {
  let text: string;
  try {
    text = new TextDecoder().decode(Uint8Array.from(atob(auth), (c) => c.charCodeAt(0)));
  } catch {
    throw new InvalidArgument("invalid auth entry in docker config (not base64)");
  }
  const i = text.indexOf(":");
  if (i < 0) throw new InvalidArgument("invalid auth entry in docker config (no colon)");
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

export function encodeAuth(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return btoa(String.fromCharCode(...bytes));
}

/** Credentials for a registry host, or undefined. */
export async function getCredentials(
  host: string,
  opts: CredentialOptions = {},
): Promise<Credentials | undefined> {
  const cfg = await readConfig(opts);
  const key = credentialKey(host);
  const helper = helperFor(cfg, key);
  if (helper) {
    const out = await runHelper(helper, "get", key);
    if (out) {
      const j = JSON.parse(out) as { Username?: string; Secret?: string };
      if (j.Username === "<token>") return { identityToken: j.Secret };
      return { username: j.Username, password: j.Secret };
    }
  }
  const found = findEntry(cfg, key);
  if (!found) return undefined;
  const e = found[1];
  const c: Credentials = {};
  if (e.auth) Object.assign(c, decodeAuth(e.auth));
  else if (e.username) Object.assign(c, { username: e.username, password: e.password });
  if (e.identitytoken) c.identityToken = e.identitytoken;
  if (e.registrytoken) c.registryToken = e.registrytoken;
  return Object.keys(c).length ? c : undefined;
}

/** Save credentials for a host (atomically; other entries kept). */
export async function saveCredentials(
  host: string,
  creds: Credentials,
  opts: CredentialOptions = {},
): Promise<void> {
  const cfg = await readConfig(opts);
  const key = credentialKey(host);
  const helper = helperFor(cfg, key);
  cfg.auths ??= {};
  if (helper) {
    const secret = creds.identityToken ?? creds.password ?? "";
    const user = creds.identityToken ? "<token>" : creds.username ?? "";
    const ok = await runHelper(
      helper,
      "store",
      JSON.stringify({ ServerURL: key, Username: user, Secret: secret }),
    );
    if (ok !== null) {
      cfg.auths[key] = {};
      await writeConfig(cfg, opts);
      return;
    }
  }
  const old = findEntry(cfg, key);
  if (old && old[0] !== key) delete cfg.auths[old[0]];
  const e: AuthEntry = {};
  if (creds.username !== undefined || creds.password !== undefined) {
    e.auth = encodeAuth(creds.username ?? "", creds.password ?? "");
  }
  if (creds.identityToken) e.identitytoken = creds.identityToken;
  cfg.auths[key] = e;
  await writeConfig(cfg, opts);
}

/** Forget credentials for a host; true if there were any. */
export async function removeCredentials(
  host: string,
  opts: CredentialOptions = {},
): Promise<boolean> {
  const cfg = await readConfig(opts);
  const key = credentialKey(host);
  const helper = helperFor(cfg, key);
  if (helper) await runHelper(helper, "erase", key);
  const found = findEntry(cfg, key);
  if (!found) return false;
  delete cfg.auths![found[0]];
  await writeConfig(cfg, opts);
  return true;
}
