/**
 * berth: one program, several personalities chosen by the first argument.
 * Each personality is loaded lazily (core/sys/lazy.ts, no literal import) so
 * that, say, a shim never reads the daemon's modules.
 * @module
 */
import { lazy, registry } from "./core/sys/lazy.ts";

type Personality = { main(args: string[]): Promise<number> };

export async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  switch (first) {
    case "daemon":
      return (await lazy<Personality>("modes/daemon/main.ts")).main(rest);
    case "registry":
      return (await lazy<Personality>("modes/registry/main.ts")).main(rest);
    case "shim":
      return (await lazy<Personality>("core/shim/main.ts")).main(rest);
    case "init":
      return (await lazy<Personality>("core/runtime/init_main.ts")).main(rest);
    default:
      return (await lazy<Personality>("modes/client/main.ts")).main(args);
  }
}

if (import.meta.main && !registry()) {
  Deno.exit(await main(Deno.args));
}
