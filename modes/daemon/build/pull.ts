/**
 * Base images the daemon does not have are pulled through the daemon's own
 * Engine API (`POST /images/create?fromImage=…` on its socket), so the
 * builder depends on the public pull endpoint only. Registry credentials
 * come from the build request's `X-Registry-Config` (what the docker CLI
 * sends: registry → auth config) and travel as `X-Registry-Auth`.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { parseNormalizedNamed } from "../../../core/oci/reference.ts";
import type { BuildOutput, Puller } from "./types.ts";

function authFor(registryConfig: string | undefined, domain: string): string | undefined {
  if (!registryConfig) return undefined;
  try {
    const json = new TextDecoder().decode(
      Uint8Array.from(
        atob(registryConfig.replace(/-/g, "+").replace(/_/g, "/")),
        (c) => c.charCodeAt(0),
      ),
    );
    const all = JSON.parse(json) as Record<string, Record<string, string>>;
    const keys = domain === "docker.io"
      ? ["https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io"]
      : [domain, `https://${domain}`, `http://${domain}`];
    for (const k of keys) {
      const a = all[k];
      if (a) return btoa(JSON.stringify({ ...a, serveraddress: a.serveraddress ?? k }));
    }
  } catch { /* no usable config */ }
  return undefined;
}

/** A Puller that asks the daemon itself (over `socket`) to pull. */
export function selfPuller(socket: string, registryConfig?: string): Puller {
  return async (name: string, out: BuildOutput) => {
    const ref = parseNormalizedNamed(name);
    const u = new URL("http://localhost/images/create");
    u.searchParams.set("fromImage", `${ref.domain}/${ref.path}`);
    u.searchParams.set("tag", ref.digest ?? ref.tag ?? "latest");
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
    try {
      const headers: Record<string, string> = {};
      const auth = authFor(registryConfig, ref.domain);
      if (auth) headers["X-Registry-Auth"] = auth;
      const res = await fetch(u, { method: "POST", client, headers });
      if (!res.ok || !res.body) {
        const t = await res.text();
        let msg = t.trim();
        try {
          msg = JSON.parse(t).message ?? msg;
        } catch { /* raw */ }
        throw new InvalidArgument(msg || `pull of ${name} failed: ${res.status}`);
      }
      const dec = new TextDecoder();
      let buf = "";
      let lastErr: string | undefined;
      const line = async (l: string) => {
        if (!l.trim()) return;
        const m = JSON.parse(l);
        if (m.errorDetail || m.error) lastErr = m.errorDetail?.message ?? m.error;
        else if (m.status && !m.progressDetail?.current) {
          await out.stream(`${m.id ? m.id + ": " : ""}${m.status}\n`);
        }
      };
      for await (const c of res.body) {
        buf += dec.decode(c, { stream: true });
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          await line(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      }
      await line(buf);
      if (lastErr) throw new InvalidArgument(lastErr);
    } finally {
      client.close();
    }
  };
}
