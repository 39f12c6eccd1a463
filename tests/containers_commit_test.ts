/**
 * `POST /commit` through the berth client and the docker CLI: the new image
 * runs with the container's file and the `--change`d config, its top layer
 * holds only the container's own change (not the mount points the runtime
 * made), history carries the comment and author, the container is running
 * (unpaused) afterwards, and bad changes and names fail with Docker 20.10's
 * words (recorded from dockerd on this host).
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, teardown } from "./containers_helpers.ts";
import { run } from "./fixtures/daemon.ts";

/** Entry names of the top layer of `ref` (docker save → manifest.json → last layer). */
async function topLayer(dk: (a: string[]) => Promise<{ out: Uint8Array }>, ref: string) {
  const dir = await Deno.makeTempDir({ prefix: "berth-commit-" });
  try {
    const tar = (await dk(["save", ref])).out;
    await Deno.writeFile(`${dir}/img.tar`, tar);
    expectCode(await run(["tar", "-xf", `${dir}/img.tar`, "-C", dir]), 0, "untar");
    const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    const layers: string[] = m[0].Layers;
    const list = await run(["tar", "-tf", `${dir}/${layers.at(-1)}`]);
    return { count: layers.length, names: list.stdout.split("\n").filter(Boolean) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "commit: file, --change, layer, history, pause, errors (berth client and docker CLI)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await containerDaemon();
    try {
      expectCode(await d.berth(["run", "-d", "--name", "cm", "busybox", "sleep", "1000"]), 0);
      expectCode(await d.berth(["exec", "cm", "sh", "-c", "echo hi > /f"]), 0);
      const c = expectCode(
        await d.berth([
          "commit",
          "-m",
          "msg",
          "-a",
          "me",
          "--change",
          'CMD ["cat","/f"]',
          "cm",
          "img:1",
        ]),
        0,
        "commit",
      );
      const id = c.stdout.trim();
      assert(/^sha256:[0-9a-f]{64}$/.test(id), c.stdout);
      assertEquals(expectCode(await d.berth(["run", "--rm", "img:1"]), 0).stdout, "hi\n");
      const info = JSON.parse(
        (await d.docker(["image", "inspect", "-f", "{{json .}}", "img:1"])).stdout,
      );
      assertEquals(info.Id, id);
      assertEquals(info.Author, "me");
      assertEquals(info.Config.Cmd, ["cat", "/f"]);
      const hist = expectCode(
        await d.docker([
          "history",
          "--no-trunc",
          "--format",
          "{{.CreatedBy}}|{{.Comment}}",
          "img:1",
        ]),
        0,
      );
      assertEquals(hist.stdout.split("\n")[0], "sleep 1000|msg");
      const ev = await d.docker([
        "events",
        "--since",
        "0",
        "--until",
        String(Math.ceil(Date.now() / 1000) + 1),
        "--filter",
        "event=commit",
        "--format",
        "{{.Actor.Attributes.name}} {{.Actor.Attributes.imageRef}} {{.Actor.Attributes.comment}} {{.Actor.Attributes.imageID}}",
      ]);
      assertEquals(ev.stdout, `cm img:1 msg ${id}\n`, "a commit event, as moby logs one");
      // only the container's change, not /etc/hosts & co. (Docker keeps those in its init layer)
      const top = await topLayer((a) => d.docker(a), "img:1");
      assertEquals(top.names, ["f"]);
      const base = await topLayer((a) => d.docker(a), "busybox");
      assertEquals(top.count, base.count + 1);
      // the container runs on, unpaused
      assertEquals(
        (await d.docker(["inspect", "-f", "{{.State.Status}}", "cm"])).stdout.trim(),
        "running",
      );

      // docker CLI: several changes, --pause=false, no name → an untagged image
      const dc = expectCode(
        await d.docker([
          "commit",
          "--pause=false",
          "-c",
          "ENV A=b",
          "-c",
          "EXPOSE 80",
          "-c",
          "LABEL x=y",
          "-c",
          "WORKDIR /tmp",
          "-c",
          "USER nobody",
          "-c",
          "VOLUME /data",
          "-c",
          'ENTRYPOINT ["sh","-c"]',
          "cm",
        ]),
        0,
        "docker commit",
      );
      const cfg = JSON.parse(
        (await d.docker(["image", "inspect", "-f", "{{json .Config}}", dc.stdout.trim()])).stdout,
      );
      assertEquals(cfg.Env.sort(), [
        "A=b",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ]);
      assertEquals(cfg.ExposedPorts, { "80/tcp": {} });
      assertEquals(cfg.Labels, { x: "y" });
      assertEquals([cfg.WorkingDir, cfg.User], ["/tmp", "nobody"]);
      assertEquals(cfg.Volumes, { "/data": {} });
      assertEquals(cfg.Entrypoint, ["sh", "-c"]);
      assertEquals(cfg.Cmd ?? null, null, "ENTRYPOINT without CMD drops the Cmd (moby's merge)");
      const viaDocker = expectCode(
        await d.docker(["commit", "-c", 'CMD ["cat","/f"]', "cm", "img:2"]),
        0,
      );
      assert(viaDocker.stdout.startsWith("sha256:"));
      assertEquals(expectCode(await d.docker(["run", "--rm", "img:2"]), 0).stdout, "hi\n");

      // errors, as dockerd 20.10 words them
      const from = await d.docker(["commit", "-c", "FROM x", "cm", "x:2"]);
      assertEquals(
        from.stderr.trim(),
        "Error response from daemon: from is not a valid change command",
      );
      const runc = await d.docker(["commit", "-c", "RUN x", "cm", "x:2"]);
      assertEquals(
        runc.stderr.trim(),
        "Error response from daemon: run is not a valid change command",
      );
      const nosuch = await d.docker(["commit", "nosuch"]);
      assertEquals(nosuch.stderr.trim(), "Error response from daemon: No such container: nosuch");
      const stopped = expectCode(await d.berth(["create", "--name", "idle", "busybox", "true"]), 0);
      assert(stopped.stdout.trim().length > 0);
      expectCode(await d.berth(["commit", "idle", "idle:1"]), 0, "commit of a created container");
      assertEquals((await topLayer((a) => d.docker(a), "idle:1")).names, []);

      // No Config in the request: the changes' $PATH is the container's (moby
      // integration/image TestCommitInheritsEnv)
      expectCode(await d.docker(["commit", "-c", "ENV PATH=/bin", "idle", "env:1"]), 0);
      expectCode(await d.docker(["create", "--name", "envc", "env:1", "true"]), 0);
      expectCode(await d.docker(["commit", "-c", "ENV PATH=/usr/bin:$PATH", "envc", "env:2"]), 0);
      const env = expectCode(
        await d.docker(["image", "inspect", "-f", "{{json .Config.Env}}", "env:2"]),
        0,
      );
      assertEquals(JSON.parse(env.stdout), ["PATH=/usr/bin:/bin"]);
    } finally {
      await teardown(d);
    }
  },
});
