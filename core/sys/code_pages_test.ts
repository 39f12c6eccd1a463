import { assertEquals } from "../testing/assert.ts";
import { cleanCodeRanges, elfSegments, type Segment } from "./code_pages.ts";

const EXE = "/usr/bin/deno";
const SEGS: Segment[] = [
  { type: "load", offset: 0n, filesz: 0x1c8d000n, writable: false }, // headers + rodata
  { type: "load", offset: 0x1c8d000n, filesz: 0x3cf4000n, writable: false }, // text
  { type: "load", offset: 0x5981000n, filesz: 0x272000n, writable: true }, // RELRO + data
  { type: "relro", offset: 0x5981000n, filesz: 0x26e000n, writable: false },
];
const line = (range: string, perms: string, off: string, path: string) =>
  `${range} ${perms} ${off} fe:00 1442216                    ${path}`;

Deno.test("cleanCodeRanges: read-only PT_LOAD mappings of the executable, never RELRO or writable", () => {
  const maps = [
    line("55cd2e0c9000-55cd2fd56000", "r--p", "00000000", EXE), // rodata: yes
    line("55cd2fd56000-55cd33a4a000", "r-xp", "01c8d000", EXE), // text: yes
    line("55cd33a4a000-55cd33cb8000", "r--p", "05981000", EXE), // RELRO: no
    line("55cd33cb8000-55cd33cbc000", "rw-p", "05bef000", EXE), // data: no
    line("7f7563dc0000-7f7563fe6000", "r-xp", "035cf000", "/usr/lib/libc.so.6"), // other file: no
    line("7f7563fe6000-7f7563ff0000", "r--s", "00000000", EXE), // shared: no
    line("7f7563ff0000-7f7564000000", "rw-p", "00000000", ""), // anonymous: no
    line("7f7564000000-7f7564100000", "r--p", "09000000", EXE), // beyond every segment: no
  ].join("\n");
  assertEquals(cleanCodeRanges(maps, EXE, SEGS), [
    { start: 0x55cd2e0c9000n, end: 0x55cd2fd56000n },
    { start: 0x55cd2fd56000n, end: 0x55cd33a4a000n },
  ]);
  assertEquals(cleanCodeRanges(maps, EXE, []), [], "no program headers: nothing is dropped");
});

Deno.test("elfSegments reads this executable; its text is among the clean ranges", () => {
  const exe = Deno.readLinkSync("/proc/self/exe");
  const segs = elfSegments(Deno.readFileSync(exe).subarray(0, 8192));
  assertEquals(segs.some((s) => s.type === "load" && !s.writable), true);
  assertEquals(elfSegments(new TextEncoder().encode("#!/bin/sh\n")), []);
  const ranges = cleanCodeRanges(Deno.readTextFileSync("/proc/self/maps"), exe, segs);
  const text = Deno.readTextFileSync("/proc/self/maps").split("\n")
    .filter((l) => l.endsWith(exe) && / r-xp /.test(l));
  assertEquals(ranges.length >= text.length, true);
});
