/**
 * `berth registry` routes and error cases beyond the conformance suite:
 * path tricks, upload and manifest errors, pagination, tag params,
 * read-only mode, concurrency, interrupted uploads, TLS.
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { MemoryStore, pull, push } from "../core/distribution/mod.ts";
import {
  digestOf,
  enc,
  makeImage,
  pushRandomImage,
  putBlob,
  putManifestRaw,
  randomBytes,
  startTestRegistry,
} from "../modes/registry/testutil.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

async function req(method: string, url: string, init: RequestInit = {}) {
  const r = await fetch(url, { method, ...init });
  const text = await r.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text).errors?.[0]?.code;
  } catch { /* not json */ }
  return { status: r.status, headers: r.headers, text, code };
}

/** Raw HTTP/1.1 request, so the path reaches the server exactly as written. */
async function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(enc(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
  const text = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
  return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

Deno.test("registry api: routing, names and path tricks", async () => {
  const reg = await startTestRegistry();
  try {
    const u = reg.url;
    const img = await pushRandomImage(u, "a/b", "t1");
    assertEquals((await req("GET", `${u}/nope`)).status, 404);
    assertEquals((await req("POST", `${u}/v2/`)).code, "UNSUPPORTED");
    assertEquals((await req("PATCH", `${u}/v2/a/b/manifests/t1`)).status, 405);
    assertEquals((await req("GET", `${u}/v2/A/b/tags/list`)).code, "NAME_INVALID");
    assertEquals((await req("PUT", `${u}/v2/a/b/manifests/-bad`)).code, "TAG_INVALID");
    assertEquals((await req("GET", `${u}/v2/a/b/blobs/sha256:xyz`)).code, "DIGEST_INVALID");
    assertEquals((await req("GET", `${u}/v2/a/b/blobs/md5:abcdef`)).status, 400);
    for (
      const p of [
        `/v2/a%2Fb/manifests/t1`,
        `/v2/a/%2e%2e/a/b/manifests/t1`,
        `/v2/x/../a/b/manifests/t1`,
        `/v2/a/./b/manifests/t1`,
        `/v2/a//b/manifests/t1`,
        `/v2/a/b/blobs/${img.layer}/../../manifests/t1`,
        `/v2/a/b%2f..%2f..%2f..%2fetc/tags/list`,
      ]
    ) {
      const r = await rawGet(reg.port, p);
      assertEquals(r.status, 400, p);
      assert(r.body.includes("NAME_INVALID"), p);
    }
    // The same manifest is reachable by its clean path.
    assertEquals((await rawGet(reg.port, "/v2/a/b/manifests/t1")).status, 200);
    // A repository literally named with a 'manifests' component.
    await pushRandomImage(u, "x/manifests/y", "1");
    assertEquals((await req("GET", `${u}/v2/x/manifests/y/manifests/1`)).status, 200);
    assertEquals(
      (await req("GET", `${u}/v2/x/manifests/y/tags/list`)).text,
      '{"name":"x/manifests/y","tags":["1"]}',
    );
    // A blob of one repository is not visible from another.
    assertEquals((await req("GET", `${u}/v2/other/blobs/${img.layer}`)).code, "BLOB_UNKNOWN");
    assertEquals((await req("GET", `${u}/v2/other/manifests/t1`)).code, "NAME_UNKNOWN");
    assertEquals((await req("GET", `${u}/v2/a/b/manifests/nope`)).code, "MANIFEST_UNKNOWN");
    assertEquals((await req("GET", `${u}/v2/nope/tags/list`)).code, "NAME_UNKNOWN");
    const head = await req("HEAD", `${u}/v2/a/b/manifests/t1`);
    assertEquals(head.headers.get("docker-distribution-api-version"), "registry/2.0");
    const etag = head.headers.get("etag")!;
    assertEquals(
      (await req("GET", `${u}/v2/a/b/manifests/t1`, { headers: { "If-None-Match": etag } })).status,
      304,
    );
  } finally {
    await reg.close();
  }
});

Deno.test("registry api: upload errors", async () => {
  const reg = await startTestRegistry();
  try {
    const u = reg.url;
    const fake = crypto.randomUUID();
    assertEquals(
      (await req("PATCH", `${u}/v2/a/blobs/uploads/${fake}`, { body: "x" })).code,
      "BLOB_UPLOAD_UNKNOWN",
    );
    assertEquals((await req("GET", `${u}/v2/a/blobs/uploads/not-a-uuid`)).status, 404);
    const p = await req("POST", `${u}/v2/a/blobs/uploads/`);
    assertEquals(p.status, 202);
    const loc = `${u}${p.headers.get("location")}`;
    assert(p.headers.get("docker-upload-uuid"));
    // A session belongs to its repository.
    const uuid = loc.slice(loc.lastIndexOf("/") + 1);
    assertEquals((await req("GET", `${u}/v2/b/blobs/uploads/${uuid}`)).code, "BLOB_UPLOAD_UNKNOWN");
    assertEquals((await req("PUT", loc)).code, "DIGEST_INVALID");
    assertEquals((await req("PUT", `${loc}?digest=sha256:zz`)).code, "DIGEST_INVALID");
    assertEquals(
      (await req("PATCH", loc, { body: "abc", headers: { "Content-Range": "nonsense" } })).status,
      416,
    );
    assertEquals(
      (await req("PATCH", loc, { body: "abc", headers: { "Content-Range": "5-7" } })).status,
      416,
    );
    const short = await req("PATCH", loc, { body: "abc", headers: { "Content-Range": "0-9" } });
    assertEquals(short.code, "SIZE_INVALID");
    const ok = await req("PATCH", loc, { body: "abc", headers: { "Content-Range": "0-2" } });
    assertEquals([ok.status, ok.headers.get("range")], [202, "0-2"]);
    const st = await req("GET", loc);
    assertEquals([st.status, st.headers.get("range")], [204, "0-2"]);
    // digest-algorithm must be supported
    assertEquals(
      (await req("POST", `${u}/v2/a/blobs/uploads/?digest-algorithm=md5`)).code,
      "DIGEST_INVALID",
    );
    // wrong digest: refused and the session is gone, nothing visible
    const wrong = digestOf("abcd");
    assertEquals((await req("PUT", `${loc}?digest=${wrong}`)).code, "DIGEST_INVALID");
    assertEquals((await req("GET", loc)).status, 404);
    assertEquals((await req("HEAD", `${u}/v2/a/blobs/${wrong}`)).status, 404);
    assertEquals((await req("HEAD", `${u}/v2/a/blobs/${digestOf("abc")}`)).status, 404);
  } finally {
    await reg.close();
  }
});

Deno.test("registry api: an interrupted upload never becomes visible", async () => {
  const reg = await startTestRegistry();
  try {
    const blob = randomBytes(2 << 20);
    const d = digestOf(blob);
    const ac = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(blob.subarray(0, 1 << 20));
        setTimeout(() => ac.abort(), 50);
      },
    });
    await fetch(`${reg.url}/v2/i/blobs/uploads/?digest=${d}`, {
      method: "POST",
      body,
      signal: ac.signal,
    })
      .then((r) => r.body?.cancel(), () => {});
    await new Promise((r) => setTimeout(r, 100));
    assertEquals((await req("HEAD", `${reg.url}/v2/i/blobs/${d}`)).status, 404);
    let blobs = 0;
    for await (const _ of Deno.readDir(`${reg.root}/blobs`)) blobs++;
    assertEquals(blobs, 0);
    let uploads = 0;
    for await (const _ of Deno.readDir(`${reg.root}/uploads`)) uploads++;
    assertEquals(uploads, 0, "a failed single-request upload is cleaned up");
  } finally {
    await reg.close();
  }
});

