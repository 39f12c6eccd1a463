/**
 * `--device` and `--device-cgroup-rule` (issue 13): the node appears in the
 * container at its path, with the host node's type/major/minor/mode, on both
 * runtimes; the device cgroup allows it; a rule lets a node made with mknod
 * inside be opened, which the default rules deny (cgroup v1 devices.allow).
 * @module
 */
import { assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, RUNTIMES } from "./containers_helpers.ts";

const noDevicesCgroup = (() => {
  try {
    Deno.statSync("/sys/fs/cgroup/devices/devices.allow");
    return undefined;
  } catch {
    return "no cgroup v1 devices controller at /sys/fs/cgroup/devices";
  }
})();

Deno.test({
  name: "containers: --device creates the node; --device-cgroup-rule allows a mknod'd node",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const d = await containerDaemon();
    try {
      for (const rt of RUNTIMES) {
        await t.step(`${rt}: --device /dev/null:/dev/mynull is a writable node`, async () => {
          const r = expectCode(
            await d.berth([
              "run",
              "--rm",
              "--runtime",
              rt,
              "--device",
              "/dev/null:/dev/mynull",
              "busybox",
              "sh",
              "-c",
              "echo x > /dev/mynull && ls -l /dev/mynull",
            ]),
            0,
          );
          assertMatch(r.stdout, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/mynull\n$/);
        });
        await t.step(`${rt}: a directory maps every node below it`, async () => {
          const dir = await Deno.makeTempDir();
          try {
            const mk = await new Deno.Command("mknod", { args: [`${dir}/z`, "c", "1", "5"] })
              .output();
            assertEquals(mk.code, 0, new TextDecoder().decode(mk.stderr));
            const r = expectCode(
              await d.berth([
                "run",
                "--rm",
                "--runtime",
                rt,
                "--device",
                `${dir}:/dev/mine`,
                "busybox",
                "sh",
                "-c",
                "head -c 4 /dev/mine/z | od -An -tx1",
              ]),
              0,
            );
            assertEquals(r.stdout.trim(), "00 00 00 00");
          } finally {
            await Deno.remove(dir, { recursive: true });
          }
        });
        if (noDevicesCgroup) {
          console.log(`SKIP ${rt} cgroup rule steps: ${noDevicesCgroup}`);
          continue;
        }
        // c 1:11 is /dev/kmsg; opening it write-only writes nothing.
        const open = "mknod /dev/k c 1 11 && : > /dev/k && echo opened";
        await t.step(`${rt}: without a rule a mknod'd unlisted node cannot be opened`, async () => {
          const r = await d.berth(["run", "--rm", "--runtime", rt, "busybox", "sh", "-c", open]);
          assertEquals(r.code, 1, r.stdout + r.stderr);
          assertStringIncludes(r.stderr, "Operation not permitted");
        });
        await t.step(`${rt}: --device-cgroup-rule 'c 1:11 w' allows it`, async () => {
          const r = expectCode(
            await d.berth([
              "run",
              "--rm",
              "--runtime",
              rt,
              "--device-cgroup-rule",
              "c 1:11 w",
              "busybox",
              "sh",
              "-c",
              open,
            ]),
            0,
          );
          assertEquals(r.stdout, "opened\n");
        });
      }
      await t.step("--privileged: the host's nodes plus a --device moved elsewhere", async () => {
        const r = expectCode(
          await d.berth([
            "run",
            "--rm",
            "--privileged",
            "--device",
            "/dev/null:/dev/mynull",
            "busybox",
            "sh",
            "-c",
            "echo x > /dev/mynull && ls -l /dev/mynull /dev/null | wc -l",
          ]),
          0,
        );
        assertEquals(r.stdout.trim(), "2");
      });
      await t.step("the docker CLI's --device reaches the container too", async () => {
        const r = expectCode(
          await d.docker([
            "run",
            "--rm",
            "--device",
            "/dev/zero:/dev/myzero:rwm",
            "busybox",
            "ls",
            "-l",
            "/dev/myzero",
          ]),
          0,
        );
        assertMatch(r.stdout, /^crw-rw-rw-.* 1,\s+5 .* \/dev\/myzero\n$/);
        const c = expectCode(
          await d.docker([
            "create",
            "--device",
            "/dev/null:/dev/n2:r",
            "--device-cgroup-rule",
            "c 1:11 w",
            "busybox",
          ]),
          0,
        );
        const i = await d.berth([
          "inspect",
          "-f",
          "{{json .HostConfig.Devices}} {{json .HostConfig.DeviceCgroupRules}}",
          c.stdout.trim(),
        ]);
        assertEquals(
          i.stdout.trim(),
          '[{"PathOnHost":"/dev/null","PathInContainer":"/dev/n2","CgroupPermissions":"r"}] ["c 1:11 w"]',
        );
        expectCode(await d.berth(["rm", c.stdout.trim()]), 0);
      });
      await t.step("bad input: clear errors, nothing started", async () => {
        let r = await d.berth(["run", "--rm", "--device", "/dev/nope", "busybox", "true"]);
        assertEquals(r.code, 127, r.stderr); // the docker CLI's code for "no such file or directory"
        assertStringIncludes(
          r.stderr,
          'error gathering device information while adding custom device "/dev/nope": no such file or directory',
        );
        r = await d.berth(["run", "--rm", "--device", "/etc/hostname", "busybox", "true"]);
        assertEquals(r.code, 125);
        assertStringIncludes(r.stderr, "not a device node");
        r = await d.berth(["run", "--rm", "--device", "/dev/null:rel", "busybox", "true"]);
        assertEquals(r.code, 125);
        assertStringIncludes(r.stderr, "rel is not an absolute path");
        r = await d.berth(["run", "--rm", "--device-cgroup-rule", "c 1:3", "busybox", "true"]);
        assertEquals(r.code, 125);
        assertStringIncludes(r.stderr, "invalid device cgroup format 'c 1:3'");
        assertEquals((await d.berth(["ps", "-aq", "--filter", "status=running"])).stdout, "");
      });
    } finally {
      await d.stop();
    }
  },
});
