import { assertEquals, assertThrows } from "../testing/assert.ts";
import { parseManifestOrIndex, validateConfig } from "./validate.ts";
import { DigestStream, isDigest, parseDigest, sha256Digest } from "./digest.ts";

const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
const D = "sha256:" + "ab".repeat(32);

Deno.test("digest: parse, validate, compute, stream", async () => {
  assertEquals(
    sha256Digest(""),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(parseDigest(D).hex, "ab".repeat(32));
  for (
    const bad of [
      "sha256:abc",
      "md5:" + "a".repeat(32),
      "sha256:" + "A".repeat(64),
      "",
      "sha256" + "a".repeat(64),
    ]
  ) {
    assertEquals(isDigest(bad), false, bad);
    assertThrows(() => parseDigest(bad), Error, "invalid digest");
  }
  const ds = new DigestStream();
  await ReadableStream.from([new TextEncoder().encode("h"), new TextEncoder().encode("i")])
    .pipeThrough(ds).pipeTo(new WritableStream());
  assertEquals(ds.digest(), sha256Digest("hi"));
  assertEquals(ds.size, 2);
});

Deno.test("validate: manifests and indexes", () => {
  const m = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: D, size: 2 },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: D, size: 3 }],
  };
  assertEquals(parseManifestOrIndex(enc(m)).kind, "manifest");
  const { mediaType: _, ...noType } = m;
  assertEquals(parseManifestOrIndex(enc(noType)).kind, "manifest");
  assertEquals(parseManifestOrIndex(enc({ schemaVersion: 2, manifests: [] })).kind, "index");
  assertThrows(
    () => parseManifestOrIndex(new TextEncoder().encode("{nope")),
    Error,
    "not valid JSON",
  );
  assertThrows(() => parseManifestOrIndex(enc({ ...m, schemaVersion: 1 })), Error, "schema 1");
  assertThrows(
    () =>
      parseManifestOrIndex(
        enc({ ...m, layers: [{ mediaType: "x/y", digest: "sha256:1", size: 1 }] }),
      ),
    Error,
    "invalid digest",
  );
  assertThrows(
    () => parseManifestOrIndex(enc({ ...m, config: { ...m.config, size: -1 } })),
    Error,
    "invalid size",
  );
  assertThrows(() => parseManifestOrIndex(enc({ ...m, layers: "no" })), Error, "not an array");
  assertThrows(() => parseManifestOrIndex(new Uint8Array(5 << 20)), Error, "larger than");
  assertThrows(() => parseManifestOrIndex(enc([1, 2])), Error, "not a JSON object");
});

Deno.test("validate: image configs", () => {
  const ok = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [D] } };
  assertEquals(validateConfig(ok).os, "linux");
  assertThrows(
    () => validateConfig({ ...ok, rootfs: { type: "x", diff_ids: [] } }),
    Error,
    "diff_ids",
  );
  assertThrows(
    () => validateConfig({ ...ok, rootfs: { type: "layers", diff_ids: ["sha256:zz"] } }),
    Error,
    "bad diff_id",
  );
  assertThrows(() => validateConfig({ ...ok, os: "" }), Error, "os missing");
});
