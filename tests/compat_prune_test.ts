/**
 * Every prune honours its filters as Docker 20.10 does (label, label!,
 * until, dangling; unknown keys refused), through the docker CLI. Issue 13:
 * `image prune -a -f --filter label=x=1` deleted unlabelled images.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";

Deno.test("compat: prune filters (docker CLI)", async (t) => {
  const d = await containerDaemon();
  const k = (args: string[], stdin?: string) =>
    d.docker(args, { timeoutMs: 60000, stdin, env: { DOCKER_BUILDKIT: "0" } });
  const build = async (tag: string | null, label: string) =>
    expectCode(
      await k(
        ["build", "-q", ...(tag ? ["-t", tag] : []), "-"],
        `FROM busybox\nLABEL ${label}\n`,
      ),
      0,
      `build ${tag}`,
    ).stdout.trim();
  const images = async () =>
    expectCode(await k(["images", "--format", "{{.Repository}}:{{.Tag}}"]), 0).stdout.trim()
      .split("\n").sort();
  try {
    // busybox is used by a container, so an unfiltered -a prune keeps it too
    expectCode(await k(["create", "--name", "keeper", "busybox", "true"]), 0);

    await t.step("image prune: label, label!, until, dangling", async () => {
      const labx = await build("labx:1", "x=1");
      await build("laby:1", "y=2");
      await build("labz:1", "z=3");
      let r = expectCode(await k(["image", "prune", "-a", "-f", "--filter", "label=x=1"]), 0);
      assertStringIncludes(r.stdout, labx);
      assertEquals(await images(), ["busybox:latest", "laby:1", "labz:1"]);
      // label!: what carries y=2 stays
      expectCode(await k(["image", "prune", "-a", "-f", "--filter", "label!=y=2"]), 0);
      assertEquals(await images(), ["busybox:latest", "laby:1"]);
      // until: images created in the last hour stay
      expectCode(await k(["image", "prune", "-a", "-f", "--filter", "until=1h"]), 0);
      assertEquals(await images(), ["busybox:latest", "laby:1"]);
      // dangling (the default): an untagged image goes, tagged ones stay
      const dangling = await build(null, "d=1");
      r = expectCode(await k(["image", "prune", "-f"]), 0);
      assertStringIncludes(r.stdout, dangling);
      assertEquals(await images(), ["busybox:latest", "laby:1"]);
      r = expectCode(await k(["image", "prune", "-f", "--filter", "bogus=1"]), 1);
      assertStringIncludes(r.stderr, "Invalid filter 'bogus'");
    });

    await t.step("container prune: label, label!, until", async () => {
      for (const [name, label] of [["ca", "a=1"], ["cb", "b=1"], ["cc", "c=1"]]) {
        expectCode(await k(["create", "--name", name, "--label", label, "busybox", "true"]), 0);
      }
      const names = async () =>
        expectCode(await k(["ps", "-a", "--format", "{{.Names}}"]), 0).stdout.trim().split("\n")
          .sort();
      expectCode(await k(["container", "prune", "-f", "--filter", "label=a=1"]), 0);
      assertEquals(await names(), ["cb", "cc", "keeper"]);
      expectCode(await k(["container", "prune", "-f", "--filter", "until=1h"]), 0);
      assertEquals(await names(), ["cb", "cc", "keeper"]);
      expectCode(await k(["container", "prune", "-f", "--filter", "label!=b"]), 0);
      assertEquals(await names(), ["cb"]);
    });

    await t.step("network and volume prune: label, label!, until", async () => {
      expectCode(await k(["network", "create", "--label", "n=1", "neta"]), 0);
      expectCode(await k(["network", "create", "netb"]), 0);
      expectCode(await k(["network", "prune", "-f", "--filter", "until=1h"]), 0);
      expectCode(await k(["network", "prune", "-f", "--filter", "label=n=1"]), 0);
      const nets = expectCode(await k(["network", "ls", "--format", "{{.Name}}"]), 0).stdout;
      assert(!nets.includes("neta") && nets.includes("netb"), nets);
      expectCode(await k(["volume", "create", "--label", "v=1", "vola"]), 0);
      expectCode(await k(["volume", "create", "volb"]), 0);
      expectCode(await k(["volume", "prune", "-a", "-f", "--filter", "label!=v=1"]), 0);
      assertEquals(expectCode(await k(["volume", "ls", "-q"]), 0).stdout, "vola\n");
      const r = expectCode(await k(["volume", "prune", "-f", "--filter", "until=1h"]), 1);
      assertStringIncludes(r.stderr, "Invalid filter 'until'");
    });
  } finally {
    await d.stop();
  }
});
