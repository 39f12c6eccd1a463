/**
 * `berth registry --proxy-remote`: a pull-through cache of another berth
 * registry (with token auth upstream), serving from its cache when the
 * upstream is gone.
 */
import bcrypt from "bcryptjs";
import { assert, assertEquals } from "../core/testing/assert.ts";
import { MemoryStore, pull, push, RegistryClient } from "../core/distribution/mod.ts";
import { makeImage, startTestRegistry } from "../modes/registry/testutil.ts";

Deno.test("registry proxy: pull-through cache", async () => {
  const pw = await Deno.makeTempFile();
  await Deno.writeTextFile(pw, `up:${bcrypt.hashSync("uppw", 4)}\n`);
  const upstream = await startTestRegistry({ auth: "token", htpasswd: pw });
  const proxyRoot = await Deno.makeTempDir();
  let proxy = await startTestRegistry({
    root: proxyRoot,
    proxyRemote: upstream.url,
    proxyUsername: "up",
    proxyPassword: "uppw",
  });
  let upstreamClosed = false;
  try {
    const src = new MemoryStore();
    const img = makeImage(src, { layers: [2000, 1 << 20] });
    const creds = { username: "up", password: "uppw" };
    await push(`${upstream.host}/lib/app:1`, {
      source: src,
      manifestDigest: img.manifestDigest,
      auth: creds,
    });

    const r = await pull(`${proxy.host}/lib/app:1`, { sink: new MemoryStore() });
    assertEquals(r.manifestDigest, img.manifestDigest);
    const c = new RegistryClient(proxy.host);
    assertEquals(await c.listTags("lib/app"), ["1"]);
    c.close();
    // Pushes are refused by a cache.
    await assertPushRefused(proxy.host, src, img.manifestDigest);

    // Upstream moves the tag: the proxy follows.
    const img2 = makeImage(src, { layers: [3000] });
    await push(`${upstream.host}/lib/app:1`, {
      source: src,
      manifestDigest: img2.manifestDigest,
      auth: creds,
    });
    const r2 = await pull(`${proxy.host}/lib/app:1`, { sink: new MemoryStore() });
    assertEquals(r2.manifestDigest, img2.manifestDigest);

    // Upstream gone: the cache still serves what it has.
    await upstream.close();
    upstreamClosed = true;
    await proxy.close();
    proxy = await startTestRegistry({ root: proxyRoot, proxyRemote: upstream.url });
    const r3 = await pull(`${proxy.host}/lib/app:1`, { sink: new MemoryStore() });
    assertEquals(r3.manifestDigest, img2.manifestDigest);
    const r4 = await pull(`${proxy.host}/lib/app@${img.manifestDigest}`, {
      sink: new MemoryStore(),
    });
    assertEquals(r4.configDigest, img.configDigest);
  } finally {
    await proxy.close();
    if (!upstreamClosed) await upstream.close();
    await Deno.remove(proxyRoot, { recursive: true });
    await Deno.remove(pw);
  }
});

async function assertPushRefused(host: string, src: MemoryStore, digest: string) {
  let msg = "";
  try {
    await push(`${host}/lib/app:2`, { source: src, manifestDigest: digest });
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes("unsupported"), msg);
}
