/**
 * End-to-end: the daemon process itself — lock, signals, API versioning,
 * error shape — and loading a multi-arch OCI layout.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { berthCmd, run, startDaemon } from "./fixtures/daemon.ts";
import { createHash } from "node:crypto";

async function raw(socket: string, req: string): Promise<string> {
  const c = await Deno.connect({ transport: "unix", path: socket });
  await c.write(new TextEncoder().encode(req));
  let out = "";
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await c.read(buf).catch(() => null);
    if (!n) break;
    out += new TextDecoder().decode(buf.subarray(0, n));
    if (out.includes("\r\n\r\n") && /connection: close/i.test(req)) continue;
  }
  c.close();
  return out;
}

Deno.test("daemon: one daemon per root, clean SIGTERM shutdown", async () => {
  const d = await startDaemon();
  try {
    const second = await run(
      berthCmd([
        "daemon",
        "--root",
        d.root,
        "--exec-root",
        `${d.base}/run2`,
        "-H",
        `unix://${d.base}/other.sock`,
      ]),
      { timeoutMs: 20000 },
    );
    assertEquals(second.code, 1);
    assertStringIncludes(second.stderr, "another daemon is already using");
    assertEquals(second.stderr.trim().split("\n").length, 1);
    const st = await Deno.stat(d.socket);
    assertEquals(st.mode! & 0o777, 0o660);
    await d.stopDaemon();
    assertEquals((await d.proc.status).code, 0);
    let gone = false;
    try {
      await Deno.stat(d.socket);
    } catch {
      gone = true;
    }
    assert(gone, "socket removed on shutdown");
    // The lock is free again.
    await d.restart();
    assertEquals((await d.berth(["images", "-q"])).code, 0);
    const bad = await run(berthCmd(["daemon", "--bogus"]));
    assertEquals(bad.code, 125);
    assert(!bad.stderr.includes("    at "), bad.stderr);
  } finally {
    await d.stop();
  }
});

Deno.test("daemon: API versioning, _ping, error bodies", async () => {
  const d = await startDaemon();
  try {
    let r = await raw(d.socket, "HEAD /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertStringIncludes(r, "HTTP/1.1 200");
    assertStringIncludes(r.toLowerCase(), "api-version: 1.47");
    assertStringIncludes(r.toLowerCase(), "ostype: linux");
    r = await raw(d.socket, "GET /v1.44/_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert(r.endsWith("OK"), r);
    // absolute-form target (Deno's fetch over a unix socket, the berth client, sends it)
    r = await raw(
      d.socket,
      "GET http://localhost/v1.47/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assertStringIncludes(r, "HTTP/1.1 200");
    assertStringIncludes(r, '"ApiVersion":"1.47"');
    r = await raw(d.socket, "GET /v1.99/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertStringIncludes(r, "HTTP/1.1 400");
    assertStringIncludes(r, "is too new");
    r = await raw(
      d.socket,
      "GET /v1.47/images/nosuch/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assertStringIncludes(r, "HTTP/1.1 404");
    assertStringIncludes(r.toLowerCase(), "content-type: application/json");
    assertStringIncludes(r, '{"message":"No such image: nosuch:latest"}');
    r = await raw(d.socket, "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const body = JSON.parse(
      r.slice(r.indexOf("\r\n\r\n") + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ""),
    );
    assertEquals(body.ApiVersion, "1.47");
    assertEquals(body.MinAPIVersion, "1.12");
    const v = await d.docker(["version", "--format", "{{.Server.Os}}/{{.Server.Arch}}"]);
    assertEquals(v.stdout.trim(), "linux/amd64");
  } finally {
    await d.stop();
  }
});

Deno.test("load: an OCI layout with a multi-arch index picks the host platform", async () => {
  const img = await busyboxArchive();
  const d = await startDaemon();
  const work = await Deno.makeTempDir();
  try {
    await run(["tar", "-xf", img.path, "-C", work]);
    const put = async (data: string) => {
      const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
      await Deno.writeTextFile(`${work}/blobs/sha256/${digest.slice(7)}`, data);
      return { digest, size: new TextEncoder().encode(data).length };
    };
    const amd = await Deno.readTextFile(`${work}/blobs/sha256/${img.manifestDigest.slice(7)}`);
    // An arm64 entry whose blobs are absent: it must not be touched.
    const index = await put(JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: "sha256:" + "1".repeat(64),
          size: 10,
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        },
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: img.manifestDigest,
          size: amd.length,
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    }));
    await Deno.writeTextFile(
      `${work}/index.json`,
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{
          mediaType: "application/vnd.oci.image.index.v1+json",
          ...index,
          annotations: { "io.containerd.image.name": "docker.io/library/multi:1" },
        }],
      }),
    );
    await Deno.remove(`${work}/manifest.json`);
    await run(["tar", "-cf", `${work}.tar`, "-C", work, "."]);
    const r = await d.berth(["load", "-i", `${work}.tar`]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "Loaded image: multi:1");
    const ins = await d.berth(["image", "inspect", "-f", "{{.Id}} {{.Architecture}}", "multi:1"]);
    assertEquals(ins.stdout.trim(), `${img.configDigest} amd64`);
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
    await Deno.remove(`${work}.tar`).catch(() => {});
    await d.stop();
  }
});
