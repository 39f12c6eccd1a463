/**
 * core/distribution (pull, push, login, client) against `berth registry` on
 * loopback, with an in-memory store on the local side.
 */
import bcrypt from "bcryptjs";
import { assert, assertEquals, assertRejects } from "../core/testing/assert.ts";
import { NotFound, Unauthorized } from "../core/errdefs/mod.ts";
import {
  getCredentials,
  login,
  MemoryStore,
  type ProgressEvent,
  pull,
  push,
  RegistryClient,
} from "../core/distribution/mod.ts";
import { makeImage, makeIndex, startTestRegistry } from "../modes/registry/testutil.ts";

async function htpasswdFile(users: Record<string, string>): Promise<string> {
  const f = await Deno.makeTempFile({ prefix: "berth-htpasswd-" });
  await Deno.writeTextFile(
    f,
    Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 4)}`).join("\n") + "\n",
  );
  return f;
}

function statuses(events: ProgressEvent[], id?: string): string[] {
  return events.filter((e) => id === undefined || e.id === id).map((e) => e.status);
}

Deno.test("client: push then pull round-trips an image (chunked large layer, progress)", async () => {
  const reg = await startTestRegistry();
  try {
    const src = new MemoryStore();
    const img = makeImage(src, { layers: [3000, 40 << 20, 10] });
    const events: ProgressEvent[] = [];
    const pushed = await push(`${reg.host}/round/trip:v1`, {
      source: src,
      manifestDigest: img.manifestDigest,
      onProgress: (e) => events.push(e),
      chunkSize: 16 << 20,
    });
    assertEquals(pushed.digest, img.manifestDigest);
    const big = img.layerDigests[1].slice(7, 19);
    const bigStatus = statuses(events, big);
    assertEquals(bigStatus[0], "Preparing");
    assert(bigStatus.includes("Pushing"));
    assertEquals(bigStatus.at(-1), "Pushed");

    const sink = new MemoryStore();
    const pe: ProgressEvent[] = [];
    const r = await pull(`${reg.host}/round/trip:v1`, { sink, onProgress: (e) => pe.push(e) });
    assertEquals(r.manifestDigest, img.manifestDigest);
    assertEquals(r.digest, img.manifestDigest);
    assertEquals(r.configDigest, img.configDigest);
    assertEquals(r.config.architecture, "amd64");
    for (const d of [...img.layerDigests, img.configDigest, img.manifestDigest]) {
      assertEquals(sink.blobs.get(d), src.blobs.get(d));
    }
    assertEquals(pe[0], { status: "Pulling from round/trip", id: "v1" });
    const s = statuses(pe, big);
    assertEquals(s[0], "Pulling fs layer");
    assert(s.includes("Downloading"));
    assertEquals(s.slice(-3), ["Verifying Checksum", "Download complete", "Pull complete"]);
    assertEquals(pe.at(-1), { status: `Digest: ${img.manifestDigest}` });

    // Pull again: every layer is already there; only the manifest is re-ingested.
    const again: ProgressEvent[] = [];
    await pull(`${reg.host}/round/trip@${img.manifestDigest}`, {
      sink,
      onProgress: (e) => again.push(e),
    });
    assertEquals(statuses(again, big), ["Already exists"]);

    // Cross-repository mount on a second push.
    const ev2: ProgressEvent[] = [];
    await push(`${reg.host}/other/repo:v1`, {
      source: src,
      manifestDigest: img.manifestDigest,
      onProgress: (e) => ev2.push(e),
      mountFrom: () => ["round/trip"],
    });
    assertEquals(statuses(ev2, big).at(-1), "Mounted from round/trip");
    // And a third push: blobs are there.
    const ev3: ProgressEvent[] = [];
    await push(`${reg.host}/other/repo:v2`, {
      source: src,
      manifestDigest: img.manifestDigest,
      onProgress: (e) => ev3.push(e),
    });
    assertEquals(statuses(ev3, big).at(-1), "Layer already exists");

    const c = new RegistryClient(reg.host);
    assertEquals(await c.listTags("other/repo"), ["v1", "v2"]);
    assertEquals(await c.catalog(), ["other/repo", "round/trip"]);
    c.close();
  } finally {
    await reg.close();
  }
});

Deno.test("client: index platform selection, unpack hook order, missing platform", async () => {
  const reg = await startTestRegistry();
  try {
    const src = new MemoryStore();
    const amd = makeImage(src, { layers: [100, 200, 300] });
    const arm = makeImage(src, { layers: [400], architecture: "arm64", variant: "v8" });
    const armv6 = makeImage(src, { layers: [500], architecture: "arm", variant: "v6" });
    const size = (d: string) => src.blobs.get(d)!.length;
    const idx = makeIndex(src, [
      {
        digest: amd.manifestDigest,
        size: size(amd.manifestDigest),
        platform: { os: "linux", architecture: "amd64" },
      },
      {
        digest: arm.manifestDigest,
        size: size(arm.manifestDigest),
        platform: { os: "linux", architecture: "arm64", variant: "v8" },
      },
      {
        digest: armv6.manifestDigest,
        size: size(armv6.manifestDigest),
        platform: { os: "linux", architecture: "arm", variant: "v6" },
      },
    ]);
    const pushed = await push(`${reg.host}/multi:1`, { source: src, manifestDigest: idx });
    assertEquals(pushed.digest, idx);

    const sink = new MemoryStore();
    const order: number[] = [];
    const r = await pull(`${reg.host}/multi:1`, {
      sink,
      concurrency: 2,
      unpack: async (_l, i) => {
        await new Promise((res) => setTimeout(res, 5 * (3 - i)));
        order.push(i);
      },
    });
    assertEquals(r.manifestDigest, amd.manifestDigest);
    assertEquals(r.indexDigest, idx);
    assertEquals(r.digest, idx);
    assertEquals(order, [0, 1, 2]);
    assert(sink.blobs.has(idx) && !sink.blobs.has(arm.layerDigests[0]));

    const r2 = await pull(`${reg.host}/multi:1`, {
      sink: new MemoryStore(),
      platform: "linux/arm64",
    });
    assertEquals(r2.manifestDigest, arm.manifestDigest);
    const r3 = await pull(`${reg.host}/multi:1`, {
      sink: new MemoryStore(),
      platform: "linux/arm/v7",
    });
    assertEquals(r3.manifestDigest, armv6.manifestDigest);
    await assertRejects(
      () => pull(`${reg.host}/multi:1`, { sink: new MemoryStore(), platform: "linux/s390x" }),
      NotFound,
      "no matching manifest for linux/s390x",
    );
    await assertRejects(
      () => pull(`${reg.host}/multi:nope`, { sink: new MemoryStore() }),
      NotFound,
      "manifest unknown",
    );
  } finally {
    await reg.close();
  }
});

Deno.test("client: corrupted blob on the server is refused and nothing is stored", async () => {
  const reg = await startTestRegistry();
  try {
    const src = new MemoryStore();
    const img = makeImage(src, { layers: [5000] });
    await push(`${reg.host}/bad:1`, { source: src, manifestDigest: img.manifestDigest });
    const hex = img.layerDigests[0].slice(7);
    const path = `${reg.root}/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
    const data = await Deno.readFile(path);
    data[10] ^= 0xff;
    await Deno.writeFile(path, data);
    const sink = new MemoryStore();
    await assertRejects(() => pull(`${reg.host}/bad:1`, { sink }), Error, "digest mismatch");
    assert(!sink.blobs.has(img.layerDigests[0]));
    assert(!sink.blobs.has(img.manifestDigest));
  } finally {
    await reg.close();
  }
});

