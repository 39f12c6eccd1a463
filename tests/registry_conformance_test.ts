/**
 * The OCI distribution-spec conformance checks (pull, push, content discovery,
 * content management), re-expressed as a Deno test against `berth registry`
 * on loopback. Written from the spec and from reading what the upstream
 * conformance suite checks; it shares no code with it.
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { digestOf, enc, randomBytes, startTestRegistry } from "../modes/registry/testutil.ts";

const MT = {
  image: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerGz: "application/vnd.oci.image.layer.v1.tar+gzip",
  layer: "application/vnd.oci.image.layer.v1.tar",
  ndGz: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  nd: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  empty: "application/vnd.oci.empty.v1+json",
  ex1: "application/vnd.example.oci.conformance.v1",
  ex2: "application/vnd.example.oci.conformance.v2",
  octet: "application/octet-stream",
};

type Bytes = Uint8Array<ArrayBuffer>;
interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Record<string, string>;
  urls?: string[];
  data?: string;
}

/** A generated data set: blobs, manifests in push order, tags, expected referrers. */
class Data {
  blobs = new Map<string, Bytes>();
  manifests: { digest: string; bytes: Bytes; mediaType: string }[] = [];
  tags = new Map<string, string>();
  referrers = new Map<string, Desc[]>();
  constructor(readonly alg = "sha256") {}

  blob(bytes: Bytes, mediaType: string, withData = false): Desc {
    const digest = digestOf(bytes, this.alg);
    this.blobs.set(digest, bytes);
    const d: Desc = { mediaType, digest, size: bytes.length };
    if (withData) d.data = btoa(String.fromCharCode(...bytes));
    return d;
  }

  #manifest(doc: Record<string, unknown>, mediaType: string, extra: boolean, tag?: string): Desc {
    if (extra) doc[`org.example.${crypto.randomUUID()}`] = crypto.randomUUID();
    const bytes = enc(JSON.stringify(doc));
    const digest = digestOf(bytes, this.alg);
    this.manifests.push({ digest, bytes, mediaType });
    if (tag) this.tags.set(tag, digest);
    const d: Desc = { mediaType, digest, size: bytes.length };
    const subject = doc.subject as Desc | undefined;
    if (subject) {
      const at = (doc.artifactType as string | undefined) ??
        (mediaType === MT.image ? (doc.config as Desc).mediaType : undefined);
      const ref: Desc = { mediaType, digest, size: bytes.length };
      if (at) ref.artifactType = at;
      if (doc.annotations) ref.annotations = doc.annotations as Record<string, string>;
      this.referrers.set(subject.digest, [...(this.referrers.get(subject.digest) ?? []), ref]);
    }
    return d;
  }

  image(o: {
    layers?: number;
    tag?: string;
    artifactType?: string;
    configType?: string;
    layerType?: string;
    layerBytes?: Bytes;
    subject?: Desc;
    annotations?: Record<string, string>;
    platform?: { os: string; architecture: string };
    data?: boolean;
    extra?: boolean;
    gzip?: boolean;
  } = {}): Desc {
    const layers: Desc[] = [];
    for (let i = 0; i < (o.layers ?? 2); i++) {
      const lt = o.layerType ?? (o.gzip === false ? MT.layer : MT.layerGz);
      layers.push(this.blob(o.layerBytes ?? randomBytes(300 + i), lt, o.data));
    }
    let config: Desc;
    if (o.configType && o.configType !== MT.config) {
      config = this.blob(enc("{}"), o.configType, o.data);
    } else {
      const cfg: Record<string, unknown> = {
        author: "berth conformance",
        ...(o.platform ?? { os: "linux", architecture: "amd64" }),
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      };
      if (o.extra) cfg[`org.example.${crypto.randomUUID()}`] = "x";
      config = this.blob(enc(JSON.stringify(cfg)), MT.config, o.data);
    }
    const doc: Record<string, unknown> = { schemaVersion: 2, mediaType: MT.image };
    if (o.artifactType) doc.artifactType = o.artifactType;
    doc.config = config;
    doc.layers = layers;
    if (o.subject) doc.subject = o.subject;
    const ann = o.annotations ? { ...o.annotations } : undefined;
    if (ann && o.subject) ann[`org.example.${crypto.randomUUID()}`] = "uniq";
    if (ann) doc.annotations = ann;
    return this.#manifest(doc, MT.image, !!o.extra, o.tag);
  }

  index(children: Desc[], o: {
    tag?: string;
    platforms?: ({ os: string; architecture: string } | undefined)[];
    artifactType?: string;
    subject?: Desc;
    annotations?: Record<string, string>;
    extra?: boolean;
  } = {}): Desc {
    const doc: Record<string, unknown> = { schemaVersion: 2, mediaType: MT.index };
    if (o.artifactType) doc.artifactType = o.artifactType;
    doc.manifests = children.map((c, i) => {
      const p = o.platforms?.[i];
      return p ? { ...c, platform: p } : c;
    });
    if (o.subject) doc.subject = o.subject;
    if (o.annotations) {
      doc.annotations = { ...o.annotations, [`org.example.${crypto.randomUUID()}`]: "u" };
    }
    return this.#manifest(doc, MT.index, !!o.extra, o.tag);
  }

  multi(
    o: Parameters<Data["image"]>[0] & { tag?: string; subject?: Desc; indexArtifactType?: string } =
      {},
  ): Desc {
    const plats = [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }];
    const kids = plats.map((p) =>
      this.image({ ...o, tag: undefined, subject: undefined, platform: p })
    );
    return this.index(kids, {
      tag: o.tag,
      platforms: plats,
      artifactType: o.indexArtifactType,
      subject: o.subject,
      annotations: o.subject ? o.annotations : undefined,
      extra: o.extra,
    });
  }
}

