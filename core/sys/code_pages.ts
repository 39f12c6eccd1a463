/**
 * Let go of the code pages start-up touched. A Deno process maps ~95 MB of
 * its executable; starting a shim touches ~20 MB of it, of which an idle shim
 * runs almost nothing again. Those pages are clean copies of the file, so
 * MADV_DONTNEED on them loses nothing: the page-table entries go, the pages
 * stay in the page cache, and what runs later faults back in (a minor fault).
 *
 * Only ranges that are provably clean file pages are advised: mappings of
 * our own executable that are private and not writable, that lie inside a
 * read-only PT_LOAD segment of its ELF program headers, and that do not
 * touch PT_GNU_RELRO (written by the dynamic linker, then made read-only:
 * dropping those pages would undo the relocations). Reading /proc/self/maps
 * and the ELF header is cheap; /proc/self/smaps would walk every page table.
 * @module
 */

const PT_LOAD = 1;
const PT_GNU_RELRO = 0x6474e552;
const PF_W = 2;
const PAGE = 4096n;

export interface Segment {
  type: "load" | "relro";
  offset: bigint;
  filesz: bigint;
  writable: boolean;
}

export interface Range {
  start: bigint;
  end: bigint;
}

/** PT_LOAD and PT_GNU_RELRO entries of an ELF64 little-endian file's program headers. */
export function elfSegments(file: Uint8Array): Segment[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const isElf64Le = file.length >= 64 && file[0] === 0x7f && file[1] === 0x45 &&
    file[2] === 0x4c && file[3] === 0x46 && file[4] === 2 && file[5] === 1;
  if (!isElf64Le) return [];
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const out: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 56 > file.length) break;
    const type = dv.getUint32(o, true);
    if (type !== PT_LOAD && type !== PT_GNU_RELRO) continue;
    out.push({
      type: type === PT_LOAD ? "load" : "relro",
      offset: dv.getBigUint64(o + 8, true),
      filesz: dv.getBigUint64(o + 32, true),
      writable: (dv.getUint32(o + 4, true) & PF_W) !== 0,
    });
  }
  return out;
}

const down = (x: bigint) => x / PAGE * PAGE;
const up = (x: bigint) => (x + PAGE - 1n) / PAGE * PAGE;

/** The address ranges of `maps` (a /proc/PID/maps text) that hold only clean pages of `exe`. */
export function cleanCodeRanges(maps: string, exe: string, segments: Segment[]): Range[] {
  const ro = segments.filter((s) => s.type === "load" && !s.writable)
    .map((s) => [down(s.offset), up(s.offset + s.filesz)]);
  const relro = segments.filter((s) => s.type === "relro")
    .map((s) => [down(s.offset), up(s.offset + s.filesz)]);
  const out: Range[] = [];
  for (const line of maps.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ \S+\s+(.*)$/.exec(line);
    if (!m || m[5] !== exe) continue;
    const [, s, e, perms, off] = m;
    if (perms[0] !== "r" || perms[1] !== "-" || perms[3] !== "p") continue;
    const start = BigInt("0x" + s), end = BigInt("0x" + e);
    const from = BigInt("0x" + off), to = from + (end - start);
    if (!ro.some(([a, b]) => a <= from && to <= b)) continue;
    if (relro.some(([a, b]) => from < b && a < to)) continue;
    out.push({ start, end });
  }
  return out;
}

type Madvise = (addr: bigint, len: bigint, advice: number) => number;
const MADV_DONTNEED = 4;

/** Drop our executable's clean code pages (see the module doc). Returns the bytes advised. */
export function dropCleanCodePages(madvise: Madvise): number {
  let ranges: Range[];
  try {
    const exe = Deno.readLinkSync("/proc/self/exe");
    const f = Deno.openSync("/proc/self/exe");
    let head: Uint8Array;
    try {
      head = new Uint8Array(8192);
      head = head.subarray(0, f.readSync(head) ?? 0);
    } finally {
      f.close();
    }
    ranges = cleanCodeRanges(Deno.readTextFileSync("/proc/self/maps"), exe, elfSegments(head));
  } catch {
    return 0;
  }
  let n = 0;
  for (const r of ranges) {
    if (madvise(r.start, r.end - r.start, MADV_DONTNEED) === 0) n += Number(r.end - r.start);
  }
  return n;
}
