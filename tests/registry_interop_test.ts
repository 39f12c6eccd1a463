/**
 * Interop with the outside world, all on loopback:
 * - skopeo copies a busybox image (built offline from busybox-static) into
 *   `berth registry` (started through main.ts), reads it back, digests equal;
 * - berth's client pushes to CNCF Distribution (apt docker-registry), skopeo
 *   inspect there agrees, and berth pulls it back;
 * - `berth registry --proxy-remote` in front of Distribution.
 */
import { binaryMissing, skipUnless } from "../core/testing/host.ts";
import bcrypt from "bcryptjs";
import { assert, assertEquals } from "../core/testing/assert.ts";
import { MemoryStore, pull, push, RegistryClient } from "../core/distribution/mod.ts";
import {
  digestOf,
  freePort,
  haveDistribution,
  makeImage,
  startDistribution,
  startTestRegistry,
} from "../modes/registry/testutil.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}${text}`);
  }
  return text;
}

/** `berth registry` as its own process, through main.ts. */
async function spawnRegistry(root: string): Promise<{ host: string; close(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "registry",
      "--addr",
      `127.0.0.1:${port}`,
      "--root",
      root,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  assert(value?.includes(`listening on http://127.0.0.1:${port}`), value);
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return {
    host: `127.0.0.1:${port}`,
    async close() {
      child.kill("SIGTERM");
      assertEquals((await child.status).code, 0);
    },
  };
}

Deno.test({
  name: "interop: skopeo copies busybox into berth registry and back",
  ignore: skipUnless(
    "interop: skopeo copies busybox into berth registry and back",
    binaryMissing("skopeo"),
  ),
  async fn() {
    const fx = await busyboxArchive();
    const root = await Deno.makeTempDir({ prefix: "berth-reg-interop-" });
    const out = await Deno.makeTempDir({ prefix: "berth-oci-out-" });
    const layout = await Deno.makeTempDir({ prefix: "berth-oci-in-" });
    await run("tar", ["-xf", fx.path, "-C", layout]);
    const reg = await spawnRegistry(root);
    try {
      const dest = `docker://${reg.host}/x/busybox:1`;
      await run("skopeo", [
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        `oci:${layout}`,
        dest,
      ]);
      const raw = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", dest]);
      const info = JSON.parse(await run("skopeo", ["inspect", "--tls-verify=false", dest]));
      assertEquals(digestOf(raw), fx.manifestDigest);
      assertEquals(info.Digest, fx.manifestDigest);
      assertEquals(info.Layers, [fx.layerDigest]);
      // berth's own view agrees.
      const c = new RegistryClient(reg.host);
      assertEquals((await c.headManifest("x/busybox", "1"))?.digest, fx.manifestDigest);
      c.close();
      // Read it back into an OCI layout: same blobs.
      await run("skopeo", [
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        dest,
        `oci:${out}:1`,
      ]);
      const index = JSON.parse(await Deno.readTextFile(`${out}/index.json`));
      assertEquals(index.manifests[0].digest, fx.manifestDigest);
      const layer = await Deno.readFile(`${out}/blobs/sha256/${fx.layerDigest.slice(7)}`);
      assertEquals(digestOf(layer), fx.layerDigest);
      // berth pulls what skopeo pushed.
      const sink = new MemoryStore();
      const r = await pull(`${reg.host}/x/busybox:1`, { sink });
      assertEquals([r.manifestDigest, r.configDigest], [fx.manifestDigest, fx.configDigest]);
      assert(sink.blobs.has(fx.layerDigest));
      // skopeo delete and list-tags.
      await run("skopeo", [
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        dest,
        `docker://${reg.host}/y/bb:2`,
      ]);
      const tags = JSON.parse(
        await run("skopeo", ["list-tags", "--tls-verify=false", `docker://${reg.host}/y/bb`]),
      );
      assertEquals(tags.Tags, ["2"]);
      await run("skopeo", ["delete", "--tls-verify=false", `docker://${reg.host}/y/bb:2`]);
    } finally {
      await reg.close();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(out, { recursive: true });
      await Deno.remove(layout, { recursive: true });
    }
  },
});

Deno.test({
  name: "interop: berth client pushes to and pulls from CNCF Distribution",
  ignore: skipUnless(
    "interop: berth client pushes to and pulls from CNCF Distribution",
    binaryMissing("skopeo") ??
      ((await haveDistribution())
        ? undefined
        : "CNCF Distribution (docker-registry) not installed"),
  ),
  async fn() {
    const dist = await startDistribution();
    try {
      const src = new MemoryStore();
      // A real busybox image, plus one with a large layer (chunked upload).
      const fx = await busyboxArchive();
      const layer = await Deno.readFile(fx.layerPath);
      src.put(layer);
      const tar = new MemoryStore();
      const fxRoot = await Deno.makeTempDir();
      try {
        await run("tar", ["-xf", fx.path, "-C", fxRoot]);
        for await (const e of Deno.readDir(`${fxRoot}/blobs/sha256`)) {
          tar.put(await Deno.readFile(`${fxRoot}/blobs/sha256/${e.name}`));
        }
      } finally {
        await Deno.remove(fxRoot, { recursive: true });
      }
      const pushed = await push(`${dist.host}/lib/busybox:1`, {
        source: tar,
        manifestDigest: fx.manifestDigest,
      });
      assertEquals(pushed.digest, fx.manifestDigest);
      const info = JSON.parse(
        await run("skopeo", [
          "inspect",
          "--tls-verify=false",
          `docker://${dist.host}/lib/busybox:1`,
        ]),
      );
      assertEquals(info.Digest, fx.manifestDigest);
      const raw = await run("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${dist.host}/lib/busybox:1`,
      ]);
      assertEquals(digestOf(raw), fx.manifestDigest);

      const big = makeImage(src, { layers: [40 << 20, 100], docker: true });
      await push(`${dist.host}/lib/big:1`, {
        source: src,
        manifestDigest: big.manifestDigest,
        chunkSize: 16 << 20,
      });
      const bigInfo = JSON.parse(
        await run("skopeo", ["inspect", "--tls-verify=false", `docker://${dist.host}/lib/big:1`]),
      );
      assertEquals(bigInfo.Digest, big.manifestDigest);
      // Mount across repositories on Distribution.
      const events: string[] = [];
      await push(`${dist.host}/other/big:1`, {
        source: src,
        manifestDigest: big.manifestDigest,
        mountFrom: () => ["lib/big"],
        onProgress: (e) => events.push(e.status),
      });
      assert(events.includes("Mounted from lib/big"), events.join(","));

      for (
        const [ref, want] of [["lib/busybox:1", fx.manifestDigest], [
          "lib/big:1",
          big.manifestDigest,
        ]]
      ) {
        const sink = new MemoryStore();
        const r = await pull(`${dist.host}/${ref}`, { sink });
        assertEquals(r.manifestDigest, want);
      }

      // berth registry as a pull-through cache of Distribution.
      const proxy = await startTestRegistry({ proxyRemote: dist.url });
      try {
        const r = await pull(`${proxy.host}/lib/busybox:1`, { sink: new MemoryStore() });
        assertEquals(r.configDigest, fx.configDigest);
        const info2 = JSON.parse(
          await run("skopeo", [
            "inspect",
            "--tls-verify=false",
            `docker://${proxy.host}/lib/busybox:1`,
          ]),
        );
        assertEquals(info2.Digest, fx.manifestDigest);
      } finally {
        await proxy.close();
      }
    } finally {
      await dist.close();
    }
  },
});

