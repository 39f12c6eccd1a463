/**
 * The CRI (issue 14, first part): a grpc-js client, loaded from the same
 * proto, drives a test daemon's `<exec-root>/cri.sock` end to end — Version,
 * Status, the ImageService against `berth registry` with basic auth, the
 * k8s.io namespace kept apart from the Engine API's names over shared
 * blobs and layers, UNIMPLEMENTED for what is not built, `--cri=false`.
 */
import bcrypt from "bcryptjs";
import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";
import type { Msg } from "../modes/daemon/cri/types.ts";
import { criClients, grpcError } from "./fixtures/cri.ts";

function clients(sock: string) {
  return criClients(sock, 60_000);
}

async function engineRepos(d: TestDaemon): Promise<string[]> {
  const r = await d.berth(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
  assertEquals(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l);
}

const log = (d: TestDaemon) => Deno.readTextFile(d.logPath);

Deno.test("cri: Version, Status, and the ImageService against berth registry, apart from the Engine API's names", async () => {
  const cniDir = await Deno.makeTempDir({ prefix: "berth-cni-" });
  const d = await startDaemon({ args: ["--cni-conf-dir", cniDir] });
  const htp = `${d.base}/htpasswd`;
  await Deno.writeTextFile(htp, `alice:${bcrypt.hashSync("s3cret", 4)}\n`);
  const reg = await startTestRegistry({ auth: "basic", htpasswd: htp });
  const sock = `${d.execRoot}/cri.sock`;
  const env = { DOCKER_CONFIG: `${d.base}/cfg` };
  let cli: ReturnType<typeof clients> | undefined;
  try {
    // An image in the registry, pushed by the Engine API, then gone from it.
    const img = await busyboxArchive();
    const ref = `${reg.host}/cri/bb:1`;
    assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
    assertEquals((await d.berth(["tag", "busybox", ref])).code, 0);
    let r = await d.berth(["login", "-u", "alice", "--password-stdin", reg.host], {
      env,
      stdin: "s3cret\n",
    });
    assertEquals(r.code, 0, r.stderr);
    r = await d.berth(["push", ref], { env });
    assertEquals(r.code, 0, r.stderr);
    assertEquals((await d.berth(["logout", reg.host], { env })).code, 0);
    assertEquals((await d.berth(["rmi", "busybox", ref])).code, 0);
    assertEquals(await engineRepos(d), []);

    // The gRPC stack is not loaded until someone connects.
    assertEquals((await Deno.lstat(sock)).isSocket, true);
    assert(!(await log(d)).includes("CRI gRPC server loaded"), "loaded before use");
    cli = clients(sock);
    const v = await cli.rt.Version({ version: "v1" });
    assertEquals(
      [v.runtime_name, v.runtime_api_version, v.version],
      ["berth", "v1", "0.1.0"],
    );
    assertStringIncludes(await log(d), "CRI gRPC server loaded");

    // NetworkReady follows the CNI conf dir.
    const cond = async () =>
      Object.fromEntries(
        (await cli!.rt.Status({})).status.conditions.map((c: Msg) => [c.type, c]),
      );
    let c = await cond();
    assertEquals([c.RuntimeReady.status, c.NetworkReady.status], [true, false]);
    assertEquals(c.NetworkReady.reason, "NetworkPluginNotReady");
    // a config that does not parse, or names a plugin that is not there, is not ready
    await Deno.writeTextFile(`${cniDir}/10-pods.conflist`, "{}");
    c = await cond();
    assertEquals(c.NetworkReady.status, false);
    assertStringIncludes(c.NetworkReady.message, "10-pods.conflist");
    const conflist = (type: string) =>
      JSON.stringify({ cniVersion: "1.0.0", name: "pods", plugins: [{ type }] });
    await Deno.writeTextFile(`${cniDir}/10-pods.conflist`, conflist("nosuch-plugin"));
    c = await cond();
    assertEquals(c.NetworkReady.status, false);
    assertStringIncludes(c.NetworkReady.message, "nosuch-plugin");
    await Deno.writeTextFile(`${cniDir}/10-pods.conflist`, conflist("loopback"));
    c = await cond();
    assertEquals(c.NetworkReady.status, true, c.NetworkReady.message);

    // UpdateRuntimeConfig is accepted (no CNI template to fill: a no-op, as containerd without one)
    await cli.rt.UpdateRuntimeConfig({
      runtime_config: { network_config: { pod_cidr: "10.1.0.0/16" } },
    });

    // Not built yet: a clear UNIMPLEMENTED.
    const un = await grpcError(cli.rt.CheckpointContainer({ container_id: "x" }));
    assertEquals(un.code, grpc.status.UNIMPLEMENTED);
    assertStringIncludes(un.details, "CheckpointContainer");

    // Pull: the auth comes from the request, not from a docker config.
    const denied = await grpcError(cli.im.PullImage({ image: { image: ref } }));
    assertEquals(denied.code, grpc.status.UNAUTHENTICATED, denied.details);
    const pulled = await cli.im.PullImage({
      image: { image: ref },
      auth: { username: "alice", password: "s3cret" },
    });
    assertEquals(pulled.image_ref, img.configDigest);
    // and again, with the docker-config form of the same credentials
    const again = await cli.im.PullImage({
      image: { image: ref },
      auth: { auth: btoa("alice:s3cret") },
    });
    assertEquals(again.image_ref, img.configDigest);

    // The CRI sees it; the Engine API does not.
    const list = (await cli.im.ListImages({})).images;
    assertEquals(list.length, 1);
    assertEquals(list[0].id, img.configDigest);
    assertEquals(list[0].repo_tags, [ref]);
    assertEquals(list[0].repo_digests, [`${reg.host}/cri/bb@${img.manifestDigest}`]);
    assert(list[0].size > 0);
    assertEquals(await engineRepos(d), []);
    const st = await cli.im.ImageStatus({ image: { image: ref }, verbose: true });
    assertEquals(st.image.id, img.configDigest);
    const info = JSON.parse(st.info.info);
    assertEquals(info.manifestDigest, img.manifestDigest);
    assertEquals(info.imageSpec.rootfs.diff_ids.length, 1);
    const layerDir = `${d.root}/layers/${info.chainID.slice(7)}`;
    assert((await Deno.stat(layerDir)).isDirectory);
    const missing = await cli.im.ImageStatus({ image: { image: "nosuch:1" } });
    assertEquals(missing.image, null);

    // Blobs and layers are shared: the Engine API loading and removing the
    // same image leaves the CRI's copy whole.
    assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
    assertEquals((await d.berth(["rmi", "busybox"])).code, 0);
    assert((await Deno.stat(layerDir)).isDirectory, "the Engine API's rmi took a CRI layer");
    assertEquals((await cli.im.ListImages({})).images.length, 1);

    const fs = (await cli.im.ImageFsInfo({})).image_filesystems[0];
    assertEquals(fs.fs_id.mountpoint, `${d.root}/layers`);
    assert(fs.used_bytes.value > 0 && fs.inodes_used.value > 0, JSON.stringify(fs));

    // RemoveImage takes every name and, with no other user, the layers; a second is no error.
    await cli.im.RemoveImage({ image: { image: ref } });
    assertEquals((await cli.im.ListImages({})).images, []);
    await cli.im.RemoveImage({ image: { image: ref } });
    let gone = false;
    await Deno.stat(layerDir).catch(() => gone = true);
    assert(gone, "the layer outlived its last image");
  } finally {
    cli?.close();
    await reg.close();
    await d.stop();
    await Deno.remove(cniDir, { recursive: true });
  }
});

Deno.test("cri: --cri=false leaves no socket; --cri-socket moves it", async () => {
  const off = await startDaemon({ args: ["--cri=false"] });
  try {
    let none = false;
    await Deno.lstat(`${off.execRoot}/cri.sock`).catch(() => none = true);
    assert(none, "--cri=false made a CRI socket");
  } finally {
    await off.stop();
  }
  const base = await Deno.makeTempDir({ prefix: "berth-cri-sock-" });
  const d = await startDaemon({ args: ["--cri-socket", `unix://${base}/k.sock`] });
  const cli = clients(`${base}/k.sock`);
  try {
    assertEquals((await cli.rt.Version({})).runtime_name, "berth");
  } finally {
    cli.close();
    await d.stop();
    await Deno.remove(base, { recursive: true });
  }
});