function build(): Map<string, Data> {
  const sets = new Map<string, Data>();
  const add = (name: string, fn: (d: Data) => void, alg = "sha256") => {
    const d = new Data(alg);
    fn(d);
    sets.set(name, d);
  };
  add("image", (d) => d.image({ tag: "image" }));
  add("image-uncompressed", (d) => d.image({ tag: "image-uncompressed", gzip: false }));
  add("large-manifest", (d) => {
    const annotations: Record<string, string> = {};
    for (let i = 0; i < 390; i++) annotations[`large-annotation-${i}`] = "A".repeat(10000);
    d.image({ tag: "large-manifest", annotations });
  });
  add("index", (d) => d.multi({ tag: "index" }));
  add("nested-index", (d) => {
    const a = d.multi();
    const b = d.multi();
    d.index([a, b], { tag: "index-of-index" });
  });
  add("empty-index", (d) => d.index([], { tag: "index" }));
  const art = { artifactType: MT.ex1, configType: MT.empty, layers: 1, layerType: MT.ex1 };
  add("artifact", (d) => d.image({ ...art, tag: "artifact" }));
  add(
    "artifact-index",
    (d) => d.multi({ ...art, tag: "artifact-index", indexArtifactType: MT.ex1 }),
  );
  add(
    "artifact-without-layers",
    (d) =>
      d.image({
        ...art,
        tag: "artifact-without-layers",
        layerType: MT.empty,
        layerBytes: enc("{}"),
      }),
  );
  const ann = { "org.opencontainers.conformance": "hello conformance test" };
  add("artifacts-with-subject", (d) => {
    const subject = d.image({ tag: "image" });
    d.image({ subject });
    d.image({ ...art, annotations: ann, subject, tag: "tagged-artifact1" });
    d.image({
      ...art,
      artifactType: MT.ex2,
      layerType: MT.octet,
      annotations: ann,
      subject,
      tag: "tagged-artifact2",
    });
  });
  add("index-with-subject", (d) => {
    const subject = d.multi({ tag: "index" });
    d.multi({
      ...art,
      indexArtifactType: MT.ex1,
      annotations: ann,
      subject,
      tag: "tagged-artifact",
    });
  });
  add("missing-subject", (d) => {
    const subject = { mediaType: MT.image, size: 123, digest: digestOf("missing content") };
    d.image({ ...art, annotations: ann, subject, tag: "tagged-artifact" });
  });
  add("data-field", (d) => d.image({ tag: "data-field", data: true }));
  add("non-distributable-layers", (d) => {
    const layers: Desc[] = [MT.ndGz, MT.nd].map((mt) => {
      const digest = digestOf(randomBytes(256));
      return {
        mediaType: mt,
        digest,
        size: 12345,
        urls: [`https://store.example.com/blobs/${digest}`],
      };
    });
    layers.push(d.blob(randomBytes(200), MT.layerGz));
    const cfg = d.blob(
      enc(
        JSON.stringify({
          os: "linux",
          architecture: "amd64",
          rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
        }),
      ),
      MT.config,
    );
    const doc = enc(JSON.stringify({ schemaVersion: 2, mediaType: MT.image, config: cfg, layers }));
    const digest = digestOf(doc);
    d.manifests.push({ digest, bytes: doc, mediaType: MT.image });
    d.tags.set("non-distributable-image", digest);
  });
  add("custom-fields", (d) => d.multi({ tag: "custom-fields", extra: true }));
  add("no-layers", (d) => d.image({ tag: "no-layers", layers: 0 }));
  add("sha512", (d) => d.multi(), "sha512");
  return sets;
}

