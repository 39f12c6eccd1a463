import { assertEquals } from "../testing/assert.ts";
import { parseMountOptions } from "./mount_opts.ts";
import { resolveInRoot } from "./securejoin.ts";
import { parseLayout } from "./cgroups.ts";
import * as c from "../sys/libc_proc.ts";

Deno.test("mount options → flags, propagation, data", () => {
  const o = parseMountOptions([
    "nosuid",
    "noexec",
    "ro",
    "rbind",
    "rprivate",
    "mode=755",
    "size=1m",
    "rw",
  ]);
  assertEquals(o.flags, c.MS_NOSUID | c.MS_NOEXEC | c.MS_BIND | c.MS_REC);
  assertEquals(o.propagation, [c.MS_PRIVATE | c.MS_REC]);
  assertEquals(o.data, "mode=755,size=1m");
});

Deno.test("resolveInRoot keeps symlinks and .. inside the root", async () => {
  const r = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${r}/a/b`, { recursive: true });
    await Deno.symlink("/etc", `${r}/abs`);
    await Deno.symlink("../../..", `${r}/a/b/up`);
    await Deno.symlink("b", `${r}/a/rel`);
    assertEquals(resolveInRoot(r, "/abs/passwd"), `${r}/etc/passwd`);
    assertEquals(resolveInRoot(r, "/a/b/up/x"), `${r}/x`);
    assertEquals(resolveInRoot(r, "../../x"), `${r}/x`);
    assertEquals(resolveInRoot(r, "/a/rel/c"), `${r}/a/b/c`);
    assertEquals(resolveInRoot(r, "/"), r);
  } finally {
    await Deno.remove(r, { recursive: true });
  }
});

Deno.test("cgroup layout detection: v1, v2, hybrid", () => {
  const v1 = "31 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n" +
    "32 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
    "33 25 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n";
  const l1 = parseLayout(v1);
  assertEquals(l1.kind, "v1");
  assertEquals(l1.hierarchies.map((h) => h.controllers), [["memory"], ["cpu", "cpuacct"], [
    "name=systemd",
  ]]);
  const v2 = "30 25 0:25 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
  assertEquals(parseLayout(v2).kind, "v2");
  const hy = parseLayout(v1 + "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  assertEquals(hy.kind, "hybrid");
  // another mount of a hierarchy outside /sys/fs/cgroup (a tool's, a test's) is not used
  const extra = "77 25 0:38 / /tmp/berth-cg2-x rw - cgroup2 none rw\n" +
    "78 25 0:26 / /mnt/mem rw - cgroup cgroup rw,memory\n";
  const hx = parseLayout(v1 + extra);
  assertEquals([hx.kind, hx.hierarchies.length], ["v1", 3]);
  assertEquals(parseLayout("77 25 0:38 / /custom/cg rw - cgroup2 none rw\n").hierarchies, [
    { mountpoint: "/custom/cg", controllers: [], v2: true },
  ]);
});
