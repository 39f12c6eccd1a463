/**
 * Access control of `berth registry`: Basic (htpasswd, bcrypt) and the Docker
 * token flow from the built-in realm. Every route refuses unauthenticated or
 * out-of-scope requests, encoded-path tricks included.
 */
import bcrypt from "bcryptjs";
import { assert, assertEquals } from "../core/testing/assert.ts";
import { parseChallenge } from "../core/distribution/challenge.ts";
import { enc, pushRandomImage, startTestRegistry } from "../modes/registry/testutil.ts";

const basic = (u: string, p: string) => `Basic ${btoa(`${u}:${p}`)}`;

async function htpasswd(): Promise<string> {
  const f = await Deno.makeTempFile({ prefix: "berth-htpasswd-" });
  // $2y$ as written by `htpasswd -B`.
  const h = bcrypt.hashSync("pw", 4).replace(/^\$2a\$/, "$2y$");
  await Deno.writeTextFile(f, `# users\nalice:${h}\nbob:${bcrypt.hashSync("bobpw", 4)}\n`);
  return f;
}

/** Every route, as [method, path]. */
function routes(layer: string, digest: string, uuid: string): [string, string][] {
  return [
    ["GET", "/v2/"],
    ["GET", "/v2/_catalog"],
    ["GET", "/v2/a/b/tags/list"],
    ["GET", "/v2/a/b/manifests/1"],
    ["HEAD", "/v2/a/b/manifests/1"],
    ["PUT", "/v2/a/b/manifests/2"],
    ["DELETE", "/v2/a/b/manifests/1"],
    ["GET", `/v2/a/b/blobs/${layer}`],
    ["HEAD", `/v2/a/b/blobs/${layer}`],
    ["DELETE", `/v2/a/b/blobs/${layer}`],
    ["POST", "/v2/a/b/blobs/uploads/"],
    ["POST", `/v2/a/b/blobs/uploads/?mount=${layer}&from=a/b`],
    ["GET", `/v2/a/b/blobs/uploads/${uuid}`],
    ["PATCH", `/v2/a/b/blobs/uploads/${uuid}`],
    ["PUT", `/v2/a/b/blobs/uploads/${uuid}?digest=${layer}`],
    ["DELETE", `/v2/a/b/blobs/uploads/${uuid}`],
    ["GET", `/v2/a/b/referrers/${digest}`],
  ];
}

async function status(url: string, method: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, {
    method,
    headers,
    body: ["PUT", "PATCH"].includes(method) ? "x" : undefined,
  });
  await r.body?.cancel();
  return r;
}

Deno.test("registry auth: basic", async () => {
  const pw = await htpasswd();
  const reg = await startTestRegistry({ auth: "basic", htpasswd: pw });
  try {
    const u = reg.url;
    const ok = { Authorization: basic("alice", "pw") };
    // Seed through an authenticated fetch.
    const origFetch = globalThis.fetch;
    globalThis.fetch = (input, init) =>
      origFetch(input, { ...init, headers: { ...init?.headers as Record<string, string>, ...ok } });
    let img;
    try {
      img = await pushRandomImage(u, "a/b", "1");
    } finally {
      globalThis.fetch = origFetch;
    }
    const up = await status(`${u}/v2/a/b/blobs/uploads/`, "POST", ok);
    const uuid = up.headers.get("location")!.split("/").pop()!;
    for (const [m, p] of routes(img.layer, img.digest, uuid)) {
      const bad: Record<string, string>[] = [{}, { Authorization: basic("alice", "nope") }, {
        Authorization: basic("eve", "pw"),
      }];
      for (const h of bad) {
        const r = await status(`${u}${p}`, m, h);
        assertEquals(r.status, 401, `${m} ${p}`);
        assertEquals(parseChallenge(r.headers.get("www-authenticate"))?.scheme, "basic");
      }
    }
    for (const p of ["/v2/a%2Fb/manifests/1", "/v2/x/../a/b/manifests/1"]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: reg.port });
      await conn.write(enc(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      const text = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
      assert(!text.startsWith("HTTP/1.1 200"), p);
    }
    assertEquals((await status(`${u}/v2/a/b/manifests/1`, "GET", ok)).status, 200);
    assertEquals(
      (await status(`${u}/v2/a/b/manifests/1`, "GET", { Authorization: basic("bob", "bobpw") }))
        .status,
      200,
    );
    assertEquals((await status(`${u}/v2/_catalog`, "GET", ok)).status, 200);
    // No token realm in basic mode.
    assertEquals((await status(`${u}/token`, "GET", ok)).status, 404);
  } finally {
    await reg.close();
    await Deno.remove(pw);
  }
});

async function token(
  u: string,
  scopes: string[],
  auth?: string,
): Promise<{ status: number; token?: string; body?: Record<string, unknown> }> {
  const q = new URLSearchParams({ service: "berth-registry" });
  for (const s of scopes) q.append("scope", s);
  const r = await fetch(`${u}/token?${q}`, { headers: auth ? { Authorization: auth } : {} });
  if (!r.ok) {
    await r.body?.cancel();
    return { status: r.status };
  }
  const body = await r.json();
  return { status: r.status, token: body.token, body };
}

