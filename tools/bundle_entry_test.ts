/**
 * tools/bundle_entry.ts lists every module loaded through core/sys/lazy.ts:
 * a module missing there fails only at run time, and only in the single file
 * and the compiled binary (three client commands once did).
 *   deno test -A tools/bundle_entry_test.ts
 */
import { assertEquals } from "../core/testing/assert.ts";

const root = new URL("../", import.meta.url).pathname;

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(`${root}${dir}`)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* tsFiles(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield p;
  }
}

Deno.test("bundle entry: every lazily loaded module is in its registry", async () => {
  const entry = await Deno.readTextFile(`${root}tools/bundle_entry.ts`);
  const listed = new Set(
    [...entry.matchAll(/^\s+"([^"]+\.ts)": \(\) =>\s+import\(/gm)].map((m) => m[1]),
  );
  const wanted = new Set<string>();
  for (const dir of ["core", "modes"]) {
    for await (const f of tsFiles(dir)) {
      const text = await Deno.readTextFile(`${root}${f}`);
      for (const m of text.matchAll(/lazy<[^>]*>\(\s*"([^"]+\.ts)"/g)) wanted.add(m[1]);
    }
  }
  // The client's commands are loaded by name (modes/client/main.ts: cmd("x")).
  const client = await Deno.readTextFile(`${root}modes/client/main.ts`);
  for (const m of client.matchAll(/\bcmd\("([a-z_]+)"[,)]/g)) {
    wanted.add(`modes/client/commands/${m[1]}.ts`);
  }
  const missing = [...wanted].filter((w) => !listed.has(w)).sort();
  assertEquals(missing, [], "add these to tools/bundle_entry.ts");
  for (const l of listed) await Deno.stat(`${root}${l}`); // no stale entry
});
