import { assertEquals, assertThrows } from "../../../core/testing/assert.ts";
import { parseDaemonArgs } from "../main.ts";

Deno.test("daemon flags: --cri is a Go boolean (on by default), --cri-socket takes a path or unix:// URL", () => {
  const d = parseDaemonArgs([]);
  assertEquals([d.cri, d.criSocket, d.cniConfDir], [true, undefined, "/etc/cni/net.d"]);
  assertEquals(parseDaemonArgs(["--cri=false"]).cri, false);
  assertEquals(parseDaemonArgs(["--cri"]).cri, true);
  assertEquals(parseDaemonArgs(["--cri=0"]).cri, false);
  assertEquals(parseDaemonArgs(["--cri-socket", "unix:///x/k.sock"]).criSocket, "/x/k.sock");
  assertEquals(parseDaemonArgs(["--cri-socket", "/y/k.sock"]).criSocket, "/y/k.sock");
  assertEquals(parseDaemonArgs(["--cni-conf-dir", "/c"]).cniConfDir, "/c");
  assertEquals(parseDaemonArgs([]).cniBinDir, undefined);
  assertEquals(parseDaemonArgs(["--cni-bin-dir", "/b"]).cniBinDir, "/b");
  assertEquals(parseDaemonArgs([]).podInfraImage, undefined);
  assertEquals(
    parseDaemonArgs(["--pod-infra-image", "127.0.0.1:5000/pause:3.9"]).podInfraImage,
    "127.0.0.1:5000/pause:3.9",
  );
  assertThrows(
    () => parseDaemonArgs(["--pod-infra-image", "Bad//Ref"]),
    Error,
    "invalid --pod-infra-image Bad//Ref",
  );
  assertThrows(
    () => parseDaemonArgs(["--cri=maybe"]),
    Error,
    'invalid argument "maybe" for "--cri"',
  );
});

Deno.test("daemon flags: --cri-registry-mirror HOST=URL, repeatable; a bad one is refused", () => {
  assertEquals(parseDaemonArgs([]).criRegistryMirrors, {});
  assertEquals(
    parseDaemonArgs([
      "--cri-registry-mirror",
      "gcr.io=http://127.0.0.1:5000",
      "--cri-registry-mirror",
      "registry.k8s.io=https://mirror.example:8443/",
    ]).criRegistryMirrors,
    { "gcr.io": "http://127.0.0.1:5000", "registry.k8s.io": "https://mirror.example:8443" },
  );
  for (const bad of ["gcr.io", "=http://x", "gcr.io=ftp://x", "gcr.io=http://x/v2/y", "a=b"]) {
    assertThrows(
      () => parseDaemonArgs(["--cri-registry-mirror", bad]),
      Error,
      "invalid --cri-registry-mirror",
    );
  }
});

Deno.test("daemon flags: --cri-stream-address HOST:PORT (IPv6 in brackets, port 0 = any)", () => {
  assertEquals(parseDaemonArgs([]).criStreamAddress, undefined);
  assertEquals(parseDaemonArgs(["--cri-stream-address", "127.0.0.1:10010"]).criStreamAddress, {
    host: "127.0.0.1",
    port: 10010,
  });
  assertEquals(parseDaemonArgs(["--cri-stream-address", "[::1]:0"]).criStreamAddress, {
    host: "::1",
    port: 0,
  });
  assertEquals(parseDaemonArgs(["--cri-stream-address", ":0"]).criStreamAddress, {
    host: "",
    port: 0,
  });
  for (const bad of ["127.0.0.1", "h:70000", "h:x", "::1:5"]) {
    assertThrows(
      () => parseDaemonArgs(["--cri-stream-address", bad]),
      Error,
      `invalid --cri-stream-address ${bad}: want HOST:PORT`,
    );
  }
});
