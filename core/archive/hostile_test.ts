/**
 * Hostile layers (generated with the independent tar-stream encoder): each is
 * applied to dest inside a parent that also holds a sentinel "outside" dir;
 * nothing outside dest may change, and refusals must name the entry.
 */
import tar from "tar-stream";
import { assert, assertEquals, assertStringIncludes } from "../testing/assert.ts";
import { isKind } from "../errdefs/mod.ts";
import { applyLayer, type ApplyOptions, compressStream } from "./mod.ts";
import { bytes, makeTar, snapshot, streamOf } from "./_testutil.ts";

interface H {
  name: string;
  type?: string;
  linkname?: string;
  data?: string;
  mode?: number;
  uid?: number;
}

async function tsTar(entries: H[]): Promise<Uint8Array> {
  const p = tar.pack();
  const out = bytes(ReadableStream.from(p as unknown as AsyncIterable<Uint8Array>));
  for (const e of entries) {
    const { data, ...header } = e;
    await new Promise<void>((res, rej) =>
      p.entry(
        { type: "file", mode: 0o644, ...header },
        data ?? "",
        (err?: Error | null) => err ? rej(err) : res(),
      )
    );
  }
  p.finalize();
  return out;
}

interface Case {
  name: string;
  /** entries, given the parent dir (for absolute paths pointing at the sentinel) */
  tar: (parent: string) => Promise<Uint8Array>;
  /** set up dest before applying */
  pre?: (dest: string, parent: string) => void;
  /** substring of the expected error; omit when the layer is accepted (confined) */
  refuse?: string;
  /** checks inside dest after an accepted apply */
  post?: (dest: string, parent: string) => void;
  opts?: ApplyOptions;
}

const CASES: Case[] = [
  { name: "../x", tar: () => tsTar([{ name: "../x", data: "pwn" }]), refuse: "escapes" },
  { name: "a/../../x", tar: () => tsTar([{ name: "a/../../x", data: "pwn" }]), refuse: "escapes" },
  {
    name: "absolute /outside/sentinel",
    tar: (p) => tsTar([{ name: `${p}/outside/sentinel`, data: "pwn" }]),
    refuse: "absolute path",
  },
  {
    name: "absolute /etc/passwd",
    tar: () => tsTar([{ name: "/etc/passwd", data: "pwn" }]),
    refuse: "absolute",
  },
  {
    name: "symlink l -> /abs/outside, then l/file (confined under dest)",
    tar: (p) =>
      tsTar([{ name: "l", type: "symlink", linkname: `${p}/outside` }, {
        name: "l/file",
        data: "x",
      }]),
    post: (d, p) => assertEquals(Deno.readTextFileSync(`${d}${p}/outside/file`), "x"),
  },
  {
    name: "symlink l -> ../../.., then l/x (confined: dest/x)",
    tar: () =>
      tsTar([{ name: "l", type: "symlink", linkname: "../../.." }, { name: "l/x", data: "x" }]),
    post: (d) => assertEquals(Deno.readTextFileSync(`${d}/x`), "x"),
  },
  {
    name: "symlink chain a -> b -> ../outside, then a/x",
    tar: () =>
      tsTar([
        { name: "b", type: "symlink", linkname: "../outside" },
        { name: "a", type: "symlink", linkname: "b" },
        { name: "a/x", data: "x" },
      ]),
    post: (d) => assertEquals(Deno.readTextFileSync(`${d}/outside/x`), "x"),
  },
  {
    name: "symlink loop",
    tar: () =>
      tsTar([
        { name: "a", type: "symlink", linkname: "b" },
        { name: "b", type: "symlink", linkname: "a" },
        { name: "a/x", data: "x" },
      ]),
    refuse: "too many levels of symbolic links",
  },
  {
    name: "hardlink to ../../etc/shadow",
    tar: () => tsTar([{ name: "h", type: "link", linkname: "../../etc/shadow" }]),
    refuse: "escapes",
  },
  {
    name: "hardlink to an absolute path",
    tar: (p) => tsTar([{ name: "h", type: "link", linkname: `${p}/outside/sentinel` }]),
    refuse: "absolute",
  },
  {
    name: "hardlink through a symlinked dir",
    tar: (p) =>
      tsTar([
        { name: "d", type: "symlink", linkname: `${p}/outside` },
        { name: "h", type: "link", linkname: "d/sentinel" },
      ]),
    refuse: "does not exist",
  },
  {
    name: "hardlink to a symlink pointing outside, with metadata",
    tar: (p) =>
      tsTar([
        { name: "s", type: "symlink", linkname: `${p}/outside/sentinel` },
        { name: "h", type: "link", linkname: "s", mode: 0o4777, uid: 1234 },
      ]),
    post: (d) => assert(Deno.lstatSync(`${d}/h`).isSymlink),
  },
  {
    name: "whiteout a/.wh...",
    tar: () => tsTar([{ name: "a/.wh..." }]),
    refuse: "invalid whiteout",
  },
  { name: "whiteout .wh...", tar: () => tsTar([{ name: ".wh..." }]), refuse: "invalid whiteout" },
  {
    name: "whiteout .wh.../x",
    tar: () => tsTar([{ name: ".wh.../x" }]),
    refuse: "whiteout used as a directory",
  },
  {
    name: "whiteout .wh.../x, delete mode",
    tar: () => tsTar([{ name: ".wh.../x" }]),
    refuse: "whiteout used as a directory",
    opts: { whiteouts: "delete" },
  },
  {
    name: "delete-mode whiteout of a symlink to outside removes the link only",
    pre: (d, p) => Deno.symlinkSync(`${p}/outside`, `${d}/l`),
    tar: () => tsTar([{ name: ".wh.l" }]),
    opts: { whiteouts: "delete" },
    post: (d) => assertEquals([...Deno.readDirSync(d)], []),
  },
  {
    name: "delete-mode opaque dir through a symlink to outside",
    pre: (d) => Deno.symlinkSync("../outside", `${d}/o`),
    tar: () => tsTar([{ name: "o/.wh..wh..opq" }]),
    opts: { whiteouts: "delete" },
  },
  {
    name: "overlay-mode whiteout through a symlinked dir",
    tar: (p) =>
      tsTar([{ name: "l", type: "symlink", linkname: `${p}/outside` }, { name: "l/.wh.sentinel" }]),
    opts: { whiteouts: "overlay" },
  },
  {
    name: "file replacing a symlink (same layer) that points outside",
    tar: (p) =>
      tsTar([
        { name: "s", type: "symlink", linkname: `${p}/outside/sentinel` },
        { name: "s", data: "pwned", mode: 0o4777 },
      ]),
    post: (d) => assertEquals(Deno.readTextFileSync(`${d}/s`), "pwned"),
  },
  {
    name: "file replacing an existing symlink that points outside",
    pre: (d, p) => Deno.symlinkSync(`${p}/outside/sentinel`, `${d}/s`),
    tar: () => tsTar([{ name: "s", data: "pwned" }]),
    post: (d) => assert(Deno.lstatSync(`${d}/s`).isFile),
  },
  {
    name: "dir replacing a symlink to outside, then a child",
    tar: (p) =>
      tsTar([
        { name: "s", type: "symlink", linkname: `${p}/outside` },
        { name: "s", type: "directory", mode: 0o777 },
        { name: "s/child", data: "c" },
      ]),
    post: (d) => assert(Deno.lstatSync(`${d}/s/child`).isFile),
  },
  {
    name: "device replacing a symlink to outside",
    tar: (p) =>
      tsTar([
        { name: "s", type: "symlink", linkname: `${p}/outside/sentinel` },
        { name: "s", type: "fifo", mode: 0o666 },
      ]),
    post: (d) => assert(Deno.lstatSync(`${d}/s`).isFifo),
  },
  {
    name: "NUL byte in a PAX path",
    tar: () => makeTar([{ name: "ü\0/../../x", type: "file", data: "x" }]),
    refuse: "NUL",
  },
  {
    name: "file through a regular file",
    tar: () => tsTar([{ name: "f", data: "x" }, { name: "f/x", data: "y" }]),
    refuse: "not a directory",
  },
];

