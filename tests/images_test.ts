/**
 * End-to-end: the image store through the real daemon, driven by the berth
 * client and the stock docker CLI.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { run, startDaemon } from "./fixtures/daemon.ts";

Deno.test("images: load, list, inspect, tag, rmi through the berth client", async () => {
  const img = await busyboxArchive();
  const d = await startDaemon();
  try {
    let r = await d.berth(["load", "-i", img.path]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "Loaded image: busybox:latest");

    r = await d.berth(["images"]);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assertMatch(lines[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assertMatch(
      lines[1],
      new RegExp(`^busybox\\s+latest\\s+${img.configDigest.slice(7, 19)}\\s+\\d+ \\w+ ago\\s+\\d`),
    );

    r = await d.berth([
      "image",
      "inspect",
      "--format",
      "{{.Id}} {{.Os}} {{json .Config.Cmd}}",
      "busybox",
    ]);
    assertEquals(r.stdout.trim(), `${img.configDigest} linux ["sh"]`);

    assertEquals((await d.berth(["tag", "busybox", "localhost:5000/x/y:2"])).code, 0);
    r = await d.berth(["images", "-q"]);
    assertEquals(r.stdout.trim(), img.configDigest.slice(7, 19));
    r = await d.berth(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assertEquals(r.stdout.trim().split("\n").sort(), ["busybox:latest", "localhost:5000/x/y:2"]);

    // By ID with two tags: refused without force.
    r = await d.berth(["rmi", img.configDigest.slice(7, 19)]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "must be forced");
    r = await d.berth(["rmi", "localhost:5000/x/y:2"]);
    assertEquals(r.stdout, "Untagged: localhost:5000/x/y:2\n");
    r = await d.berth(["rmi", "busybox"]);
    assertEquals(r.stdout, `Untagged: busybox:latest\nDeleted: ${img.configDigest}\n`);
    // Blobs and layers are gone with the last image.
    const blobs = [...Deno.readDirSync(`${d.root}/blobs/sha256`)];
    assertEquals(blobs.length, 0);
    const layers = [...Deno.readDirSync(`${d.root}/layers`)];
    assertEquals(layers.length, 0);

    r = await d.berth(["rmi", "nosuch"]);
    assertEquals(r.code, 1);
    assertEquals(r.stderr.trim(), "Error response from daemon: No such image: nosuch:latest");
    r = await d.berth(["images", "--bogus"]);
    assertEquals(r.code, 125);
    assertStringIncludes(r.stderr, "unknown flag: --bogus");
  } finally {
    await d.stop();
  }
});

Deno.test("images: save → load round trip keeps IDs and digests; import makes a one-layer image", async () => {
  const img = await busyboxArchive();
  const d = await startDaemon();
  try {
    assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
    const out = `${d.base}/saved.tar`;
    let r = await d.berth(["save", "-o", out, "busybox"]);
    assertEquals(r.code, 0, r.stderr);
    const names = (await run(["tar", "tf", out])).stdout.split("\n");
    for (
      const n of [
        "index.json",
        "manifest.json",
        "oci-layout",
        `blobs/sha256/${img.configDigest.slice(7)}`,
      ]
    ) {
      assert(names.includes(n), `${n} in ${names}`);
    }
    assertEquals((await d.berth(["rmi", "busybox"])).code, 0);
    r = await d.berth(["load", "-i", out]);
    assertStringIncludes(r.stdout, "Loaded image: busybox:latest");
    r = await d.berth(["image", "inspect", "-f", "{{.Id}}", "busybox"]);
    assertEquals(r.stdout.trim(), img.configDigest);

    // import: a rootfs tar from stdin, with changes.
    const tar = await Deno.readFile(img.layerPath);
    r = await d.berth(["import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV A=b", "-", "imported:1"], {
      stdin: tar,
    });
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    r = await d.berth([
      "image",
      "inspect",
      "-f",
      "{{json .RootFS.Layers}} {{json .Config.Cmd}} {{json .Config.Env}}",
      "imported:1",
    ]);
    assertEquals(r.stdout.trim(), `["${img.layerDigest}"] ["/bin/sh"] ["A=b"]`);

    // Garbage is refused with one clear line, and nothing is left behind.
    r = await d.berth(["load"], { stdin: "this is not a tar archive at all".repeat(40) });
    assertEquals(r.code, 1);
    assert(!r.stderr.includes("    at "), r.stderr);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    r = await d.berth(["images", "-q"]);
    assertEquals(r.stdout.trim().split("\n").length, 2);
  } finally {
    await d.stop();
  }
});

Deno.test("images: the stock docker CLI drives load, images, tag, inspect, save, rmi, import", async () => {
  const img = await busyboxArchive();
  const d = await startDaemon();
  try {
    let r = await d.docker(["load", "-i", img.path]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "Loaded image: busybox:latest");
    r = await d.docker(["images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"]);
    assertEquals(r.stdout.trim(), `busybox latest ${img.configDigest.slice(7, 19)}`);
    assertEquals((await d.docker(["tag", "busybox", "me/bb:v1"])).code, 0);
    r = await d.docker(["image", "inspect", "me/bb:v1", "--format", "{{.Id}}"]);
    assertEquals(r.stdout.trim(), img.configDigest);
    r = await d.docker(["inspect", "--format", "{{.Architecture}}", "me/bb:v1"]);
    assertEquals(r.stdout.trim(), "amd64");
    const out = `${d.base}/d.tar`;
    r = await d.docker(["save", "-o", out, "me/bb:v1"]);
    assertEquals(r.code, 0, r.stderr);
    r = await d.docker(["rmi", "me/bb:v1"]);
    assertEquals(r.stdout.trim(), "Untagged: me/bb:v1");
    r = await d.docker(["rmi", "nosuch:1"]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "No such image");
    r = await d.docker(["import", img.layerPath, "imp:1"]);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    r = await d.docker(["images", "-q"]);
    assertEquals(r.stdout.trim().split("\n").length, 2);
    r = await d.docker(["version", "--format", "{{.Server.APIVersion}}"]);
    assertEquals(r.stdout.trim(), "1.47");
  } finally {
    await d.stop();
  }
});
