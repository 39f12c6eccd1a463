import { assertEquals } from "../testing/assert.ts";
import { cleanFileMappings } from "./sys_linux.ts";

const EXE = "/usr/bin/deno";
const map = (range: string, perms: string, path: string, fields: Record<string, number>) =>
  `${range} ${perms} 00000000 fe:00 1442216                    ${path}\n` +
  Object.entries({ Size: 100, Rss: 40, Private_Dirty: 0, Anonymous: 0, Swap: 0, ...fields })
    .map(([k, v]) => `${k}:${" ".repeat(16 - k.length)}${v} kB\n`).join("") +
  "VmFlags: rd mr mw me dw sd\n";

Deno.test("cleanFileMappings keeps only clean read-only private mappings of the executable", () => {
  const smaps = [
    map("1000-2000", "r--p", EXE, {}), // rodata: clean
    map("2000-3000", "r-xp", EXE, { Private_Dirty: 0 }), // text: clean
    map("3000-4000", "r--p", EXE, { Anonymous: 12, Private_Dirty: 12 }), // RELRO: relocated copy
    map("4000-5000", "rw-p", EXE, {}), // data: writable
    map("5000-6000", "r-xp", "/usr/lib/libc.so.6", {}), // another file
    map("6000-7000", "r--s", EXE, {}), // shared
    map("7000-8000", "r-xp", EXE, { Swap: 4 }), // swapped: not a clean copy
    map("8000-9000", "rw-p", "", { Anonymous: 8 }), // anonymous
    map("9000-a000", "r-xp", EXE, { Anonymous: 10 }), // a patched text page
  ].join("");
  const got = cleanFileMappings(new TextEncoder().encode(smaps), EXE);
  assertEquals(got, [{ start: 0x1000n, end: 0x2000n }, { start: 0x2000n, end: 0x3000n }]);
});

Deno.test("cleanFileMappings reads this process's smaps", () => {
  const exe = Deno.readLinkSync("/proc/self/exe");
  const got = cleanFileMappings(Deno.readFileSync("/proc/self/smaps"), exe);
  // the executable's code is mapped read-only, private and clean
  assertEquals(got.length > 0, true);
  for (const m of got) assertEquals(m.end > m.start, true);
});