async function withParent(fn: (parent: string, dest: string) => Promise<void>) {
  const parent = await Deno.makeTempDir({ prefix: "berth-hostile-" });
  try {
    Deno.mkdirSync(`${parent}/outside`);
    Deno.writeTextFileSync(`${parent}/outside/sentinel`, "sentinel");
    Deno.mkdirSync(`${parent}/dest`);
    await fn(parent, `${parent}/dest`);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

for (const c of CASES) {
  Deno.test(`hostile layer: ${c.name}`, async () => {
    await withParent(async (parent, dest) => {
      c.pre?.(dest, parent);
      const before = snapshot(`${parent}/outside`);
      const beforeParent = Deno.statSync(`${parent}/outside`);
      const layer = await c.tar(parent);
      let err: unknown;
      try {
        await applyLayer(streamOf(layer), dest, c.opts);
      } catch (e) {
        err = e;
      }
      if (c.refuse) {
        assert(err, "expected a refusal");
        assert(isKind(err, "InvalidArgument"), `not InvalidArgument: ${err}`);
        assertStringIncludes((err as Error).message, c.refuse);
        assertStringIncludes((err as Error).message, "refusing layer");
      } else if (err) throw err;
      // nothing outside dest changed
      assertEquals(snapshot(`${parent}/outside`), before);
      assertEquals(Deno.statSync(`${parent}/outside`).mtime, beforeParent.mtime);
      assertEquals([...Deno.readDirSync(parent)].map((e) => e.name).sort(), ["dest", "outside"]);
      assertEquals(Deno.readTextFileSync(`${parent}/outside/sentinel`), "sentinel");
      if (!err) c.post?.(dest, parent);
    });
  });
}

Deno.test("hostile layer: gzip bomb (200 MB of zeros) is stopped at maxBytes, fast, in little memory", async () => {
  await withParent(async (_parent, dest) => {
    const BIG = 200 * 1024 * 1024;
    // A tar of one 200 MB zero file, gzip-compressed on the fly (≈200 KB compressed).
    const zero = new Uint8Array(1 << 20);
    async function* raw() {
      const p = tar.pack();
      const it = (p as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      const s = p.entry({ name: "zeros", size: BIG }, () => {});
      let done = false;
      (async () => {
        for (let i = 0; i < BIG / zero.length; i++) {
          if (!s.write(zero)) await new Promise((r) => s.once("drain", r));
        }
        s.end();
        await new Promise((r) => setTimeout(r, 0));
        p.finalize();
        done = true;
      })();
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        yield r.value;
      }
      assert(done);
    }
    const gz = await bytes(compressStream(ReadableStream.from(raw()), "gzip"));
    assert(gz.length < 1_000_000, `${gz.length}`);
    const rss0 = Deno.memoryUsage().rss;
    const t0 = performance.now();
    let err: unknown;
    try {
      await applyLayer(streamOf(gz), dest, { maxBytes: 10 * 1024 * 1024 });
    } catch (e) {
      err = e;
    }
    const ms = performance.now() - t0;
    assert(isKind(err, "InvalidArgument"), String(err));
    assertStringIncludes((err as Error).message, "size limit");
    assert(ms < 2000, `took ${ms} ms`);
    const grew = Deno.memoryUsage().rss - rss0;
    assert(grew < 64 * 1024 * 1024, `rss grew ${grew}`);
  });
});
