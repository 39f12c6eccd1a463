/**
 * Interop and crash safety of the image store: real Docker 20.10 (apt
 * docker.io) and skopeo read what berth saves and berth loads what Docker
 * saves, with equal digests; a daemon SIGKILLed in the middle of a load
 * restarts onto a consistent store.
 */
import { skipUnless } from "../core/testing/host.ts";
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive, randomArchive } from "./fixtures/busybox.ts";
import { run, startDaemon } from "./fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "./fixtures/dockerd.ts";
import { ContentStore } from "../core/store/content.ts";

Deno.test({
  name: "interop: Docker 20.10 loads berth's save and berth loads Docker's save, same IDs",
  ignore: skipUnless(
    "interop: Docker 20.10 loads berth's save",
    (await dockerdAvailable()) ? undefined : "dockerd (docker.io) not installed",
  ),
  async fn() {
    const img = await busyboxArchive();
    const d = await startDaemon();
    const dk = await startDockerd();
    try {
      assertEquals((await d.berth(["load", "-i", img.path])).code, 0);
      assertEquals((await d.berth(["tag", "busybox", "berth/saved:1"])).code, 0);
      const berthTar = `${d.base}/berth.tar`;
      assertEquals((await d.berth(["save", "-o", berthTar, "berth/saved:1"])).code, 0);

      let r = await dk.docker(["load", "-i", berthTar]);
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(r.stdout, "Loaded image: berth/saved:1");
      r = await dk.docker([
        "image",
        "inspect",
        "-f",
        "{{.Id}} {{json .RootFS.Layers}}",
        "berth/saved:1",
      ]);
      assertEquals(r.stdout.trim(), `${img.configDigest} ["${img.layerDigest}"]`);

      // Docker 20.10's own archive format (legacy layout) into berth.
      assertEquals((await dk.docker(["tag", "berth/saved:1", "from/docker:2"])).code, 0);
      const dockerTar = `${d.base}/docker.tar`;
      r = await dk.docker(["save", "-o", dockerTar, "from/docker:2"]);
      assertEquals(r.code, 0, r.stderr);
      r = await d.berth(["load", "-i", dockerTar]);
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(r.stdout, "Loaded image: from/docker:2");
      r = await d.berth(["image", "inspect", "-f", "{{.Id}}", "from/docker:2"]);
      assertEquals(r.stdout.trim(), img.configDigest);
    } finally {
      await dk.stop();
      await d.stop();
    }
  },
});