async function req(method: string, url: string, init: RequestInit = {}) {
  const r = await fetch(url, { method, ...init });
  const body = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body, text: () => new TextDecoder().decode(body) };
}

function errCode(r: { body: Uint8Array }): string {
  return JSON.parse(new TextDecoder().decode(r.body)).errors[0].code;
}

Deno.test("registry conformance (OCI distribution-spec v1.1 checks)", async (t) => {
  const reg = await startTestRegistry();
  const R1 = "conformance/repo1";
  const R2 = "conformance/repo2";
  const base = reg.url;
  const abs = (loc: string) => new URL(loc, base).toString();
  try {
    await t.step("ping", async () => {
      const r = await req("GET", `${base}/v2/`);
      assertEquals(r.status, 200);
      assertEquals(r.headers.get("docker-distribution-api-version"), "registry/2.0");
    });

    await t.step("empty repository", async () => {
      const tl = await req("GET", `${base}/v2/${R1}/tags/list`);
      assert(tl.status === 200 || tl.status === 404);
      const rf = await req("GET", `${base}/v2/${R1}/referrers/${digestOf(crypto.randomUUID())}`);
      assertEquals(rf.status, 200);
      assertEquals(rf.headers.get("content-type"), MT.index);
      const idx = JSON.parse(rf.text());
      assertEquals([idx.schemaVersion, idx.mediaType, idx.manifests], [2, MT.index, []]);
    });

    for (const alg of ["sha256", "sha512"]) {
      await t.step(`${alg} blobs`, () => blobApis(base, R1, R2, alg, abs));
    }

    for (const [name, data] of build()) {
      await t.step(`data: ${name}`, () => dataSet(base, R1, data, abs));
    }
    await t.step("bad digest manifest", async () => {
      const d = new Data();
      const m = d.image();
      for (const [dig, b] of d.blobs) await pushPostPut(base, R1, dig, b, abs);
      const bytes = enc(new TextDecoder().decode(d.manifests[0].bytes) + "  ");
      const r = await req("PUT", `${base}/v2/${R1}/manifests/${m.digest}`, {
        body: bytes,
        headers: { "Content-Type": MT.image },
      });
      assertEquals(r.status, 400);
      assertEquals(errCode(r), "DIGEST_INVALID");
    });

    await t.step("manifest errors", async () => {
      const miss = await req("GET", `${base}/v2/${R1}/manifests/${digestOf(randomBytes(64))}`);
      assertEquals(miss.status, 404);
      assertEquals(errCode(miss), "MANIFEST_UNKNOWN");
      const tag = await req(
        "GET",
        `${base}/v2/${R1}/manifests/missing-${crypto.randomUUID().slice(0, 8)}`,
      );
      assertEquals(tag.status, 404);
      // A reference that is not a valid tag is just unknown to GET and HEAD
      // (the upstream suite's .INVALID_MANIFEST_NAME).
      for (const method of ["GET", "HEAD"]) {
        const bad = await req(method, `${base}/v2/${R1}/manifests/.INVALID_MANIFEST_NAME`);
        assertEquals(bad.status, 404, method);
        if (method === "GET") assertEquals(errCode(bad), "MANIFEST_UNKNOWN");
      }
      const d = new Data();
      d.image();
      for (const [dig, b] of d.blobs) await pushPostPut(base, R1, dig, b, abs);
      const put = await req("PUT", `${base}/v2/${R1}/manifests/sha256:baddigeststring`, {
        body: d.manifests[0].bytes,
        headers: { "Content-Type": MT.image },
      });
      assertEquals(put.status, 400);
      const get = await req("GET", `${base}/v2/${R1}/manifests/sha256:baddigeststring`);
      assert(get.status === 400 || get.status === 404);
      for (const dig of d.blobs.keys()) await req("DELETE", `${base}/v2/${R1}/blobs/${dig}`);
    });
  } finally {
    await reg.close();
  }
});

