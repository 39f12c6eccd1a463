/**
 * Direct entry of the shim personality when berth runs from source
 * (`deno run …/main.ts`): main.ts names every personality in literal dynamic
 * imports, and Deno loads all of those module graphs up front — about 2 MB
 * a shim does not need. A compiled binary has no such cost and re-execs
 * itself with `shim` instead (see client.ts `shimArgv`).
 * @module
 */
import { main } from "./main.ts";

Deno.exit(await main(Deno.args));