Deno.test("registry api: manifest validation", async () => {
  const reg = await startTestRegistry();
  try {
    const u = reg.url;
    const put = (body: string | Uint8Array<ArrayBuffer>, ct = OCI_MANIFEST, ref = "t") =>
      putManifestRaw(u, "m", ref, typeof body === "string" ? enc(body) : body, ct).then(async (
        r,
      ) => ({
        status: r.status,
        code: JSON.parse((await r.text()) || "{}").errors?.[0]?.code as string | undefined,
      }));
    assertEquals((await put("not json")).code, "MANIFEST_INVALID");
    assertEquals((await put('{"schemaVersion":1}')).code, "MANIFEST_INVALID");
    assertEquals((await put("[1]")).code, "MANIFEST_INVALID");
    const missing = digestOf("missing");
    const cfg = await putBlob(u, "m", enc("{}"));
    const manifest = (layers: string[], mt = OCI_MANIFEST) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: mt,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: cfg, size: 2 },
        layers: layers.map((d) => ({
          mediaType: "application/vnd.oci.image.layer.v1.tar",
          digest: d,
          size: 1,
        })),
      });
    assertEquals((await put(manifest([missing]))).code, "MANIFEST_BLOB_UNKNOWN");
    assertEquals(
      (await put(manifest([]), "application/vnd.docker.distribution.manifest.v2+json")).code,
      "MANIFEST_INVALID",
    );
    assertEquals((await put(manifest(["sha256:short"]))).code, "MANIFEST_INVALID");
    assertEquals((await put(manifest([]))).status, 201);
    const idx = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType: OCI_MANIFEST, digest: missing, size: 10 }],
    });
    assertEquals(
      (await put(idx, "application/vnd.oci.image.index.v1+json")).code,
      "MANIFEST_BLOB_UNKNOWN",
    );
    const huge = enc(JSON.stringify({ schemaVersion: 2, annotations: { a: "x".repeat(4 << 20) } }));
    assertEquals((await put(huge)).status, 413);
    // Docker schema2 round trip keeps the content type.
    const d2 = manifest([], "application/vnd.docker.distribution.manifest.v2+json");
    assertEquals(
      (await put(d2, "application/vnd.docker.distribution.manifest.v2+json", "docker")).status,
      201,
    );
    const g = await fetch(`${u}/v2/m/manifests/docker`);
    assertEquals(
      g.headers.get("content-type"),
      "application/vnd.docker.distribution.manifest.v2+json",
    );
    assertEquals(await g.text(), d2);
    // Deleting a manifest removes the tags that point at it.
    const digest = digestOf(d2);
    assertEquals((await req("DELETE", `${u}/v2/m/manifests/${digest}`)).status, 202);
    assertEquals((await req("GET", `${u}/v2/m/manifests/docker`)).status, 404);
    assertEquals((await req("DELETE", `${u}/v2/m/manifests/${digest}`)).code, "MANIFEST_UNKNOWN");
    assertEquals((await req("DELETE", `${u}/v2/m/manifests/nosuchtag`)).code, "MANIFEST_UNKNOWN");
    assertEquals((await req("DELETE", `${u}/v2/m/blobs/${missing}`)).code, "BLOB_UNKNOWN");
  } finally {
    await reg.close();
  }
});

