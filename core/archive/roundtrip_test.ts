import { assert, assertEquals } from "../testing/assert.ts";
import { sha256Digest } from "../oci/digest.ts";
import { applyLayer, compressStream, packDir, readTar } from "./mod.ts";
import { bytes, makeFixture, sh, snapshot, streamOf } from "./_testutil.ts";

async function withTmp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "berth-archive-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("packDir → applyLayer reproduces every entry kind exactly", async () => {
  await withTmp(async (t) => {
    Deno.mkdirSync(`${t}/src`);
    Deno.mkdirSync(`${t}/dst`);
    makeFixture(`${t}/src`);
    const tar = await bytes(packDir(`${t}/src`));
    const { diffID, size } = await applyLayer(streamOf(tar), `${t}/dst`);
    assertEquals(diffID, sha256Digest(tar));
    assertEquals(size, tar.length);
    const a = snapshot(`${t}/src`), b = snapshot(`${t}/dst`);
    assertEquals(b, a);
    // spot checks that the fixture is what it claims to be
    assertEquals(a["bin/su"].mode, 0o4755);
    assertEquals(a["bin/sg"].mode, 0o2711);
    assertEquals(a["tmp"].mode, 0o1777);
    assertEquals(a["private/big-uid"].uid, 300000);
    assertEquals(a["bin/su"].links, ["bin/su-link", "d1/su-link2"]);
    assert(a["ping"].xattrs["security.capability"]);
    assertEquals(a["lnk"].uid, 1234);
    assertEquals(a["null"].dev, "1:3");
    // deterministic
    assertEquals(sha256Digest(await bytes(packDir(`${t}/src`))), diffID);
  });
});

Deno.test("gzip and zstd layers give the diffID of the plain tar", async () => {
  await withTmp(async (t) => {
    Deno.mkdirSync(`${t}/src`);
    makeFixture(`${t}/src`);
    const tar = await bytes(packDir(`${t}/src`));
    const want = sha256Digest(tar);
    for (const c of ["gzip", "zstd", "none"] as const) {
      const z = await bytes(compressStream(streamOf(tar), c));
      if (c !== "none") assert(z.length < tar.length);
      Deno.mkdirSync(`${t}/${c}`);
      const r = await applyLayer(streamOf(z), `${t}/${c}`);
      assertEquals(r, { diffID: want, size: tar.length }, c);
      assertEquals(snapshot(`${t}/${c}`), snapshot(`${t}/src`), c);
    }
  });
});

Deno.test("interop with GNU tar: both directions, xattrs included", async () => {
  await withTmp(async (t) => {
    for (const d of ["src", "fromgnu", "bygnu"]) Deno.mkdirSync(`${t}/${d}`);
    makeFixture(`${t}/src`);
    sh(
      "tar",
      "--xattrs",
      "--xattrs-include=*",
      "--format=posix",
      "--numeric-owner",
      "-C",
      `${t}/src`,
      "-cf",
      `${t}/gnu.tar`,
      ".",
    );
    const f = await Deno.open(`${t}/gnu.tar`);
    await applyLayer(f.readable, `${t}/fromgnu`);
    const want = snapshot(`${t}/src`);
    const got = snapshot(`${t}/fromgnu`);
    assertEquals(got, want);
    await Deno.writeFile(`${t}/ours.tar`, packDir(`${t}/src`));
    sh(
      "tar",
      "--xattrs",
      "--xattrs-include=*",
      "--numeric-owner",
      "-C",
      `${t}/bygnu`,
      "-xpf",
      `${t}/ours.tar`,
    );
    assertEquals(snapshot(`${t}/bygnu`), want);
  });
});

Deno.test("packDir: paths subset and filter (false skips a subtree, 'descend' omits only the dir)", async () => {
  await withTmp(async (t) => {
    Deno.mkdirSync(`${t}/src`);
    makeFixture(`${t}/src`);
    const names = async (s: ReadableStream<Uint8Array>) => {
      const out: string[] = [];
      for await (const e of readTar(s)) out.push(e.header.name);
      return out;
    };
    assertEquals(await names(packDir(`${t}/src`, { paths: ["d1", "a.txt"] })), [
      "d1/",
      "d1/d2/",
      "d1/d2/d3/",
      "d1/d2/d3/deep",
      "d1/su-link2",
      "a.txt",
    ]);
    const f = await names(packDir(`${t}/src`, {
      filter: (rel) =>
        rel === "d1"
          ? "descend"
          : rel === "d1/d2/d3"
          ? false
          : !rel.startsWith("l") && rel.startsWith("d1"),
    }));
    assertEquals(f, ["d1/d2/", "d1/su-link2"]);
  });
});