Deno.test("registry auth: token flow and scopes", async () => {
  const pw = await htpasswd();
  const reg = await startTestRegistry({ auth: "token", htpasswd: pw });
  try {
    const u = reg.url;
    // Unauthenticated: a Bearer challenge naming realm, service and scope.
    const r0 = await status(`${u}/v2/a/b/manifests/1`, "GET");
    assertEquals(r0.status, 401);
    const c = parseChallenge(r0.headers.get("www-authenticate"))!;
    assertEquals(c.scheme, "bearer");
    assertEquals(c.params.realm, `${u}/token`);
    assertEquals(c.params.service, "berth-registry");
    assertEquals(c.params.scope, "repository:a/b:pull");
    const ping = parseChallenge((await status(`${u}/v2/`, "GET")).headers.get("www-authenticate"))!;
    assertEquals([ping.scheme, ping.params.scope], ["bearer", undefined]);

    // The realm: wrong password refused; response fields per the token spec.
    assertEquals((await token(u, ["repository:a/b:pull"], basic("alice", "bad"))).status, 401);
    const full = await token(
      u,
      ["repository:a/b:pull,push,delete", "registry:catalog:*"],
      basic("alice", "pw"),
    );
    assertEquals(full.status, 200);
    assertEquals(full.body!.access_token, full.token);
    assertEquals(full.body!.expires_in, 300);
    assert(!Number.isNaN(Date.parse(full.body!.issued_at as string)));
    const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

    // Seed the repository with the full token.
    const origFetch = globalThis.fetch;
    globalThis.fetch = (input, init) =>
      origFetch(input, {
        ...init,
        headers: { ...init?.headers as Record<string, string>, ...bearer(full.token!) },
      });
    let img;
    try {
      img = await pushRandomImage(u, "a/b", "1");
    } finally {
      globalThis.fetch = origFetch;
    }
    const up = await status(`${u}/v2/a/b/blobs/uploads/`, "POST", bearer(full.token!));
    assertEquals(up.status, 202);
    const uuid = up.headers.get("location")!.split("/").pop()!;

    // Anonymous tokens carry no access; a token for another repository is out of scope.
    const anon = await token(u, ["repository:a/b:pull"]);
    assertEquals(anon.status, 200);
    const other = await token(
      u,
      ["repository:c/d:pull,push,delete", "registry:catalog:*"],
      basic("alice", "pw"),
    );
    const tampered = full.token!.slice(0, -4) + (full.token!.endsWith("AAAA") ? "BBBB" : "AAAA");
    for (const [m, p] of routes(img.layer, img.digest, uuid)) {
      const bad: Record<string, string>[] = [{}, bearer(anon.token!), bearer(tampered), {
        Authorization: basic("alice", "pw"),
      }];
      if (p !== "/v2/" && p !== "/v2/_catalog") bad.push(bearer(other.token!));
      for (const h of bad) {
        const r = await status(`${u}${p}`, m, h);
        assertEquals(r.status, 401, `${m} ${p} ${JSON.stringify(h).slice(0, 30)}`);
        assert(r.headers.get("www-authenticate")?.startsWith("Bearer "));
      }
    }
    // A pull-only token cannot push or delete; the challenge says insufficient_scope.
    const pullOnly = await token(u, ["repository:a/b:pull"], basic("bob", "bobpw"));
    assertEquals(
      (await status(`${u}/v2/a/b/manifests/1`, "GET", bearer(pullOnly.token!))).status,
      200,
    );
    const denied = await status(`${u}/v2/a/b/blobs/uploads/`, "POST", bearer(pullOnly.token!));
    assertEquals(denied.status, 401);
    const dc = parseChallenge(denied.headers.get("www-authenticate"))!;
    assertEquals([dc.params.scope, dc.params.error], [
      "repository:a/b:pull,push",
      "insufficient_scope",
    ]);
    assertEquals(
      (await status(`${u}/v2/a/b/manifests/1`, "DELETE", bearer(pullOnly.token!))).status,
      401,
    );
    // Mounting from a repository the token cannot pull falls back to an upload session.
    const cd = await token(u, ["repository:c/d:pull,push"], basic("alice", "pw"));
    const mount = await status(
      `${u}/v2/c/d/blobs/uploads/?mount=${img.layer}&from=a/b`,
      "POST",
      bearer(cd.token!),
    );
    assertEquals(mount.status, 202);
    // With the right token everything works.
    assertEquals((await status(`${u}/v2/_catalog`, "GET", bearer(full.token!))).status, 200);
    assertEquals((await status(`${u}/v2/a/b/tags/list`, "GET", bearer(full.token!))).status, 200);

    // OAuth2 form: password grant with offline token, then refresh_token grant.
    const pwForm = new URLSearchParams({
      grant_type: "password",
      username: "alice",
      password: "pw",
      service: "berth-registry",
      scope: "repository:a/b:pull",
      access_type: "offline",
      client_id: "test",
    });
    const tr = await fetch(`${u}/token`, { method: "POST", body: pwForm });
    const tj = await tr.json();
    assert(tj.access_token && tj.refresh_token);
    const rf = await fetch(`${u}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tj.refresh_token,
        service: "berth-registry",
        scope: "repository:a/b:pull",
      }),
    });
    const rj = await rf.json();
    assertEquals(
      (await status(`${u}/v2/a/b/manifests/1`, "GET", bearer(rj.access_token))).status,
      200,
    );
    // A refresh token is not an access token.
    assertEquals(
      (await status(`${u}/v2/a/b/manifests/1`, "GET", bearer(tj.refresh_token))).status,
      401,
    );
    const badPw = await fetch(`${u}/token`, {
      method: "POST",
      body: new URLSearchParams({ ...Object.fromEntries(pwForm), password: "x" }),
    });
    await badPw.body?.cancel();
    assertEquals(badPw.status, 401);
  } finally {
    await reg.close();
    await Deno.remove(pw);
  }
});