Deno.test("registry api: tags/catalog pagination, tag params, tag moves", async () => {
  const reg = await startTestRegistry();
  try {
    const u = reg.url;
    const img = await pushRandomImage(u, "p", "a");
    for (const t of ["b", "c", "D", "e"]) {
      assertEquals((await putManifestRaw(u, "p", t, img.manifest, OCI_MANIFEST)).status, 201);
    }
    const all = JSON.parse((await req("GET", `${u}/v2/p/tags/list`)).text).tags;
    assertEquals(all, ["D", "a", "b", "c", "e"]);
    const p1 = await req("GET", `${u}/v2/p/tags/list?n=2`);
    assertEquals(JSON.parse(p1.text).tags, ["D", "a"]);
    assertEquals(p1.headers.get("link"), '</v2/p/tags/list?n=2&last=a>; rel="next"');
    const p2 = await req("GET", `${u}/v2/p/tags/list?n=2&last=a`);
    assertEquals(JSON.parse(p2.text).tags, ["b", "c"]);
    const p3 = await req("GET", `${u}/v2/p/tags/list?n=2&last=c`);
    assertEquals([JSON.parse(p3.text).tags, p3.headers.get("link")], [["e"], null]);
    const z = await req("GET", `${u}/v2/p/tags/list?n=0`);
    assertEquals([JSON.parse(z.text).tags, z.headers.get("link")], [[], null]);
    assertEquals((await req("GET", `${u}/v2/p/tags/list?n=-1`)).status, 400);
    // tag params on a push by digest
    const r = await fetch(`${u}/v2/p/manifests/${img.digest}?tag=x1&tag=x2`, {
      method: "PUT",
      body: img.manifest,
      headers: { "Content-Type": OCI_MANIFEST },
    });
    assertEquals(r.status, 201);
    assertEquals(r.headers.get("oci-tag"), "x1, x2");
    assertEquals(
      (await req("HEAD", `${u}/v2/p/manifests/x2`)).headers.get("docker-content-digest"),
      img.digest,
    );
    // catalog
    await pushRandomImage(u, "q/r", "1");
    await pushRandomImage(u, "q/s", "1");
    const c1 = await req("GET", `${u}/v2/_catalog?n=2`);
    assertEquals(JSON.parse(c1.text).repositories, ["p", "q/r"]);
    assertEquals(c1.headers.get("link"), '</v2/_catalog?n=2&last=q%2Fr>; rel="next"');
    assertEquals(
      JSON.parse((await req("GET", `${u}/v2/_catalog?n=2&last=q%2Fr`)).text).repositories,
      ["q/s"],
    );
    // a tag moves atomically: concurrent re-tags, the tag always resolves to one of them
    const imgs = [
      img,
      await pushRandomImage(u, "p", "tmp1"),
      await pushRandomImage(u, "p", "tmp2"),
    ];
    const digests = new Set(imgs.map((i) => i.digest));
    const writes = Array.from(
      { length: 30 },
      (_, i) =>
        putManifestRaw(u, "p", "moving", imgs[i % 3].manifest, OCI_MANIFEST).then((r) =>
          r.body?.cancel()
        ),
    );
    const reads = Array.from(
      { length: 30 },
      () =>
        fetch(`${u}/v2/p/manifests/moving`, { method: "HEAD" }).then((r) => {
          assert(r.status === 404 || digests.has(r.headers.get("docker-content-digest")!));
        }),
    );
    await Promise.all([...writes, ...reads]);
    assert(
      digests.has(
        (await req("HEAD", `${u}/v2/p/manifests/moving`)).headers.get("docker-content-digest")!,
      ),
    );
  } finally {
    await reg.close();
  }
});

