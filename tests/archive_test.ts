/**
 * `docker cp` and `docker export` (the stock docker CLI) against `berth
 * daemon`: files, directories and symlinks both ways, a symlink in the
 * container pointing out of it, ownership with -a, a stopped container, a
 * volume, read-only mounts, the stat header and Docker's errors.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, teardown } from "./containers_helpers.ts";
import { run } from "./fixtures/daemon.ts";
import { statHeader } from "./archive_helpers.ts";

Deno.test("archive: docker cp both ways, symlinks confined, -a, stopped container, volume, export", async (t) => {
  const d = await containerDaemon();
  const k = (args: string[], stdin?: string | Uint8Array) =>
    d.docker(args, { stdin, timeoutMs: 30000 });
  const host = await Deno.makeTempDir({ prefix: "berth-cp-" });
  const hostTmpName = `berth-escape-${Deno.pid}-${Date.now()}`;
  try {
    expectCode(
      await k(["run", "-d", "--name", "cpc", "-v", "cpvol:/data", "busybox", "sleep", "1000"]),
      0,
    );
    expectCode(
      await k([
        "exec",
        "cpc",
        "sh",
        "-c",
        "mkdir -p /d/sub && echo hi > /d/sub/f && chown 1234:1234 /d/sub/f && " +
        "ln -s sub /d/lnk && ln -s / /escape && echo vol > /data/vf",
      ]),
      0,
    );

    await t.step("HEAD: the stat header as Docker 20.10", async () => {
      let st = await statHeader(d.socket, "cpc", "/d/lnk");
      assertEquals(st.status, 200);
      assertEquals({ ...st.stat, mtime: "" }, {
        name: "lnk",
        size: 3,
        mode: 134218239,
        mtime: "",
        linkTarget: "/d/sub",
      });
      st = await statHeader(d.socket, "cpc", "/d");
      assertEquals([st.stat?.name, st.stat?.mode], ["d", 2147484141]);
      st = await statHeader(d.socket, "cpc", "/escape");
      assertEquals(st.stat?.linkTarget, "/");
      st = await statHeader(d.socket, "cpc", "/nope");
      assertEquals(st.status, 404);
    });

    await t.step("into the container: file, dir, stdin tar", async () => {
      await Deno.writeTextFile(`${host}/f1`, "one\n");
      await Deno.mkdir(`${host}/dir/sub`, { recursive: true });
      await Deno.writeTextFile(`${host}/dir/sub/z`, "zz\n");
      await Deno.symlink("sub/z", `${host}/dir/zl`);
      expectCode(await k(["cp", `${host}/f1`, "cpc:/tmp/f1"]), 0);
      expectCode(await k(["cp", `${host}/dir`, "cpc:/newdir"]), 0);
      const r = expectCode(
        await k(["exec", "cpc", "sh", "-c", "cat /tmp/f1 /newdir/sub/z; readlink /newdir/zl"]),
        0,
      );
      assertEquals(r.stdout, "one\nzz\nsub/z\n");
      const tar = (await run(["tar", "-c", "-C", host, "f1"])).out;
      expectCode(await k(["cp", "-", "cpc:/d"], tar), 0);
      assertEquals(expectCode(await k(["exec", "cpc", "cat", "/d/f1"]), 0).stdout, "one\n");
      const e = expectCode(await k(["cp", "-", "cpc:/tmp/f1"], tar), 1);
      assertStringIncludes(e.stderr, `destination "cpc:/tmp/f1" must be a directory`);
    });

    await t.step("a symlink in the container pointing out of it never escapes", async () => {
      await Deno.writeTextFile(`${host}/payload`, "inside\n");
      expectCode(await k(["cp", `${host}/payload`, `cpc:/escape/tmp/${hostTmpName}`]), 0);
      assertEquals(await exists(`/tmp/${hostTmpName}`), false, "written on the host");
      let r = expectCode(await k(["exec", "cpc", "cat", `/tmp/${hostTmpName}`]), 0);
      assertEquals(r.stdout, "inside\n");
      // a tar whose own entries climb through the container's symlink
      const src = `${host}/evil`;
      await Deno.mkdir(`${src}/escape/tmp`, { recursive: true });
      await Deno.writeTextFile(`${src}/escape/tmp/${hostTmpName}-2`, "inside2\n");
      const tar = (await run(["tar", "-c", "-C", src, `escape/tmp/${hostTmpName}-2`])).out;
      expectCode(await k(["cp", "-", "cpc:/"], tar), 0);
      assertEquals(await exists(`/tmp/${hostTmpName}-2`), false, "written on the host");
      r = expectCode(await k(["exec", "cpc", "cat", `/tmp/${hostTmpName}-2`]), 0);
      assertEquals(r.stdout, "inside2\n");
      // and out: the link itself, not the host's root
      expectCode(await k(["cp", "cpc:/escape", `${host}/esc`]), 0);
      assertEquals(await Deno.readLink(`${host}/esc`), "/");
    });

    await t.step("out of the container: dir with symlink, -L, stdout tar, errors", async () => {
      expectCode(await k(["cp", "cpc:/d", `${host}/out`]), 0);
      assertEquals(await Deno.readTextFile(`${host}/out/sub/f`), "hi\n");
      assertEquals(await Deno.readLink(`${host}/out/lnk`), "sub");
      expectCode(await k(["cp", "-L", "cpc:/d/lnk", `${host}/lnkL`]), 0);
      assertEquals(await Deno.readTextFile(`${host}/lnkL/f`), "hi\n");
      const r = expectCode(await k(["cp", "cpc:/d", "-"]), 0);
      await Deno.writeFile(`${host}/d.tar`, r.out);
      const names = (await run(["tar", "-tvf", `${host}/d.tar`])).stdout;
      assertStringIncludes(names, "1234/1234");
      assertEquals(
        (await run(["tar", "-tf", `${host}/d.tar`])).stdout.split("\n").filter(Boolean).sort(),
        ["d/", "d/f1", "d/lnk", "d/sub/", "d/sub/f"],
      );
      let e = expectCode(await k(["cp", "cpc:/nope", host]), 1);
      assertEquals(
        e.stderr.trim(),
        "Error response from daemon: Could not find the file /nope in container cpc",
      );
      // A file named as a directory is ENOTDIR: 500, not 404 (moby
      // integration/container TestCopyFromContainerPathIsNotDir).
      e = expectCode(await k(["cp", "cpc:/d/sub/f/", host]), 1);
      assertEquals(e.stderr.trim(), "Error response from daemon: lstat /d/sub/f/: not a directory");
      assertEquals((await statHeader(d.socket, "cpc", "/d/sub/f/")).status, 500);
      assertEquals((await statHeader(d.socket, "cpc", "/d/sub/f/x")).status, 500);
      e = expectCode(await k(["cp", `${host}/f1`, "nosuch:/tmp"]), 1);
      assertStringIncludes(e.stderr, "No such container: nosuch");
    });

    await t.step("ownership: kept from the tar; -a gives the container user's", async () => {
      await Deno.writeTextFile(`${host}/owned`, "o\n");
      await Deno.chown(`${host}/owned`, 1234, 2345);
      expectCode(await k(["cp", "-a", `${host}/owned`, "cpc:/tmp/owned"]), 0);
      let r = expectCode(await k(["exec", "cpc", "stat", "-c", "%u:%g", "/tmp/owned"]), 0);
      assertEquals(r.stdout, "1234:2345\n");
      expectCode(
        await k(["run", "-d", "--name", "cpu", "-u", "alice", "busybox", "sleep", "1000"]),
        0,
      );
      expectCode(await k(["cp", "-a", `${host}/owned`, "cpu:/tmp/owned"]), 0);
      r = expectCode(await k(["exec", "cpu", "stat", "-c", "%u:%g", "/tmp/owned"]), 0);
      assertEquals(r.stdout, "1000:1000\n");
    });

    await t.step("volume: in and out through the mount point", async () => {
      expectCode(await k(["cp", `${host}/f1`, "cpc:/data/"]), 0);
      let r = expectCode(await k(["run", "--rm", "-v", "cpvol:/v", "busybox", "cat", "/v/f1"]), 0);
      assertEquals(r.stdout, "one\n");
      r = expectCode(await k(["cp", "cpc:/data/vf", "-"]), 0);
      await Deno.writeFile(`${host}/vf.tar`, r.out);
      assertEquals((await run(["tar", "-xOf", `${host}/vf.tar`])).stdout, "vol\n");
      expectCode(
        await k(["run", "-d", "--name", "ro", "-v", `${host}:/h:ro`, "busybox", "sleep", "1000"]),
        0,
      );
      const e = expectCode(await k(["cp", `${host}/f1`, "ro:/h/f2"]), 1);
      assertStringIncludes(e.stderr, "mounted volume is marked read-only");
    });

    await t.step("stopped container: both ways, then start sees it", async () => {
      expectCode(await k(["stop", "-t", "0", "cpc"]), 0);
      expectCode(await k(["cp", `${host}/f1`, "cpc:/tmp/stopped"]), 0);
      const r = expectCode(await k(["cp", "cpc:/data/vf", "-"]), 0);
      assert(r.out.length >= 1024);
      expectCode(await k(["start", "cpc"]), 0);
      assertEquals(expectCode(await k(["exec", "cpc", "cat", "/tmp/stopped"]), 0).stdout, "one\n");
    });

    await t.step("export: the rootfs without volumes", async () => {
      const r = expectCode(await k(["export", "cpc"]), 0);
      await Deno.writeFile(`${host}/c.tar`, r.out);
      const names = (await run(["tar", "-tf", `${host}/c.tar`])).stdout.split("\n");
      for (const n of ["bin/busybox", "d/sub/f", "tmp/stopped", "newdir/sub/z"]) {
        assert(names.includes(n), `${n} missing from export`);
      }
      assert(!names.includes("data/vf"), "volume content exported");
    });

    await t.step("no view of a container left mounted", async () => {
      const mi = await Deno.readTextFile("/proc/self/mountinfo");
      assertEquals(mi.split("\n").filter((l) => l.includes(`${d.execRoot}/archive/`)), []);
    });
  } finally {
    await Deno.remove(`/tmp/${hostTmpName}`).catch(() => {});
    await Deno.remove(`/tmp/${hostTmpName}-2`).catch(() => {});
    await teardown(d);
    await Deno.remove(host, { recursive: true });
  }
});

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}
