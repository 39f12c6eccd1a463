import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { InvalidArgument } from "../errdefs/mod.ts";
import { applyLayer, readTar, type TarHeader, tarWriter } from "./mod.ts";
import { bytes, makeTar, sh, streamOf } from "./_testutil.ts";

const enc = new TextEncoder();

async function entries(tar: Uint8Array, read = true) {
  const out: { h: TarHeader; data?: string }[] = [];
  for await (const { header, body } of readTar(streamOf(tar))) {
    out.push({ h: header, data: read ? new TextDecoder().decode(await bytes(body)) : undefined });
  }
  return out;
}

Deno.test("tarWriter → readTar: long/unicode names, big ids, binary xattrs, links, streams", async () => {
  const w = tarWriter();
  const out = bytes(w.stream);
  const longName = "a/".repeat(150) + "file";
  const bin = new Uint8Array([0, 0xff, 0x80, 0x0a, 0x3d]);
  await w.addDir("dir", { mode: 0o700, mtime: new Date(1e12) });
  await w.addFile("dir/hello", enc.encode("hi"), { mode: 0o600 });
  await w.addStream("streamed", 5, ReadableStream.from([enc.encode("ab"), enc.encode("cde")]));
  await w.addEntry(
    { name: longName, type: "file", size: 1, uid: 3_000_000, gid: 3_000_001 },
    enc.encode("x"),
  );
  await w.addEntry({ name: "ünï", type: "symlink", linkname: "t".repeat(200) });
  await w.addEntry({ name: "hl", type: "link", linkname: "dir/hello" });
  await w.addEntry(
    { name: "x", type: "file", size: 0, xattrs: new Map([["user.b", bin]]) },
    new Uint8Array(),
  );
  await w.addEntry({ name: "dev", type: "char", devmajor: 4095, devminor: 1048575 });
  await w.finish();
  const tar = await out;
  assertEquals(tar.length % 512, 0);
  const es = await entries(tar);
  assertEquals(es.map((e) => e.h.name), [
    "dir/",
    "dir/hello",
    "streamed",
    longName,
    "ünï",
    "hl",
    "x",
    "dev",
  ]);
  assertEquals(es[0].h.mode, 0o700);
  assertEquals(es[0].h.mtime, 1e9);
  assertEquals(es[1].data, "hi");
  assertEquals(es[2].data, "abcde");
  assertEquals([es[3].h.uid, es[3].h.gid, es[3].data], [3_000_000, 3_000_001, "x"]);
  assertEquals([es[4].h.type, es[4].h.linkname], ["symlink", "t".repeat(200)]);
  assertEquals([es[5].h.type, es[5].h.linkname], ["link", "dir/hello"]);
  assertEquals(es[6].h.xattrs.get("user.b"), bin);
  assertEquals([es[7].h.devmajor, es[7].h.devminor], [4095, 1048575]);
  // GNU tar reads it the same
  const tmp = Deno.makeTempFileSync();
  try {
    Deno.writeFileSync(tmp, tar);
    const names = sh("tar", "-tf", tmp).trim().split("\n");
    assertEquals(names, ["dir/", "dir/hello", "streamed", longName, "ünï", "hl", "x", "dev"]);
  } finally {
    Deno.removeSync(tmp);
  }
});

Deno.test("tarWriter: a stream body of the wrong size aborts the tar", async () => {
  const w = tarWriter();
  const out = bytes(w.stream).catch((e) => e);
  await assertRejects(
    () => w.addStream("f", 10, ReadableStream.from([enc.encode("short")])),
    InvalidArgument,
    "not 10",
  );
  assert((await out) instanceof Error);
  await assertRejects(() => w.addFile("g", enc.encode("x")));
});

Deno.test("readTar: unread bodies are skipped; GNU long names and base-256 ids are read", async () => {
  const t = Deno.makeTempDirSync();
  try {
    const long = "d".repeat(120);
    Deno.mkdirSync(`${t}/src/${long}`, { recursive: true });
    Deno.writeTextFileSync(`${t}/src/${long}/${"f".repeat(120)}`, "content");
    Deno.writeTextFileSync(`${t}/src/z`, "zzz");
    sh(
      "tar",
      "--format=gnu",
      "--owner=x:3000000",
      "--group=y:5",
      "-C",
      `${t}/src`,
      "-cf",
      `${t}/gnu.tar`,
      ".",
    );
    const tar = Deno.readFileSync(`${t}/gnu.tar`);
    const es = await entries(tar, false); // bodies never read
    assertEquals(es.map((e) => e.h.name), [
      "./",
      `./${long}/`,
      `./${long}/${"f".repeat(120)}`,
      "./z",
    ]);
    assertEquals(es[3].h.uid, 3000000);
    assertEquals(es[3].h.gid, 5);
    const read = await entries(tar);
    assertEquals(read[3].data, "zzz");
  } finally {
    Deno.removeSync(t, { recursive: true });
  }
});

Deno.test("readTar: corrupt and truncated input are clear InvalidArguments", async () => {
  const tar = await makeTar([{ name: "a", type: "file", data: "x".repeat(2000) }]);
  const bad = tar.slice();
  bad[10] ^= 1;
  await assertRejects(() => entries(bad), InvalidArgument, "checksum");
  await assertRejects(() => entries(tar.slice(0, 1000)), InvalidArgument, "unexpected end");
  await assertRejects(() => entries(enc.encode("not a tar at all".repeat(40))), InvalidArgument);
  await assertRejects(() => entries(enc.encode("short")), InvalidArgument, "unexpected end");
  assertEquals(await entries(new Uint8Array()), []); // an empty stream is an empty tar
});

Deno.test("applyLayer: PAX sub-second mtime, atime, and the root entry", async () => {
  const t = Deno.makeTempDirSync();
  try {
    const tar = await makeTar([
      { name: "./", type: "dir", mode: 0o711, mtime: 42 },
      {
        name: "f",
        type: "file",
        data: "x",
        pax: { mtime: "1234567890.5", atime: "1234567999.25" },
      },
    ]);
    await applyLayer(streamOf(tar), t);
    const st = Deno.lstatSync(`${t}/f`);
    assertEquals(st.mtime!.getTime(), 1234567890500);
    assertEquals(st.atime!.getTime(), 1234567999250);
    assertEquals(Deno.statSync(t).mode! & 0o7777, 0o711);
    assertEquals(Deno.statSync(t).mtime!.getTime(), 42000);
  } finally {
    Deno.removeSync(t, { recursive: true });
  }
});

Deno.test("applyLayer: trailing bytes after the end blocks count in the diffID; maxBytes exact", async () => {
  const t = Deno.makeTempDirSync();
  try {
    const tar = await makeTar([{ name: "f", type: "file", data: "x" }]);
    const padded = new Uint8Array(10240);
    padded.set(tar);
    const r = await applyLayer(streamOf(padded), t, { maxBytes: 10240 });
    assertEquals(r.size, 10240);
    await assertRejects(
      () => applyLayer(streamOf(padded), t, { maxBytes: 10239 }),
      InvalidArgument,
      "size limit",
    );
  } finally {
    Deno.removeSync(t, { recursive: true });
  }
});