Deno.test("registry api: concurrent uploads of the same blob", async () => {
  const reg = await startTestRegistry();
  try {
    const blob = randomBytes(3 << 20);
    const d = digestOf(blob);
    const mono = Array.from(
      { length: 4 },
      (_, i) =>
        fetch(`${reg.url}/v2/c${i % 2}/blobs/uploads/?digest=${d}`, { method: "POST", body: blob })
          .then((r) => {
            r.body?.cancel();
            return r.status;
          }),
    );
    const chunked = Array.from({ length: 4 }, async (_, i) => {
      const p = await fetch(`${reg.url}/v2/c${i % 2}/blobs/uploads/`, { method: "POST" });
      let loc = `${reg.url}${p.headers.get("location")}`;
      for (let off = 0; off < blob.length; off += 1 << 20) {
        const end = Math.min(blob.length, off + (1 << 20)) - 1;
        const r = await fetch(loc, {
          method: "PATCH",
          body: blob.slice(off, end + 1),
          headers: { "Content-Range": `${off}-${end}` },
        });
        await r.body?.cancel();
        loc = `${reg.url}${r.headers.get("location")}`;
      }
      const r = await fetch(`${loc}?digest=${d}`, { method: "PUT" });
      await r.body?.cancel();
      return r.status;
    });
    assertEquals(await Promise.all([...mono, ...chunked]), Array(8).fill(201));
    for (const repo of ["c0", "c1"]) {
      const g = await fetch(`${reg.url}/v2/${repo}/blobs/${d}`);
      assertEquals(digestOf(new Uint8Array(await g.arrayBuffer())), d);
    }
    let left = 0;
    for await (const _ of Deno.readDir(`${reg.root}/uploads`)) left++;
    assertEquals(left, 0);
  } finally {
    await reg.close();
  }
});

