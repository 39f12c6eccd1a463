/**
 * Fuzz: the registry's request paths and bodies (issue 11). parseRoute
 * throws only RegistryError and hands handlers clean names, digests and
 * upload ids (no dot segments, encodings or separators a filesystem could
 * reinterpret); the whole handler, over a temp store, answers every request
 * with a status below 500 and reports no unexpected error, whatever the
 * method, path, query, headers and JSON body.
 */
import { assert } from "../../core/testing/assert.ts";
import { fuzz, text } from "../../core/testing/fuzz.ts";
import { buildContext } from "./server.ts";
import { createHandler } from "./handler.ts";
import { RegistryError } from "./errors.ts";
import { checkDigest, parseRoute, rawPath, validName } from "./routes.ts";
import { digestOf, enc } from "./testutil.ts";

const D = "sha256:" + "ab".repeat(32);
const UUID = "0f0e0d0c-0b0a-4908-8706-050403020100";

/** Inputs a fuzz run once broke parseRoute or the handler with (none yet). */
const ROUTE_REGRESSIONS: string[] = [];
const HANDLER_REGRESSIONS: string[] = [];

Deno.test("fuzz: registry route parser", async () => {
  await fuzz({
    name: "registry-routes",
    seeds: [
      "http://r/v2/",
      "http://r/v2/_catalog?n=10&last=a",
      "http://r/v2/a/b/manifests/latest",
      `http://r/v2/a/b-c/d__e.f/manifests/${D}`,
      `http://r/v2/x/blobs/${D}`,
      "http://r/v2/x/blobs/uploads/",
      `http://r/v2/x/blobs/uploads/${UUID}?digest=${D}`,
      "http://r/v2/x/tags/list?n=2",
      `http://r/v2/x/referrers/${D}?artifactType=a%2Fb`,
      "http://r/token?scope=repository:x:pull",
    ],
    dictionary: [
      "/",
      "//",
      "..",
      ".",
      "%2e",
      "%2f",
      "%00",
      "\\",
      "?",
      ":",
      "@",
      "sha512:",
      D,
      UUID,
    ],
    regressions: ROUTE_REGRESSIONS,
    maxLen: 1024,
    expected: (e) => e instanceof RegistryError,
    run(input) {
      const path = rawPath(text(input));
      const r = parseRoute(path);
      if ("name" in r) {
        assert(validName(r.name), `name ${r.name}`);
        assert(!r.name.split("/").some((s) => s === "." || s === ".."), `name ${r.name}`);
      }
      if ("digest" in r) checkDigest(r.digest);
      if (r.kind === "upload") assert(/^[a-f0-9-]{36}$/.test(r.uuid));
    },
  });
});

/** An input that is not an HTTP request (kept out of the pool of inputs to mutate). */
class NotARequest extends Error {}

/** "METHOD TARGET\nName: value\n…\n\nbody" → a Request (null when fetch would refuse it). */
function toRequest(s: string): Request | null {
  const [head, ...rest] = s.split("\n\n");
  const lines = head.split("\n");
  const [method, target] = lines[0].split(" ");
  const headers: [string, string][] = [];
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i > 0) headers.push([l.slice(0, i), l.slice(i + 1).trim()]);
  }
  const body = rest.join("\n\n");
  try {
    return new Request(`http://r${target?.startsWith("/") ? target : "/" + target}`, {
      method,
      headers,
      body: method === "GET" || method === "HEAD" || body === "" ? undefined : body,
    });
  } catch {
    return null; // not a request an HTTP server would hand over
  }
}

