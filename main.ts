/**
 * berth: one program, several personalities chosen by argv[0] of the
 * arguments. Each personality is imported lazily so that, say, the shim never
 * loads the daemon.
 * @module
 */

async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  switch (first) {
    case "daemon":
      return (await import("./modes/daemon/main.ts")).main(rest);
    case "registry":
      return (await import("./modes/registry/main.ts")).main(rest);
    case "shim":
      return (await import("./core/shim/main.ts")).main(rest);
    case "init":
      return (await import("./core/runtime/init_main.ts")).main(rest);
    default:
      return (await import("./modes/client/main.ts")).main(args);
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
