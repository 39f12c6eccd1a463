/**
 * End-to-end pull/push/login through the daemon (issue 4's client side):
 * berth client and the stock docker CLI against `berth registry` with auth,
 * skopeo into berth registry then berth pull + run, and berth push/pull
 * against CNCF Distribution with skopeo agreeing on digests.
 */
import bcrypt from "bcryptjs";
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { run, startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import {
  haveDistribution,
  startDistribution,
  startTestRegistry,
} from "../modes/registry/testutil.ts";

async function htpasswd(dir: string): Promise<string> {
  const f = `${dir}/htpasswd`;
  await Deno.writeTextFile(f, `alice:${bcrypt.hashSync("s3cret", 4)}\n`);
  return f;
}

async function loaded(d: TestDaemon) {
  const img = await busyboxArchive();
  const r = await d.berth(["load", "-q", "-i", img.path]);
  assertEquals(r.code, 0, r.stderr);
  return img;
}

Deno.test("distribution: berth login/push/pull/run/logout against berth registry with basic auth", async () => {
  const d = await startDaemon();
  const reg = await startTestRegistry({ auth: "basic", htpasswd: await htpasswd(d.base) });
  const env = { DOCKER_CONFIG: `${d.base}/cfg` };
  try {
    const img = await loaded(d);
    const ref = `${reg.host}/team/bb:1`;
    assertEquals((await d.berth(["tag", "busybox", ref])).code, 0);
    let r = await d.berth(["push", ref], { env });
    assertEquals(r.code, 1, "push without login is refused");
    r = await d.berth(["login", "-u", "alice", "--password-stdin", reg.host], {
      env,
      stdin: "wrong\n",
    });
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "401 Unauthorized");
    r = await d.berth(["login", "-u", "alice", "--password-stdin", reg.host], {
      env,
      stdin: "s3cret\n",
    });
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "Login Succeeded");
    const cfg = JSON.parse(await Deno.readTextFile(`${d.base}/cfg/config.json`));
    assertEquals(cfg.auths[reg.host].auth, btoa("alice:s3cret"));
    r = await d.berth(["push", ref], { env });
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, `The push refers to repository [${reg.host}/team/bb]`);
    const m = /1: digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(r.stdout);
    assert(m, r.stdout);
    assertEquals(m[1], img.manifestDigest);
    // Second push: the layer is already there.
    r = await d.berth(["push", ref], { env });
    assertStringIncludes(r.stdout, "Layer already exists");

    assertEquals((await d.berth(["rmi", "busybox", ref])).code, 0);
    r = await d.berth(["pull", ref], { env });
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, `Digest: ${img.manifestDigest}`);
    assertStringIncludes(r.stdout, `Status: Downloaded newer image for ${ref}`);
    assertEquals(r.stdout.trim().split("\n").at(-1), ref);
    r = await d.berth([
      "images",
      "--digests",
      "--format",
      "{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}",
    ]);
    assertEquals(
      r.stdout.trim(),
      `${reg.host}/team/bb 1 ${img.manifestDigest} ${img.configDigest.slice(7, 19)}`,
    );
    r = await d.berth(["pull", ref], { env });
    assertStringIncludes(r.stdout, "Status: Image is up to date");
    r = await d.berth(["run", "--rm", "--network", "none", ref, "echo", "pulled and ran"], { env });
    assertEquals(r.stdout, "pulled and ran\n", r.stderr);

    r = await d.berth(["pull", `${reg.host}/team/nosuch:1`], { env });
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "not found");
    r = await d.berth(["logout", reg.host], { env });
    assertEquals(r.code, 0);
    assertEquals(
      JSON.parse(await Deno.readTextFile(`${d.base}/cfg/config.json`)).auths[reg.host],
      undefined,
    );
  } finally {
    await reg.close();
    await d.stop();
  }
});

Deno.test("distribution: the stock docker CLI logs in, pushes and pulls via berth daemon (token auth)", async () => {
  const d = await startDaemon();
  const reg = await startTestRegistry({ auth: "token", htpasswd: await htpasswd(d.base) });
  try {
    const img = await loaded(d);
    const ref = `${reg.host}/dk/bb:2`;
    assertEquals((await d.docker(["tag", "busybox", ref])).code, 0);
    let r = await d.docker(["login", "-u", "alice", "--password-stdin", reg.host], {
      stdin: "s3cret\n",
    });
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "Login Succeeded");
    r = await d.docker(["push", ref]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, `2: digest: ${img.manifestDigest}`);
    assertEquals((await d.docker(["rmi", ref])).code, 0);
    r = await d.docker(["pull", ref]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, `Digest: ${img.manifestDigest}`);
    r = await d.docker(["image", "inspect", "-f", "{{.Id}}", ref]);
    assertEquals(r.stdout.trim(), img.configDigest);
    r = await d.docker(["login", "-u", "alice", "--password-stdin", reg.host], { stdin: "bad\n" });
    assertEquals(r.code, 1);
  } finally {
    await reg.close();
    await d.stop();
  }
});

Deno.test("distribution: skopeo → berth registry → berth pull + run; berth ↔ CNCF Distribution", async () => {
  const d = await startDaemon();
  const reg = await startTestRegistry();
  const dist = (await haveDistribution()) ? await startDistribution() : undefined;
  try {
    const img = await busyboxArchive();
    let r = await run([
      "skopeo",
      "copy",
      "--preserve-digests",
      "--dest-tls-verify=false",
      `oci-archive:${img.path}:latest`,
      `docker://${reg.host}/sk/bb:3`,
    ]);
    assertEquals(r.code, 0, r.stderr);
    r = await run(["skopeo", "inspect", "--tls-verify=false", `docker://${reg.host}/sk/bb:3`]);
    assertEquals(JSON.parse(r.stdout).Digest, img.manifestDigest);
    r = await d.berth(["pull", `${reg.host}/sk/bb:3`]);
    assertEquals(r.code, 0, r.stderr);
    r = await d.berth(["image", "inspect", "-f", "{{.Id}}", `${reg.host}/sk/bb:3`]);
    assertEquals(r.stdout.trim(), img.configDigest);
    r = await d.berth([
      "run",
      "--rm",
      "--network",
      "none",
      `${reg.host}/sk/bb:3`,
      "cat",
      "/etc/passwd",
    ]);
    assertStringIncludes(r.stdout, "root:x:0:0");
    if (dist) {
      const ref = `${dist.host}/berth/bb:4`;
      assertEquals((await d.berth(["tag", `${reg.host}/sk/bb:3`, ref])).code, 0);
      r = await d.berth(["push", ref]);
      assertEquals(r.code, 0, r.stderr);
      r = await run(["skopeo", "inspect", "--tls-verify=false", `docker://${ref}`]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(JSON.parse(r.stdout).Digest, img.manifestDigest);
      assertEquals((await d.berth(["rmi", "-f", img.configDigest])).code, 0);
      r = await d.berth(["pull", ref]);
      assertEquals(r.code, 0, r.stderr);
      r = await d.berth(["image", "inspect", "-f", "{{.Id}}", ref]);
      assertEquals(r.stdout.trim(), img.configDigest);
    }
  } finally {
    await dist?.close();
    await reg.close();
    await d.stop();
  }
});