Deno.test("fuzz: registry handler", async () => {
  const root = await Deno.makeTempDir({ prefix: "berth-reg-fuzz-" });
  try {
    const ctx = await buildContext({ root });
    const unexpected: unknown[] = [];
    const h = createHandler(ctx, (e) => unexpected.push(e));
    const send = async (s: string) => {
      const req = toRequest(s);
      if (!req) return undefined;
      const res = await h(req);
      await res.arrayBuffer();
      return res.status;
    };
    // one real image to reach the paths behind "exists"
    const layer = enc("layer bytes");
    const cfg = enc(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: {} }));
    for (const b of [layer, cfg]) {
      assert(await send(`POST /v2/a/b/blobs/uploads/?digest=${digestOf(b)}\n\n${text(b)}`) === 201);
    }
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: digestOf(cfg),
        size: cfg.length,
      },
      layers: [{
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: digestOf(layer),
        size: layer.length,
      }],
      annotations: { a: "b" },
    });
    const mt = "Content-Type: application/vnd.oci.image.manifest.v1+json";
    assert(await send(`PUT /v2/a/b/manifests/v1\n${mt}\n\n${manifest}`) === 201);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: digestOf(manifest),
        size: manifest.length,
        platform: { os: "linux", architecture: "amd64" },
      }],
    });
    await fuzz({
      name: "registry-handler",
      seeds: [
        "GET /v2/",
        "GET /v2/_catalog?n=1&last=a",
        "GET /v2/a/b/tags/list?n=1&last=v0",
        "HEAD /v2/a/b/manifests/v1\nAccept: application/vnd.oci.image.manifest.v1+json",
        `GET /v2/a/b/blobs/${digestOf(layer)}\nRange: bytes=2-5`,
        `GET /v2/a/b/referrers/${digestOf(manifest)}?artifactType=x`,
        `PUT /v2/a/b/manifests/v2\n${mt}\n\n${manifest}`,
        `PUT /v2/a/b/manifests/i\nContent-Type: application/vnd.oci.image.index.v1+json\n\n${index}`,
        "POST /v2/a/c/blobs/uploads/\nContent-Length: 0",
        `POST /v2/a/c/blobs/uploads/?mount=${digestOf(layer)}&from=a/b`,
        `PATCH /v2/a/c/blobs/uploads/${UUID}\nContent-Range: 0-3\n\nabcd`,
        `PUT /v2/a/c/blobs/uploads/${UUID}?digest=${D}\n\nx`,
        `DELETE /v2/a/b/manifests/${digestOf(manifest)}`,
      ],
      dictionary: [
        "GET ",
        "PUT ",
        "PATCH ",
        "DELETE ",
        "\n\n",
        "\nContent-Type: ",
        "\nContent-Range: ",
        "\nRange: bytes=",
        "?n=",
        "&last=",
        '"digest":"',
        '"size":',
        '"mediaType":"',
        '"subject":{',
        "null",
        "-1",
        "[]",
        "{}",
        digestOf(layer),
        D,
      ],
      regressions: HANDLER_REGRESSIONS,
      maxLen: 2048,
      maxInputMs: 2000, // fsyncs of the store on a busy disk
      expected: (e) => e instanceof NotARequest,
      async run(input) {
        const status = await send(text(input));
        if (status === undefined) throw new NotARequest();
        assert(unexpected.length === 0, `unexpected error: ${unexpected.splice(0)[0]}`);
        assert(status < 500, `status ${status}`);
      },
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("fuzz: registry handler with token auth (token endpoint, scopes, bearer tokens)", async () => {
  const root = await Deno.makeTempDir({ prefix: "berth-reg-fuzz-" });
  try {
    const ctx = await buildContext({ root, auth: "token" });
    const unexpected: unknown[] = [];
    const h = createHandler(ctx, (e) => unexpected.push(e));
    const res = await h(
      new Request(
        "http://r/token?scope=repository:a/b:pull,push&service=berth-registry&offline_token=true",
      ),
    );
    const tok = (await res.json()) as { token: string; refresh_token?: string };
    assert(typeof tok.token === "string");
    const bearer = `Authorization: Bearer ${tok.token}`;
    await fuzz({
      name: "registry-token-auth",
      seeds: [
        "GET /token?scope=repository:a/b:pull,push&service=berth-registry",
        "GET /token?scope=registry:catalog:*&scope=repository:x:delete\nAuthorization: Basic dTpw",
        "POST /token\nContent-Type: application/x-www-form-urlencoded\n\ngrant_type=password&username=u&password=p&scope=repository:a:pull",
        `POST /token\n\ngrant_type=refresh_token&refresh_token=${tok.refresh_token ?? tok.token}`,
        `GET /v2/a/b/tags/list\n${bearer}`,
        `GET /v2/_catalog\n${bearer}`,
        `POST /v2/a/b/blobs/uploads/\n${bearer}`,
        `GET /v2/a/c/manifests/x\n${bearer}`,
      ],
      dictionary: [
        ":",
        ",",
        " ",
        "*",
        "pull",
        "push",
        "delete",
        "repository:",
        "registry:",
        "Bearer ",
        "Basic ",
        ".",
        "=",
        "&",
      ],
      maxLen: 2048,
      maxInputMs: 2000, // fsyncs of the store on a busy disk
      expected: (e) => e instanceof NotARequest,
      async run(input) {
        const req = toRequest(text(input));
        if (!req) throw new NotARequest();
        const r = await h(req);
        await r.arrayBuffer();
        assert(unexpected.length === 0, `unexpected error: ${unexpected.splice(0)[0]}`);
        assert(r.status < 500, `status ${r.status}`);
      },
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