Deno.test("registry api: read-only mode refuses writes", async () => {
  const root = await Deno.makeTempDir();
  try {
    const rw = await startTestRegistry({ root });
    const img = await pushRandomImage(rw.url, "ro", "1");
    await rw.close();
    const ro = await startTestRegistry({ root, readOnly: true });
    try {
      assertEquals((await req("GET", `${ro.url}/v2/ro/manifests/1`)).status, 200);
      for (
        const [m, p] of [
          ["POST", "/v2/ro/blobs/uploads/"],
          ["PUT", "/v2/ro/manifests/2"],
          ["DELETE", "/v2/ro/manifests/1"],
          ["DELETE", `/v2/ro/blobs/${img.layer}`],
        ]
      ) {
        const r = await req(m, `${ro.url}${p}`, m === "PUT" ? { body: img.manifest } : {});
        assertEquals([r.status, r.code], [405, "UNSUPPORTED"], `${m} ${p}`);
      }
    } finally {
      await ro.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("registry api: TLS with a CA from certs.d", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = async (args: string[]) => {
      const r = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
        .output();
      if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    };
    await run([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=berth-test-ca",
      "-keyout",
      `${dir}/ca.key`,
      "-out",
      `${dir}/ca.pem`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    ]);
    await run([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-keyout",
      `${dir}/srv.key`,
      "-out",
      `${dir}/srv.csr`,
    ]);
    await Deno.writeTextFile(
      `${dir}/ext`,
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    );
    await run([
      "x509",
      "-req",
      "-in",
      `${dir}/srv.csr`,
      "-CA",
      `${dir}/ca.pem`,
      "-CAkey",
      `${dir}/ca.key`,
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${dir}/srv.pem`,
      "-extfile",
      `${dir}/ext`,
    ]);
    const reg = await startTestRegistry({ tlsCert: `${dir}/srv.pem`, tlsKey: `${dir}/srv.key` });
    try {
      assert(reg.url.startsWith("https://"));
      const host = `localhost:${reg.port}`;
      await Deno.mkdir(`${dir}/certs.d/${host}`, { recursive: true });
      await Deno.copyFile(`${dir}/ca.pem`, `${dir}/certs.d/${host}/ca.crt`);
      const src = new MemoryStore();
      const img = makeImage(src, { layers: [500] });
      const certsDirs = [`${dir}/certs.d`];
      await push(`${host}/tls/img:1`, {
        source: src,
        manifestDigest: img.manifestDigest,
        certsDirs,
      });
      const r = await pull(`${host}/tls/img:1`, { sink: new MemoryStore(), certsDirs });
      assertEquals(r.manifestDigest, img.manifestDigest);
      // Without the CA, an HTTPS registry on loopback is refused (no silent downgrade).
      let failed = false;
      try {
        await pull(`${host}/tls/img:1`, { sink: new MemoryStore(), certsDirs: [`${dir}/none`] });
      } catch {
        failed = true;
      }
      assert(failed);
    } finally {
      await reg.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
