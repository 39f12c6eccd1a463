import { assertEquals } from "../testing/assert.ts";
import { parentMount } from "./mount_opts.ts";

const MOUNTINFO = [
  "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "30 22 0:26 / /run rw,nosuid shared:5 - tmpfs tmpfs rw",
  "31 30 0:27 / /run/berth rw master:7 - tmpfs tmpfs rw",
  "40 22 0:30 / /tmp/a\\040b rw - tmpfs tmpfs rw",
  "41 31 0:40 / /run/berth/c/rootfs rw shared:9 master:3 - overlay overlay rw",
  "42 41 0:41 / /run/berth/c/rootfs rw - overlay overlay rw",
].join("\n");

Deno.test("parentMount: the mount holding a path (the top one of a stack), and whether it is shared", () => {
  assertEquals(parentMount(MOUNTINFO, "/run/berth/x/rootfs"), { at: "/run/berth", shared: false });
  assertEquals(parentMount(MOUNTINFO, "/run/other"), { at: "/run", shared: true });
  assertEquals(parentMount(MOUNTINFO, "/runx"), { at: "/", shared: true });
  assertEquals(parentMount(MOUNTINFO, "/tmp/a b/rootfs"), { at: "/tmp/a b", shared: false });
  // a rootfs that is a mount point is its own parent (as runc's); the last of a stack counts
  assertEquals(parentMount(MOUNTINFO, "/run/berth/c/rootfs"), {
    at: "/run/berth/c/rootfs",
    shared: false,
  });
});
