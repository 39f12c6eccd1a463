/**
 * pull, push, login, logout — through the daemon's Engine API, with
 * credentials from ~/.docker/config.json sent as X-Registry-Auth, as the
 * docker CLI does.
 * @module
 */
import { command, type Globals, out, parse, requireArgs, UsageExit } from "../cli.ts";
import { renderProgress } from "../progress.ts";
import {
  getCredentials,
  removeCredentials,
  saveCredentials,
} from "../../../core/distribution/credentials.ts";
import { parseReference, type Reference, referenceString } from "../../../core/oci/reference.ts";
import { ApiError } from "../api.ts";
import { errorText } from "../../../core/errdefs/ignore.ts";

function registryAuthHeader(
  c: { username?: string; password?: string; identityToken?: string } | undefined,
  server: string,
): string {
  const j = c
    ? {
      username: c.username ?? "",
      password: c.password ?? "",
      serveraddress: server,
      identitytoken: c.identityToken ?? "",
    }
    : {};
  const b = btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(j))));
  return b.replace(/\+/g, "-").replace(/\//g, "_");
}

function parseRef(s: string): Reference {
  try {
    return parseReference(s);
  } catch (e) {
    console.error(`Error response from daemon: ${(e as Error).message}`);
    throw new UsageExit(1);
  }
}

async function authFor(g: Globals, domain: string): Promise<string> {
  // as docker: an unreadable config means no credentials, said once
  const c = await getCredentials(domain, { configDir: g.configDir }).catch((e) => {
    console.error(`WARNING: Error loading config file: ${errorText(e)}`);
    return undefined;
  });
  return registryAuthHeader(c ?? undefined, domain);
}

async function pullCmd(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry")
    .option("-a, --all-tags", "Download all tagged images in the repository")
    .option("--platform <string>", "Set platform if server is multi-platform capable")
    .option("-q, --quiet", "Suppress verbose output")
    .option("--disable-content-trust", "Skip image verification (no-op)");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] NAME[:TAG|@DIGEST]", 1, 1);
  const ref = parseRef(pos[0]);
  if (opts.allTags && (ref.tag || ref.digest)) {
    console.error("tag can't be used with --all-tags/-a");
    return 1;
  }
  if (!opts.allTags && !ref.tag && !ref.digest) {
    ref.tag = "latest";
    if (!opts.quiet) out("Using default tag: latest\n");
  }
  const res = await g.api().request("POST", "/images/create", {
    query: {
      fromImage: `${ref.domain}/${ref.path}`,
      tag: ref.digest ?? ref.tag,
      platform: opts.platform,
    },
    headers: { "X-Registry-Auth": await authFor(g, ref.domain) },
  });
  const { code } = await renderProgress(g.api(), res, { quiet: opts.quiet });
  if (code === 0) out(`${opts.allTags ? `${ref.domain}/${ref.path}` : referenceString(ref)}\n`);
  return code;
}

async function pushCmd(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] NAME[:TAG]", "Upload an image to a registry")
    .option("-a, --all-tags", "Push all tags of an image to the repository")
    .option("-q, --quiet", "Suppress verbose output")
    .option("--disable-content-trust", "Skip image signing (no-op)");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] NAME[:TAG]", 1, 1);
  const ref = parseRef(pos[0]);
  if (!opts.allTags && !ref.tag) {
    ref.tag = "latest";
    if (!opts.quiet) out("Using default tag: latest\n");
  }
  const res = await g.api().request("POST", `/images/${ref.domain}/${ref.path}/push`, {
    query: { tag: opts.allTags ? undefined : ref.tag },
    headers: { "X-Registry-Auth": await authFor(g, ref.domain) },
  });
  const { code, aux } = await renderProgress(g.api(), res, { quiet: opts.quiet });
  if (code === 0 && opts.quiet) {
    for (const a of aux) if (a.Tag) out(`${ref.domain}/${ref.path}:${a.Tag}\n`);
  }
  return code;
}

async function readSecret(prompt: string, echo: boolean): Promise<string> {
  out(prompt);
  if (!echo && Deno.stdin.isTerminal()) Deno.stdin.setRaw(true);
  try {
    const buf = new Uint8Array(1);
    let s = "";
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (!n) break;
      const ch = String.fromCharCode(buf[0]);
      if (ch === "\n" || ch === "\r") break;
      if (buf[0] === 3) throw new UsageExit(130);
      if (buf[0] === 127) s = s.slice(0, -1);
      else s += ch;
    }
    return s;
  } finally {
    if (!echo && Deno.stdin.isTerminal()) {
      Deno.stdin.setRaw(false);
      out("\n");
    }
  }
}

function serverKey(server: string | undefined): { address: string; host: string } {
  if (!server) return { address: "https://index.docker.io/v1/", host: "docker.io" };
  const host = server.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
  return {
    address: host === "index.docker.io" ? "https://index.docker.io/v1/" : host,
    host: host === "index.docker.io" ? "docker.io" : host,
  };
}

async function loginCmd(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] [SERVER]", "Log in to a registry")
    .option("-u, --username <string>", "Username")
    .option("-p, --password <string>", "Password")
    .option("--password-stdin", "Take the password from stdin");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] [SERVER]", 0, 1);
  const { address, host } = serverKey(pos[0]);
  let username: string | undefined = opts.username;
  let password: string | undefined = opts.password;
  if (opts.passwordStdin) {
    if (opts.password) {
      console.error("--password and --password-stdin are mutually exclusive");
      return 1;
    }
    if (!username) {
      console.error("Must provide --username with --password-stdin");
      return 1;
    }
    password = (await new Response(Deno.stdin.readable).text()).replace(/\r?\n$/, "");
  } else if (opts.password) {
    console.error("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
  }
  if (!username) {
    if (!Deno.stdin.isTerminal()) {
      console.error("Error: Cannot perform an interactive login from a non TTY device");
      return 1;
    }
    username = await readSecret("Username: ", true);
  }
  if (!password) {
    if (!Deno.stdin.isTerminal()) {
      console.error("Error: Cannot perform an interactive login from a non TTY device");
      return 1;
    }
    password = await readSecret("Password: ", false);
  }
  try {
    await g.api().json("POST", "/auth", { body: { username, password, serveraddress: address } });
  } catch (e) {
    if (e instanceof ApiError) {
      console.error(`Error response from daemon: ${e.message}`);
      return 1;
    }
    throw e;
  }
  await saveCredentials(host, { username, password }, { configDir: g.configDir });
  out(`Login Succeeded\n`);
  return 0;
}

async function logoutCmd(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[SERVER]", "Log out from a registry");
  const { args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[SERVER]", 0, 1);
  const { address, host } = serverKey(pos[0]);
  out(
    `Removing login credentials for ${
      address === "https://index.docker.io/v1/" ? address : host
    }\n`,
  );
  // as docker: the logout goes on, the credentials left behind are named
  await removeCredentials(host, { configDir: g.configDir }).catch((e) =>
    console.error(`WARNING: could not erase credentials: ${host}: ${errorText(e)}`)
  );
  return 0;
}

export function run(name: string, args: string[], g: Globals): Promise<number> {
  switch (name) {
    case "pull":
      return pullCmd(name, args, g);
    case "push":
      return pushCmd(name, args, g);
    case "login":
      return loginCmd(name, args, g);
    case "logout":
      return logoutCmd(name, args, g);
  }
  throw new UsageExit(1);
}
