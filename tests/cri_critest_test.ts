/**
 * CRI behaviours critest v1.29.0 checks (docs/cri.md "critest"), each driven
 * here by the grpc-js client against a test daemon, since CI has no cri-tools:
 * registry mirrors for CRI pulls (how critest's stand-in images are served
 * under the names critest asks for), …
 */
import { assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { startDaemon } from "./fixtures/daemon.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";
import { criClients, grpcError } from "./fixtures/cri.ts";
import { pushStandIns, standIns } from "../tools/critest/images.ts";

Deno.test("cri: --cri-registry-mirror sends a host's pulls to a loopback registry, names unchanged", async () => {
  const reg = await startTestRegistry();
  const d = await startDaemon({
    args: ["--cri-registry-mirror", `gcr.io=http://${reg.host}`],
  });
  const cli = criClients(`${d.execRoot}/cri.sock`, 60_000);
  try {
    const want = ["test-image-tag", "test-image-user-username"];
    await pushStandIns(
      `http://${reg.host}`,
      standIns().filter((s) => want.some((w) => s.repo.endsWith(`/${w}`))),
    );
    const name = "gcr.io/k8s-staging-cri-tools/test-image-tag:test";
    const { image_ref } = await cli.im.PullImage({ image: { image: name } });
    const st = (await cli.im.ImageStatus({ image: { image: name } })).image;
    assertEquals(st.id, image_ref);
    assertEquals(st.repo_tags, [name]);
    assertStringIncludes(st.repo_digests[0], "gcr.io/k8s-staging-cri-tools/test-image-tag@sha256:");
    const user = "gcr.io/k8s-staging-cri-tools/test-image-user-username:latest";
    await cli.im.PullImage({ image: { image: user } });
    const u = (await cli.im.ImageStatus({ image: { image: user } })).image;
    assertEquals([u.uid, u.username], [null, "www-data"]);
    // a host without a mirror is not sent there
    const e = await grpcError(
      cli.im.PullImage({
        image: { image: "registry.invalid/k8s-staging-cri-tools/test-image-tag:test" },
      }),
    );
    assertStringIncludes(e.message, "registry.invalid");
  } finally {
    cli.close();
    await d.stop();
    await reg.close();
  }
});