Deno.test({
  name: "interop: skopeo through basic and token auth",
  ignore: skipUnless("interop: skopeo through basic and token auth", binaryMissing("skopeo")),
  async fn() {
    const fx = await busyboxArchive();
    const layout = await Deno.makeTempDir({ prefix: "berth-oci-in-" });
    const pw = await Deno.makeTempFile();
    await Deno.writeTextFile(pw, `alice:${bcrypt.hashSync("pw", 4)}\n`);
    try {
      await run("tar", ["-xf", fx.path, "-C", layout]);
      for (const auth of ["basic", "token"] as const) {
        const reg = await startTestRegistry({ auth, htpasswd: pw });
        try {
          const dest = `docker://${reg.host}/auth/busybox:1`;
          let refused = false;
          try {
            await run("skopeo", ["copy", "--dest-tls-verify=false", `oci:${layout}`, dest]);
          } catch {
            refused = true;
          }
          assert(refused, `${auth}: anonymous push refused`);
          await run("skopeo", [
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            "alice:pw",
            `oci:${layout}`,
            dest,
          ]);
          const info = JSON.parse(
            await run("skopeo", ["inspect", "--tls-verify=false", "--creds", "alice:pw", dest]),
          );
          assertEquals(info.Digest, fx.manifestDigest, auth);
        } finally {
          await reg.close();
        }
      }
    } finally {
      await Deno.remove(layout, { recursive: true });
      await Deno.remove(pw);
    }
  },
});