Deno.test("client: basic and token auth, login, credentials file", async () => {
  const pw = await htpasswdFile({ alice: "s3cret" });
  const cfgDir = await Deno.makeTempDir();
  for (const auth of ["basic", "token"] as const) {
    const reg = await startTestRegistry({ auth, htpasswd: pw });
    try {
      const src = new MemoryStore();
      const img = makeImage(src, { layers: [100] });
      await assertRejects(
        () => push(`${reg.host}/priv:1`, { source: src, manifestDigest: img.manifestDigest }),
        Unauthorized,
      );
      await assertRejects(
        () => login(reg.host, { username: "alice", password: "wrong" }),
        Unauthorized,
      );
      await login(reg.host, { username: "alice", password: "s3cret" }, {
        save: true,
        configDir: cfgDir,
      });
      const creds = await getCredentials(reg.host, { configDir: cfgDir });
      assertEquals(creds, { username: "alice", password: "s3cret" });
      await push(`${reg.host}/priv:1`, {
        source: src,
        manifestDigest: img.manifestDigest,
        auth: creds,
      });
      const r = await pull(`${reg.host}/priv:1`, { sink: new MemoryStore(), auth: creds });
      assertEquals(r.manifestDigest, img.manifestDigest);
      await assertRejects(
        () => pull(`${reg.host}/priv:1`, { sink: new MemoryStore() }),
        Unauthorized,
      );
    } finally {
      await reg.close();
    }
  }
  await Deno.remove(pw);
  await Deno.remove(cfgDir, { recursive: true });
});

Deno.test("client: interrupted blob download resumes with Range", async () => {
  const blob = new Uint8Array(300_000).map((_, i) => i % 251);
  const { createHash } = await import("node:crypto");
  const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
  let cut = true;
  const ranges: (string | null)[] = [];
  const ac = new AbortController();
  const srv = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    (req) => {
      const u = new URL(req.url);
      if (u.pathname === "/v2/") return new Response("{}");
      ranges.push(req.headers.get("range"));
      const m = /bytes=(\d+)-/.exec(req.headers.get("range") ?? "");
      const start = m ? Number(m[1]) : 0;
      const part = blob.subarray(start);
      const body = new ReadableStream<Uint8Array>({
        start(ctl) {
          if (cut) {
            cut = false;
            ctl.enqueue(part.slice(0, 100_000));
            setTimeout(() => ctl.error(new Error("connection lost")), 100);
          } else {
            ctl.enqueue(part.slice());
            ctl.close();
          }
        },
      });
      return new Response(body, {
        status: m ? 206 : 200,
        headers: { "content-length": String(part.length) },
      });
    },
  );
  try {
    const c = new RegistryClient(`127.0.0.1:${srv.addr.port}`);
    const { body } = await c.getBlob("x/y", digest, { size: blob.length });
    const got = new Uint8Array(await new Response(body).arrayBuffer());
    assertEquals(got.length, blob.length);
    assertEquals(got, blob);
    assertEquals(ranges[0], null);
    assert(ranges[1]?.startsWith("bytes="), `resumed with ${ranges[1]}`);
    c.close();
  } finally {
    ac.abort();
    await srv.finished;
  }
});