Deno.test("interop: skopeo reads berth save as docker-archive and oci-archive with equal digests", async () => {
  const img = await busyboxArchive();
  const d = await startDaemon();
  try {
    assertEquals((await d.berth(["load", "-i", img.path])).code, 0);
    const tar = `${d.base}/s.tar`;
    assertEquals((await d.berth(["save", "-o", tar, "busybox"])).code, 0);
    const manifestDigest =
      (await d.berth(["image", "inspect", "-f", "{{.Descriptor.digest}}", "busybox"])).stdout
        .trim();
    let r = await run(["skopeo", "inspect", "--raw", `oci-archive:${tar}:latest`]);
    assertEquals(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assertEquals(m.config.digest, img.configDigest);
    r = await run(["skopeo", "inspect", `oci-archive:${tar}:latest`]);
    assertEquals(JSON.parse(r.stdout).Digest, manifestDigest);
    r = await run(["skopeo", "inspect", "--config", `docker-archive:${tar}`]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(JSON.parse(r.stdout).rootfs.diff_ids, [img.layerDigest]);
    // And skopeo's own docker-archive loads into berth.
    const sk = `${d.base}/sk.tar`;
    r = await run([
      "skopeo",
      "copy",
      `oci-archive:${tar}:latest`,
      `docker-archive:${sk}:sk/copy:3`,
    ]);
    assertEquals(r.code, 0, r.stderr);
    r = await d.berth(["load", "-i", sk]);
    assertStringIncludes(r.stdout, "Loaded image: sk/copy:3");
    r = await d.berth(["image", "inspect", "-f", "{{.Id}}", "sk/copy:3"]);
    assertEquals(r.stdout.trim(), img.configDigest);
  } finally {
    await d.stop();
  }
});

Deno.test("interop: save of a Docker schema2 image lists OCI media types; skopeo, load and docker load keep the ID", async () => {
  const img = await busyboxArchive();
  const d = await startDaemon();
  try {
    // skopeo's docker-archive (manifest.json only) loads as a Docker schema2 image.
    const dock = `${d.base}/dock.tar`;
    let r = await run([
      "skopeo",
      "copy",
      `oci-archive:${img.path}:latest`,
      `docker-archive:${dock}:s2/img:1`,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals((await d.berth(["load", "-i", dock])).code, 0);
    r = await d.berth(["image", "inspect", "-f", "{{.Id}} {{.Descriptor.mediaType}}", "s2/img:1"]);
    assertEquals(
      r.stdout.trim(),
      `${img.configDigest} application/vnd.docker.distribution.manifest.v2+json`,
    );
    const tar = `${d.base}/s.tar`;
    assertEquals((await d.berth(["save", "-o", tar, "s2/img:1"])).code, 0);
    r = await run(["skopeo", "inspect", "--raw", `oci-archive:${tar}:1`]);
    assertEquals(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assertEquals(m.mediaType, "application/vnd.oci.image.manifest.v1+json");
    assertEquals(m.config.mediaType, "application/vnd.oci.image.config.v1+json");
    assertEquals(m.config.digest, img.configDigest);
    assertEquals(m.layers.map((l: { mediaType: string }) => l.mediaType), [
      "application/vnd.oci.image.layer.v1.tar",
    ]);
    // skopeo copies it without converting: the config (the image ID) is the same bytes.
    const dir = `${d.base}/ocidir`;
    r = await run(["skopeo", "copy", `oci-archive:${tar}:1`, `oci:${dir}:x`]);
    assertEquals(r.code, 0, r.stderr);
    const idx = JSON.parse(await Deno.readTextFile(`${dir}/index.json`));
    const copied = JSON.parse(
      await Deno.readTextFile(`${dir}/blobs/sha256/${idx.manifests[0].digest.slice(7)}`),
    );
    assertEquals(copied.config.digest, img.configDigest);
    // berth load and the docker CLI's load (against berth) keep the ID.
    for (const load of [d.berth, d.docker]) {
      assertEquals((await d.berth(["rmi", "s2/img:1"])).code, 0);
      r = await load(["load", "-i", tar]);
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(r.stdout, "Loaded image: s2/img:1");
      r = await d.berth(["image", "inspect", "-f", "{{.Id}}", "s2/img:1"]);
      assertEquals(r.stdout.trim(), img.configDigest);
    }
  } finally {
    await d.stop();
  }
});

Deno.test("crash: SIGKILL during load leaves a consistent store", async () => {
  const big = await randomArchive(64);
  const d = await startDaemon();
  try {
    // Kill once while the blob is being ingested, once while the layer is unpacked.
    const phases: Array<[string, () => boolean]> = [
      [
        "ingest",
        () =>
          [...Deno.readDirSync(`${d.root}/ingest`)].some((e) =>
            Deno.statSync(`${d.root}/ingest/${e.name}`).size > 0
          ),
      ],
      [
        "unpack",
        () => [...Deno.readDirSync(`${d.root}/layers`)].some((e) => e.name.startsWith(".tmp")),
      ],
    ];
    for (const [phase, reached] of phases) {
      const load = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          "--no-check",
          `${new URL("../main.ts", import.meta.url).pathname}`,
          "-H",
          d.host,
          "load",
          "-i",
          big.path,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const until = Date.now() + 20000;
      while (!reached()) {
        assert(Date.now() < until, `load never reached the ${phase} phase`);
        await new Promise((r) => setTimeout(r, 2));
      }
      await d.kill9();
      await load.status;
      await d.restart();
      const r = await d.berth(["images", "--format", "{{.ID}}"]);
      assertEquals(r.code, 0, r.stderr);
      // No half image: either absent, or present with every layer unpacked.
      const cs = new ContentStore(d.root);
      assertEquals(await cs.verify(), []);
      assertEquals([...Deno.readDirSync(`${d.root}/ingest`)].length, 0);
      const stray = [...Deno.readDirSync(`${d.root}/layers`)].filter((e) =>
        e.name.startsWith(".tmp")
      );
      assertEquals(stray, []);
    }
    const r = await d.berth(["load", "-i", big.path]);
    assertEquals(r.code, 0, r.stderr);
    const ins = await d.berth(["image", "inspect", "-f", "{{.Id}}", big.ref]);
    assertEquals(ins.stdout.trim(), big.configDigest);
    assert(
      (await Deno.stat(`${d.root}/layers/${big.layerDigest.slice(7)}/diff/data/random.bin`))
        .size === 64 << 20,
    );
  } finally {
    await d.stop();
  }
});