async function pushPostPut(
  base: string,
  repo: string,
  digest: string,
  body: Bytes,
  abs: (l: string) => string,
) {
  const p = await req("POST", `${base}/v2/${repo}/blobs/uploads/`);
  assertEquals(p.status, 202);
  const u = new URL(abs(p.headers.get("location")!));
  u.searchParams.set("digest", digest);
  const r = await req("PUT", u.toString(), { body, headers: { "Content-Type": MT.octet } });
  return r;
}

async function verifyBlob(
  base: string,
  repo: string,
  digest: string,
  body: Bytes,
  loc?: string | null,
  abs?: (l: string) => string,
) {
  if (loc && abs) {
    const g = await req("GET", abs(loc));
    assertEquals(g.status, 200);
    assertEquals(g.body, body);
  }
  const h = await req("HEAD", `${base}/v2/${repo}/blobs/${digest}`);
  assertEquals(h.status, 200);
  assertEquals(h.headers.get("content-length"), String(body.length));
  assertEquals(h.headers.get("docker-content-digest"), digest);
  assertEquals(h.body.length, 0);
  const g = await req("GET", `${base}/v2/${repo}/blobs/${digest}`);
  assertEquals(g.status, 200);
  assertEquals(g.body, body);
  assertEquals(g.headers.get("docker-content-digest"), digest);
}

async function deleteBlobChecked(base: string, repo: string, digest: string) {
  const d = await req("DELETE", `${base}/v2/${repo}/blobs/${digest}`);
  assertEquals(d.status, 202);
  assertEquals((await req("HEAD", `${base}/v2/${repo}/blobs/${digest}`)).status, 404);
}

/** Chunked upload in 3 pieces, optionally out of order and/or last chunk in PUT. */
async function chunked(
  base: string,
  repo: string,
  digest: string,
  body: Bytes,
  abs: (l: string) => string,
  o: { outOfOrder?: boolean; putLast?: boolean; badDigest?: boolean } = {},
) {
  const p = await req("POST", `${base}/v2/${repo}/blobs/uploads/`, {
    headers: { "Content-Length": "0" },
  });
  assertEquals(p.status, 202);
  let loc = p.headers.get("location")!;
  const size = Math.floor(body.length / 3) + 1;
  let last = -1;
  while (last < body.length - 1) {
    if (o.outOfOrder) {
      let bad = last + 1 + size;
      if (bad >= body.length) bad = 0;
      const badEnd = Math.min(bad + size - 1, body.length - 1);
      const u = new URL(abs(loc));
      const method = o.putLast && badEnd === body.length - 1 ? "PUT" : "PATCH";
      if (method === "PUT") u.searchParams.set("digest", digest);
      const r = await req(method, u.toString(), {
        body: body.slice(bad, badEnd + 1),
        headers: { "Content-Type": MT.octet, "Content-Range": `${bad}-${badEnd}` },
      });
      assertEquals(r.status, 416, `out-of-order ${bad}-${badEnd} after ${last}`);
      const s = await req("GET", abs(loc));
      assertEquals(s.status, 204);
      loc = s.headers.get("location")!;
      const range = s.headers.get("range")!;
      assert(range.startsWith("0-"));
      if (last >= 0) assertEquals(range, `0-${last}`);
    }
    const start = last + 1;
    last = Math.min(start + size - 1, body.length - 1);
    const u = new URL(abs(loc));
    const isLast = last === body.length - 1;
    if (o.putLast && isLast) {
      u.searchParams.set("digest", digest);
      const r = await req("PUT", u.toString(), {
        body: body.slice(start, last + 1),
        headers: { "Content-Type": MT.octet, "Content-Range": `${start}-${last}` },
      });
      assertEquals(r.status, o.badDigest ? 400 : 201);
      return r;
    }
    const r = await req("PATCH", u.toString(), {
      body: body.slice(start, last + 1),
      headers: { "Content-Type": MT.octet, "Content-Range": `${start}-${last}` },
    });
    assertEquals(r.status, 202);
    assertEquals(r.headers.get("range"), `0-${last}`);
    loc = r.headers.get("location")!;
  }
  const u = new URL(abs(loc));
  u.searchParams.set("digest", digest);
  const r = await req("PUT", u.toString(), { headers: { "Content-Length": "0" } });
  assertEquals(r.status, o.badDigest ? 400 : 201);
  return r;
}

