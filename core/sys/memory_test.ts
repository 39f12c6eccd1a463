import { assert, assertEquals } from "../testing/assert.ts";
import { collectGarbage, dropExecutablePages, exposeGc, mallocTrim } from "./memory.ts";

function rssFileKb(): number {
  const t = Deno.readTextFileSync("/proc/self/status");
  return Number(/^RssFile:\s+(\d+) kB/m.exec(t)?.[1] ?? 0);
}

Deno.test("dropExecutablePages: the executable's pages leave the RSS, and come back on use", () => {
  const before = rssFileKb();
  const advised = dropExecutablePages();
  assert(advised > 1 << 20, `advised only ${advised} bytes`);
  const after = rssFileKb();
  assert(after < before, `RssFile ${before} kB → ${after} kB`);
  // Still runs fine: code and read-only data fault back in.
  assertEquals(JSON.parse(JSON.stringify({ a: [1, 2, 3] })).a.length, 3);
  assertEquals(new Intl.NumberFormat("en-US").format(1234.5), "1,234.5");
});

Deno.test("collectGarbage and mallocTrim never throw; exposeGc's fallback gives a gc", async () => {
  mallocTrim();
  collectGarbage(); // without gc: trim only
  const gc = await exposeGc(true);
  assertEquals(typeof gc, "function");
  collectGarbage();
});
