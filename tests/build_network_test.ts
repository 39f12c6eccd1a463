/**
 * RUN steps get Docker's build network modes: the default bridge (own netns
 * with a veth and a default route, host loopback unreachable), `none`
 * (loopback only) and `host`; nothing is left attached afterwards.
 */
import { assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon } from "./fixtures/daemon.ts";

Deno.test("build: RUN network modes (bridge by default, none, host)", async () => {
  const img = await busyboxArchive();
  const d = await startDaemon();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("host-secret"),
  );
  const port = server.addr.port;
  try {
    assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
    const ctx = `${d.base}/ctx`;
    await Deno.mkdir(ctx);
    await Deno.writeTextFile(
      `${ctx}/Dockerfile`,
      `FROM busybox
ARG MODE
RUN echo "mode=$MODE"; ip route; ip -o link | grep -c -v ' lo:' | sed 's/^/links=/'; \\
    if printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 ${port} 2>/dev/null; then echo; echo reach=yes; else echo reach=no; fi
`,
    );
    let r = await d.berth(["build", "--no-cache", "--build-arg", "MODE=bridge", ctx]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "default via ");
    assertStringIncludes(r.stdout, "links=1");
    assertStringIncludes(r.stdout, "reach=no");
    r = await d.berth([
      "build",
      "--no-cache",
      "--network",
      "none",
      "--build-arg",
      "MODE=none",
      ctx,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "links=0");
    assertStringIncludes(r.stdout, "reach=no");
    r = await d.berth([
      "build",
      "--no-cache",
      "--network",
      "host",
      "--build-arg",
      "MODE=host",
      ctx,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "host-secret");
    assertStringIncludes(r.stdout, "reach=yes");
    // Nothing stays attached: no veth of ours on the host.
    const links = new TextDecoder().decode(
      (await new Deno.Command("ip", { args: ["-o", "link"], stdout: "piped" }).output()).stdout,
    );
    const inspect = await d.berth(["network", "inspect", "-f", "{{len .Containers}}", "bridge"]);
    assertEquals(inspect.stdout.trim(), "0", links);
  } finally {
    await server.shutdown();
    await d.stop();
  }
});