async function stream(
  base: string,
  repo: string,
  digest: string,
  body: Bytes,
  abs: (l: string) => string,
) {
  const p = await req("POST", `${base}/v2/${repo}/blobs/uploads/`, {
    headers: { "Content-Length": "0" },
  });
  assertEquals(p.status, 202);
  const pr = await req("PATCH", abs(p.headers.get("location")!), {
    body: new Blob([body]).stream(),
    headers: { "Content-Type": MT.octet },
  });
  assertEquals(pr.status, 202);
  const u = new URL(abs(pr.headers.get("location")!));
  u.searchParams.set("digest", digest);
  return await req("PUT", u.toString(), { headers: { "Content-Length": "0" } });
}

async function blobApis(
  base: string,
  R1: string,
  R2: string,
  alg: string,
  abs: (l: string) => string,
) {
  const gen = (n = 512) => {
    const b = randomBytes(n);
    return { b, d: digestOf(b, alg) };
  };
  const missing = gen();
  const m = await req("GET", `${base}/v2/${R1}/blobs/${missing.d}`);
  assertEquals(m.status, 404);
  assertEquals(errCode(m), "BLOB_UNKNOWN");

  // post only
  let x = gen();
  let r = await req("POST", `${base}/v2/${R1}/blobs/uploads/?digest=${x.d}`, {
    body: x.b,
    headers: { "Content-Type": MT.octet },
  });
  assertEquals(r.status, 201);
  assertEquals(r.headers.get("docker-content-digest"), x.d);
  await verifyBlob(base, R1, x.d, x.b, r.headers.get("location"), abs);
  await deleteBlobChecked(base, R1, x.d);

  // post + put
  x = gen();
  r = await pushPostPut(base, R1, x.d, x.b, abs);
  assertEquals(r.status, 201);
  await verifyBlob(base, R1, x.d, x.b, r.headers.get("location"), abs);
  await deleteBlobChecked(base, R1, x.d);

  // chunked: single chunk, multi, multi + put, out of order (+ put)
  for (
    const o of [{}, { putLast: true }, { outOfOrder: true }, { outOfOrder: true, putLast: true }]
  ) {
    x = gen(3 * 1024 - 5);
    r = await chunked(base, R1, x.d, x.b, abs, o);
    await verifyBlob(base, R1, x.d, x.b, r.headers.get("location"), abs);
    await deleteBlobChecked(base, R1, x.d);
  }

  // stream
  x = gen();
  r = await stream(base, R1, x.d, x.b, abs);
  assertEquals(r.status, 201);
  await verifyBlob(base, R1, x.d, x.b, r.headers.get("location"), abs);
  await deleteBlobChecked(base, R1, x.d);

  // mount from repo2, anonymous mount, mount of a missing blob falls back to 202
  for (const from of [R2, ""]) {
    x = gen();
    assertEquals((await pushPostPut(base, R2, x.d, x.b, abs)).status, 201);
    const q = from ? `mount=${x.d}&from=${from}` : `mount=${x.d}`;
    r = await req("POST", `${base}/v2/${R1}/blobs/uploads/?${q}`);
    assertEquals(r.status, 201);
    assertEquals(r.headers.get("docker-content-digest"), x.d);
    await verifyBlob(base, R1, x.d, x.b, r.headers.get("location"), abs);
    await deleteBlobChecked(base, R1, x.d);
    await deleteBlobChecked(base, R2, x.d);
  }
  x = gen();
  r = await req("POST", `${base}/v2/${R1}/blobs/uploads/?mount=${x.d}&from=${R2}`);
  assertEquals(r.status, 202);
  const u = new URL(abs(r.headers.get("location")!));
  u.searchParams.set("digest", x.d);
  assertEquals((await req("PUT", u.toString(), { body: x.b })).status, 201);
  await deleteBlobChecked(base, R1, x.d);

  // cancel
  x = gen();
  r = await req("POST", `${base}/v2/${R1}/blobs/uploads/`);
  assertEquals((await req("DELETE", abs(r.headers.get("location")!))).status, 204);
  assertEquals((await req("GET", abs(r.headers.get("location")!))).status, 404);
  assertEquals((await req("GET", `${base}/v2/${R1}/blobs/${x.d}`)).status, 404);

  // ranges
  x = gen(2048);
  assertEquals((await pushPostPut(base, R1, x.d, x.b, abs)).status, 201);
  const cases: [string, number, number, number][] = [
    ["bytes=500-1499", 206, 500, 1500],
    ["bytes=500-", 206, 500, 2048],
    ["bytes=-500", 206, 1548, 2048],
    ["bytes=2000-5000", 206, 2000, 2048],
    ["bytes=500-0", 416, 0, 0],
    ["bytes=5000-10000", 416, 0, 0],
  ];
  for (const [range, status, s, e] of cases) {
    const g = await req("GET", `${base}/v2/${R1}/blobs/${x.d}`, { headers: { Range: range } });
    assertEquals(g.status, status, range);
    if (status === 206) {
      assertEquals(g.body, x.b.slice(s, e));
      assertEquals(g.headers.get("content-length"), String(e - s));
      assertEquals(g.headers.get("content-range"), `bytes ${s}-${e - 1}/2048`);
    }
  }
  await deleteBlobChecked(base, R1, x.d);

  // well-known contents
  for (const b of [new Uint8Array(), enc("{}")]) {
    const d = digestOf(b, alg);
    assertEquals((await pushPostPut(base, R1, d, b, abs)).status, 201);
    await verifyBlob(base, R1, d, b);
    await deleteBlobChecked(base, R1, d);
  }

  // bad digests on every push API
  const bad = () => {
    const g = gen(3 * 1024 - 5);
    return { d: g.d, b: new Uint8Array([...g.b, ...enc("oh no")]) };
  };
  x = bad();
  r = await req("POST", `${base}/v2/${R1}/blobs/uploads/?digest=${x.d}`, { body: x.b });
  assertEquals(r.status, 400);
  assertEquals(errCode(r), "DIGEST_INVALID");
  x = bad();
  assertEquals((await pushPostPut(base, R1, x.d, x.b, abs)).status, 400);
  x = bad();
  await chunked(base, R1, x.d, x.b, abs, { badDigest: true });
  x = bad();
  await chunked(base, R1, x.d, x.b, abs, { badDigest: true, putLast: true });
  x = bad();
  assertEquals((await stream(base, R1, x.d, x.b, abs)).status, 400);
  assertEquals((await req("HEAD", `${base}/v2/${R1}/blobs/${x.d}`)).status, 404);
}

