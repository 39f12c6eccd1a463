/**
 * Direct entry of the shim personality: the shim is spawned as this file
 * (from source: `deno run …/core/shim/entry.ts`; in the single file: its
 * extracted `core/shim/entry.js` chunk), so it reads the shim's own module
 * graph and nothing of main.ts's dispatch. A compiled binary re-execs itself
 * with `shim` instead (see client.ts `shimArgv`); main.ts loads personalities
 * lazily (core/sys/lazy.ts), so that path costs only main.ts itself.
 * @module
 */
import { main } from "./main.ts";

Deno.exit(await main(Deno.args));
