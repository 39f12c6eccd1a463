import http from "node:http";
import type { AddressInfo } from "node:net";
import { assert, assertEquals } from "../../core/testing/assert.ts";
import { isHeavy, MemoryKeeper } from "./memory.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("isHeavy: load, pull/import, save, push, build, commit, export", () => {
  for (
    const u of [
      "http://localhost/v1.47/images/load?quiet=1",
      "/images/create?fromImage=busybox&tag=latest",
      "/v1.41/images/get?names=a",
      "/images/reg.example:5000/a/b:1/push",
      "/images/a/b/get",
      "/build?t=x",
      "/commit?container=abc",
      "/containers/abc/export",
      "/containers/abc/archive?path=/etc",
    ]
  ) assert(isHeavy(u), u);
  for (
    const u of [
      undefined,
      "/_ping",
      "/images/json",
      "/v1.47/images/busybox/json",
      "/containers/create",
      "/containers/abc/start",
      "/containers/json?all=1",
    ]
  ) assert(!isHeavy(u), String(u));
});

Deno.test("MemoryKeeper: collects after a quiet period, not during activity", async () => {
  const k = new MemoryKeeper({ idleMs: 200, heavyMs: 5 });
  try {
    for (let i = 0; i < 5; i++) {
      k.begin();
      await sleep(20);
      k.end();
    }
    assertEquals(k.collections, 0);
    await sleep(400);
    assertEquals(k.collections, 1);
    await sleep(300);
    assertEquals(k.collections, 1, "nothing happened: no second collection");
  } finally {
    k.close();
  }
});

Deno.test("MemoryKeeper: right after heavy requests, even while others go on", async () => {
  const k = new MemoryKeeper({ idleMs: 10_000, heavyMs: 5 });
  try {
    k.begin(true);
    k.begin(true);
    k.end(true);
    await sleep(30);
    assertEquals(k.collections, 0, "one heavy request is still running");
    k.end(true);
    for (let i = 0; i < 4; i++) {
      k.begin();
      await sleep(10);
      k.end();
    }
    assertEquals(k.collections, 1);
  } finally {
    k.close();
  }
});

Deno.test("MemoryKeeper: never quiet for long → collects anyway after maxDirtyMs", async () => {
  const k = new MemoryKeeper({ idleMs: 10_000, heavyMs: 5, maxDirtyMs: 40 });
  try {
    for (let i = 0; i < 12; i++) {
      k.begin();
      await sleep(10);
      k.end();
    }
    assert(k.collections >= 1, `collections: ${k.collections}`);
  } finally {
    k.close();
  }
});

Deno.test("MemoryKeeper.watch follows a node:http server's requests", async () => {
  const k = new MemoryKeeper({ idleMs: 30, heavyMs: 5 });
  const server = http.createServer((req, res) => {
    setTimeout(() => res.end(req.url), req.url === "/images/load" ? 300 : 0);
  });
  k.watch(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { port } = server.address() as AddressInfo;
    const load = fetch(`http://127.0.0.1:${port}/images/load`).then((r) => r.text());
    await sleep(100);
    assertEquals(k.collections, 0, "the idle timer waits for the heavy request");
    assertEquals(await load, "/images/load");
    await sleep(20);
    assertEquals(k.collections, 1, "heavy request done");
    assertEquals(await (await fetch(`http://127.0.0.1:${port}/_ping`)).text(), "/_ping");
    await sleep(100);
    assertEquals(k.collections, 2, "quiet after an ordinary request");
  } finally {
    k.close();
    await new Promise((r) => server.close(r));
  }
});
