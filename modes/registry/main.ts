/**
 * `berth registry`: serve the OCI Distribution API; `berth registry gc`:
 * mark-and-sweep unreferenced blobs.
 *
 *     berth registry [--addr 127.0.0.1:5000] [--root DIR] [--htpasswd FILE]
 *                    [--auth none|basic|token] [--tls-cert F --tls-key F]
 *                    [--read-only] [--proxy-remote URL]
 *     berth registry gc [--dry-run] [--root DIR]
 * @module
 */
import { parseArgs } from "node:util";
import { messageOf } from "../../core/errdefs/mod.ts";
import { type AuthMode, startRegistry } from "./server.ts";

const DEFAULT_ROOT = "/var/lib/berth-registry";

const USAGE = `Usage: berth registry [OPTIONS]
       berth registry gc [--dry-run] [--root DIR]

Serve the OCI Distribution API.

Options:
  --addr HOST:PORT        listen address (default 127.0.0.1:5000)
  --root DIR              storage directory (default ${DEFAULT_ROOT})
  --auth MODE             none, basic or token (default: basic with --htpasswd, else none)
  --htpasswd FILE         bcrypt htpasswd file of users
  --tls-cert FILE         serve HTTPS with this certificate (PEM)
  --tls-key FILE          and this key (PEM)
  --read-only             refuse pushes and deletes
  --proxy-remote URL      pull-through cache of another registry
  --proxy-username USER   credentials for the remote (or BERTH_PROXY_USERNAME)
  --proxy-password PASS   (or BERTH_PROXY_PASSWORD)
  --token-realm URL       realm advertised in token mode (default <scheme>://<host>/token)
  --token-service NAME    service name in token mode (default berth-registry)
  --quiet                 do not print the listening address
`;

export async function main(args: string[]): Promise<number> {
  try {
    if (args[0] === "gc") return await gcMain(args.slice(1));
    const { values } = parseArgs({
      args,
      options: {
        addr: { type: "string", default: "127.0.0.1:5000" },
        root: { type: "string", default: DEFAULT_ROOT },
        auth: { type: "string" },
        htpasswd: { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "read-only": { type: "boolean", default: false },
        "proxy-remote": { type: "string" },
        "proxy-username": { type: "string" },
        "proxy-password": { type: "string" },
        "token-realm": { type: "string" },
        "token-service": { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const reg = await startRegistry({
      addr: values.addr,
      root: values.root,
      auth: values.auth as AuthMode | undefined,
      htpasswd: values.htpasswd,
      tlsCert: values["tls-cert"],
      tlsKey: values["tls-key"],
      readOnly: values["read-only"],
      proxyRemote: values["proxy-remote"],
      proxyUsername: values["proxy-username"] ?? Deno.env.get("BERTH_PROXY_USERNAME"),
      proxyPassword: values["proxy-password"] ?? Deno.env.get("BERTH_PROXY_PASSWORD"),
      tokenRealm: values["token-realm"],
      tokenService: values["token-service"],
      log: (l) => console.error(l),
    });
    if (!values.quiet) console.log(`berth registry listening on ${reg.url}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
    });
    await reg.close();
    return 0;
  } catch (e) {
    console.error(`berth registry: ${messageOf(e)}`);
    return (e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? 2 : 1;
  }
}

async function gcMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      root: { type: "string", default: DEFAULT_ROOT },
      "dry-run": { type: "boolean", default: false },
      "grace-period": { type: "string", default: "3600" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: berth registry gc [--dry-run] [--root DIR] [--grace-period SECONDS]\n\n" +
        "Delete blobs no manifest references. Blobs linked or written within the grace\n" +
        "period (default 3600 s) are kept, so pushes in progress are safe.",
    );
    return 0;
  }
  const { collectGarbage } = await import("./gc.ts");
  const r = await collectGarbage(values.root, {
    dryRun: values["dry-run"],
    graceSeconds: Number(values["grace-period"]),
    log: (l) => console.log(l),
  });
  console.log(
    `${values["dry-run"] ? "would delete" : "deleted"} ${r.deleted.length} blobs ` +
      `(${r.freedBytes} bytes), kept ${r.kept} blobs, ${r.purgedUploads.length} abandoned uploads`,
  );
  return 0;
}
