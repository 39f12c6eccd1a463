/**
 * Direct entry of the `init` personality for `deno run` from a checkout:
 * BuiltinRuntime starts this file instead of `main.ts init`, which saves the
 * dynamic import main.ts does to pick a personality (~5 ms per container,
 * measured). Bundled and compiled forms use `berth init` (see builtin.ts).
 * @module
 */

import { main } from "./init_main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