async function dataSet(base: string, repo: string, data: Data, abs: (l: string) => string) {
  // push
  for (const [d, b] of data.blobs) {
    assertEquals((await pushPostPut(base, repo, d, b, abs)).status, 201);
  }
  for (const m of data.manifests) {
    const r = await req("PUT", `${base}/v2/${repo}/manifests/${m.digest}`, {
      body: m.bytes,
      headers: { "Content-Type": m.mediaType },
    });
    assertEquals(r.status, 201, r.text());
    assertEquals(r.headers.get("docker-content-digest"), m.digest);
    const subject = JSON.parse(new TextDecoder().decode(m.bytes)).subject;
    if (subject) assertEquals(r.headers.get("oci-subject"), subject.digest);
    const g = await req("GET", abs(r.headers.get("location")!), {
      headers: { Accept: `${MT.index}, ${MT.image}` },
    });
    assertEquals(g.status, 200);
    assertEquals(g.headers.get("content-type"), m.mediaType);
    assertEquals(g.body, m.bytes);
  }
  const isSha256 = data.alg === "sha256";
  if (isSha256) {
    for (const [tag, d] of data.tags) {
      const m = data.manifests.find((x) => x.digest === d)!;
      const r = await req("PUT", `${base}/v2/${repo}/manifests/${tag}`, {
        body: m.bytes,
        headers: { "Content-Type": m.mediaType },
      });
      assertEquals(r.status, 201);
    }
    // list
    const tl = JSON.parse((await req("GET", `${base}/v2/${repo}/tags/list`)).text());
    for (const tag of data.tags.keys()) assert(tl.tags.includes(tag), `missing tag ${tag}`);
    if (tl.tags.length >= 2) {
      const sorted = [...tl.tags].sort();
      const half = sorted.length / 2 | 0;
      const part = JSON.parse(
        (await req("GET", `${base}/v2/${repo}/tags/list?last=${sorted[half - 1]}`)).text(),
      );
      assertEquals(part.tags, sorted.slice(half));
    }
  }
  // head + pull
  const refs: [string, string][] = [
    ...(isSha256 ? data.tags : []),
    ...data.manifests.map((m) => [m.digest, m.digest] as [string, string]),
  ];
  for (const [ref, d] of refs) {
    const m = data.manifests.find((x) => x.digest === d)!;
    for (const method of ["HEAD", "GET"]) {
      const r = await req(method, `${base}/v2/${repo}/manifests/${ref}`, {
        headers: { Accept: `${MT.index}, ${MT.image}` },
      });
      assertEquals(r.status, 200);
      assertEquals(r.headers.get("content-type"), m.mediaType);
      assertEquals(r.headers.get("content-length"), String(m.bytes.length));
      assertEquals(r.headers.get("docker-content-digest"), d);
      assertEquals(r.body, method === "GET" ? m.bytes : new Uint8Array());
    }
  }
  for (const [d, b] of data.blobs) await verifyBlob(base, repo, d, b);
  // referrers
  for (const [subject, want] of data.referrers) {
    const r = await req("GET", `${base}/v2/${repo}/referrers/${subject}`);
    assertEquals(r.status, 200);
    assertEquals(r.headers.get("content-type"), MT.index);
    const got = JSON.parse(r.text()).manifests as Desc[];
    const has = (list: Desc[], w: Desc) =>
      list.some((g) =>
        g.digest === w.digest && g.mediaType === w.mediaType && g.size === w.size &&
        g.artifactType === w.artifactType &&
        Object.entries(w.annotations ?? {}).every(([k, v]) => g.annotations?.[k] === v)
      );
    for (const w of want) assert(has(got, w), `referrer ${w.digest} missing`);
    for (const at of new Set(want.map((w) => w.artifactType))) {
      if (!at) continue;
      const f = await req(
        "GET",
        `${base}/v2/${repo}/referrers/${subject}?artifactType=${encodeURIComponent(at)}`,
      );
      assertEquals(f.headers.get("oci-filters-applied"), "artifactType");
      const list = JSON.parse(f.text()).manifests as Desc[];
      for (const w of want.filter((w) => w.artifactType === at)) assert(has(list, w));
      for (const g of list) assertEquals(g.artifactType, at);
    }
  }
  // delete: tags, manifests in reverse push order, blobs
  if (isSha256) {
    for (const tag of data.tags.keys()) {
      const r = await req("DELETE", `${base}/v2/${repo}/manifests/${tag}`);
      assert(r.status === 202 || r.status === 404, `tag delete ${r.status}`);
      assertEquals((await req("HEAD", `${base}/v2/${repo}/manifests/${tag}`)).status, 404);
    }
  }
  for (const m of [...data.manifests].reverse()) {
    const r = await req("DELETE", `${base}/v2/${repo}/manifests/${m.digest}`);
    assertEquals(r.status, 202);
    assertEquals((await req("HEAD", `${base}/v2/${repo}/manifests/${m.digest}`)).status, 404);
  }
  for (const d of data.blobs.keys()) {
    const r = await req("DELETE", `${base}/v2/${repo}/blobs/${d}`);
    assert(r.status === 202 || r.status === 404);
    assertEquals((await req("HEAD", `${base}/v2/${repo}/blobs/${d}`)).status, 404);
  }
  for (const subject of data.referrers.keys()) {
    const r = JSON.parse((await req("GET", `${base}/v2/${repo}/referrers/${subject}`)).text());
    assertEquals(r.manifests.length, 0, "referrers gone after delete");
  }
}
