/**
 * CRI behaviours critest v1.29.0 checks (docs/cri.md "critest"), each driven
 * here by the grpc-js client against a test daemon, since CI has no cri-tools:
 * registry mirrors for CRI pulls (how critest's stand-in images are served
 * under the names critest asks for), RuntimeConfig's cgroup driver,
 * bidirectional mount propagation, RunAsGroup without a user.
 */
import * as grpc from "@grpc/grpc-js";
import { assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import type { Msg } from "../modes/daemon/cri/types.ts";
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
    // critest names cgroup parents for the driver RuntimeConfig gives (systemd when unanswered)
    assertEquals((await cli.rt.RuntimeConfig({})).linux, { cgroup_driver: "CGROUPFS" });
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

async function sh(cmd: string): Promise<string> {
  const r = await new Deno.Command("sh", { args: ["-c", cmd], stderr: "piped", stdout: "piped" })
    .output();
  const d = new TextDecoder();
  if (!r.success) throw new Error(`${cmd}: ${d.decode(r.stderr)}`);
  return d.decode(r.stdout);
}

Deno.test("cri containers: bidirectional mounts propagate both ways (shared root), RunAsGroup alone is refused", async () => {
  const reg = await startTestRegistry();
  const d = await startDaemon({
    args: ["--cri-registry-mirror", `registry.k8s.io=http://${reg.host}`],
  });
  const cli = criClients(`${d.execRoot}/cri.sock`, 60_000);
  const src = await Deno.makeTempDir({ prefix: "berth-cri-prop-" });
  try {
    await pushStandIns(
      `http://${reg.host}`,
      standIns().filter((s) => s.repo.endsWith("/busybox")),
    );
    const image = "registry.k8s.io/e2e-test-images/busybox:1.29-2";
    await cli.im.PullImage({ image: { image } });
    // as critest's mount propagation specs: the host dir a shared mount of its own
    await sh(`mount --bind ${src} ${src} && mount --make-rshared ${src}`);
    const sandbox = {
      metadata: { name: "prop", uid: "uid-prop", namespace: "default", attempt: 0 },
      linux: {
        security_context: { privileged: true, namespace_options: { network: "NODE" } },
      },
    };
    const { pod_sandbox_id: pod } = await cli.rt.RunPodSandbox({ config: sandbox });
    const create = (name: string, linux: Msg, mounts: Msg[] = []) =>
      cli.rt.CreateContainer({
        pod_sandbox_id: pod,
        sandbox_config: sandbox,
        config: {
          metadata: { name, attempt: 0 },
          image: { image },
          command: ["sleep", "1000"],
          mounts,
          linux,
        },
      });

    // RunAsGroup without a user: refused at create, as containerd
    const e = await grpcError(
      create("nogroup", { security_context: { run_as_group: { value: 5 } } }),
    );
    assertEquals(e.code, grpc.status.INVALID_ARGUMENT);
    assertStringIncludes(e.details, "user group is specified without user");

    const { container_id: id } = await create("prop", { security_context: { privileged: true } }, [
      { container_path: "/mnt/vol", host_path: src, propagation: "PROPAGATION_BIDIRECTIONAL" },
    ]);
    await cli.rt.StartContainer({ container_id: id });
    const exec = async (cmd: string) => {
      const r = await cli.rt.ExecSync({ container_id: id, cmd: ["sh", "-c", cmd], timeout: 30 });
      assertEquals(r.exit_code, 0, new TextDecoder().decode(r.stderr));
      return new TextDecoder().decode(r.stdout);
    };
    // host → container
    await sh(
      `mkdir -p ${src}/fromhost && mount -t tmpfs hostfs ${src}/fromhost && touch ${src}/fromhost/h`,
    );
    assertEquals(await exec("ls /mnt/vol/fromhost"), "h\n");
    // container → host
    await exec(
      "mkdir -p /mnt/vol/fromctr && mount -t tmpfs ctrfs /mnt/vol/fromctr && touch /mnt/vol/fromctr/c",
    );
    assertEquals([...Deno.readDirSync(`${src}/fromctr`)].map((x) => x.name), ["c"]);
    await cli.rt.RemovePodSandbox({ pod_sandbox_id: pod });
  } finally {
    cli.close();
    await d.stop();
    await reg.close();
    for (const m of [`${src}/fromctr`, `${src}/fromhost`, src]) {
      await sh(`umount -l ${m}`).catch(() => {/* not mounted: the test failed before */});
    }
    await Deno.remove(src, { recursive: true });
  }
});
