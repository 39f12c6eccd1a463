import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { ContentStore } from "./content.ts";
import { ImageStore } from "./images.ts";
import { chainIds } from "./layers.ts";
import { sha256Digest } from "../oci/digest.ts";
import { writeFileAtomic } from "./atomic.ts";

const enc = new TextEncoder();

Deno.test("content store: ingest verifies digest and size, a mismatch leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cs = new ContentStore(dir);
    await cs.init();
    const data = enc.encode("hello world");
    const d = sha256Digest(data);
    await assertRejects(
      () => cs.ingest(ReadableStream.from([data]), { digest: sha256Digest("other") }),
      Error,
      "digest mismatch",
    );
    await assertRejects(
      () => cs.ingest(ReadableStream.from([data]), { digest: d, size: 3 }),
      Error,
      "size mismatch",
    );
    assertEquals([...Deno.readDirSync(`${dir}/ingest`)].length, 0);
    assertEquals(await cs.has(d), false);
    const info = await cs.ingest(ReadableStream.from([data.subarray(0, 5), data.subarray(5)]), {
      digest: d,
    });
    assertEquals(info, { digest: d, size: data.length });
    assertEquals(new TextDecoder().decode(await cs.readBytes(d)), "hello world");
    // Corruption on disk is found by verify().
    await Deno.writeTextFile(cs.path(d), "tampered");
    assertEquals(await cs.verify(), [d]);
    // Stale ingest files are swept at init.
    await Deno.writeTextFile(`${dir}/ingest/stale`, "x");
    await cs.init();
    assertEquals([...Deno.readDirSync(`${dir}/ingest`)].length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic write: no temp files left, content replaced whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(`${dir}/a.json`, "one");
    await writeFileAtomic(`${dir}/a.json`, "two");
    assertEquals(await Deno.readTextFile(`${dir}/a.json`), "two");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["a.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chain IDs follow the OCI image spec", () => {
  const a = "sha256:" + "a".repeat(64), b = "sha256:" + "b".repeat(64);
  const c = chainIds([a, b]);
  assertEquals(c[0], a);
  assertEquals(c[1], sha256Digest(`${a} ${b}`));
});

Deno.test("image store: references resolve like docker and persist atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = new ImageStore(dir);
    await s.init();
    const id = sha256Digest("config");
    await s.put({
      id,
      manifestDigest: sha256Digest("m"),
      manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
      layers: [],
      diffIds: [],
      chainIds: [],
      size: 0,
      created: "2024-01-01T00:00:00Z",
      addedAt: "2024-01-01T00:00:00Z",
    });
    await s.tag(id, "busybox");
    await s.tag(id, "localhost:5000/a/b:1");
    for (
      const n of [
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox",
        id,
        id.slice(7),
        id.slice(7, 19),
      ]
    ) {
      assertEquals(s.resolve(n).id, id, n);
    }
    assertEquals(s.tryResolve("busybox:2"), undefined);
    assertEquals(s.repoTags(id), ["busybox:latest", "localhost:5000/a/b:1"]);
    // A fresh store reads the same state back.
    const s2 = new ImageStore(dir);
    await s2.init();
    assertEquals(s2.repoTags(id), ["busybox:latest", "localhost:5000/a/b:1"]);
    await s2.untag("busybox");
    assert(!s2.tryResolve("busybox"));
    let err = "";
    try {
      s2.resolve("nosuch");
    } catch (e) {
      err = (e as Error).message;
    }
    assertEquals(err, "No such image: nosuch:latest");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
