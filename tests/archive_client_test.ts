/**
 * berth's own client: `berth cp` (both ways, -a, -L, `-`), `berth export`,
 * and `berth system df [-v]` over GET /system/df, printed as the docker CLI
 * prints it against the same daemon.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, teardown } from "./containers_helpers.ts";
import { run } from "./fixtures/daemon.ts";

Deno.test("archive client: berth cp and export", async (t) => {
  const d = await containerDaemon();
  const b = (args: string[], stdin?: string | Uint8Array) =>
    d.berth(args, { stdin, timeoutMs: 30000 });
  const host = await Deno.makeTempDir({ prefix: "berth-cpc-" });
  try {
    expectCode(
      await b(["run", "-d", "--name", "bc", "-v", "bcvol:/data", "busybox", "sleep", "1000"]),
      0,
    );
    expectCode(
      await b([
        "exec",
        "bc",
        "sh",
        "-c",
        "mkdir -p /d/sub && echo hi > /d/sub/f && chown 1234:1234 /d/sub/f && " +
        "ln -s sub /d/lnk && ln -s / /escape",
      ]),
      0,
    );

    await t.step("in: file, dir, through an escaping symlink, stdin tar", async () => {
      await Deno.writeTextFile(`${host}/f1`, "one\n");
      await Deno.mkdir(`${host}/dir/sub`, { recursive: true });
      await Deno.writeTextFile(`${host}/dir/sub/z`, "zz\n");
      expectCode(await b(["cp", `${host}/f1`, "bc:/tmp/f1"]), 0);
      expectCode(await b(["cp", `${host}/dir`, "bc:/newdir"]), 0);
      expectCode(await b(["cp", `${host}/dir/.`, "bc:/data/"]), 0);
      const name = `berth-cpc-${Deno.pid}-${Date.now()}`;
      expectCode(await b(["cp", `${host}/f1`, `bc:/escape/tmp/${name}`]), 0);
      const onHost = await Deno.lstat(`/tmp/${name}`).then(() => true, () => false);
      await Deno.remove(`/tmp/${name}`).catch(() => {});
      assertEquals(onHost, false, "written on the host");
      const tar = (await run(["tar", "-c", "-C", host, "f1"])).out;
      expectCode(await b(["cp", "-", "bc:/d"], tar), 0);
      const r = expectCode(
        await b([
          "exec",
          "bc",
          "sh",
          "-c",
          `cat /tmp/f1 /newdir/sub/z /data/sub/z /tmp/${name} /d/f1`,
        ]),
        0,
      );
      assertEquals(r.stdout, "one\nzz\nzz\none\none\n");
    });

    await t.step("out: dir, -a keeps owners, -L, stdout tar", async () => {
      expectCode(await b(["cp", "bc:/d", `${host}/out`]), 0);
      assertEquals(await Deno.readTextFile(`${host}/out/sub/f`), "hi\n");
      assertEquals(await Deno.readLink(`${host}/out/lnk`), "sub");
      assertEquals((await Deno.stat(`${host}/out/sub/f`)).uid, 0);
      expectCode(await b(["cp", "-a", "bc:/d", `${host}/outa`]), 0);
      assertEquals((await Deno.stat(`${host}/outa/sub/f`)).uid, 1234);
      expectCode(await b(["cp", "-L", "bc:/d/lnk", `${host}/lnkL`]), 0);
      assertEquals(await Deno.readTextFile(`${host}/lnkL/f`), "hi\n");
      expectCode(await b(["cp", "bc:/escape", `${host}/esc`]), 0);
      assertEquals(await Deno.readLink(`${host}/esc`), "/");
      const r = expectCode(await b(["cp", "bc:/d/.", "-"]), 0);
      await Deno.writeFile(`${host}/d.tar`, r.out);
      const names = (await run(["tar", "-tf", `${host}/d.tar`])).stdout.split("\n").filter(Boolean);
      assertEquals(names.sort(), ["./", "./f1", "./lnk", "./sub/", "./sub/f"]);
    });

    await t.step("docker's messages and exit codes", async () => {
      const cases: [string[], string][] = [
        [
          ["cp", "bc:/nope", host],
          "Error response from daemon: Could not find the file /nope in container bc",
        ],
        [
          ["cp", `${host}/f1`, "nosuch:/tmp"],
          "Error response from daemon: No such container: nosuch",
        ],
        [["cp", `${host}/nope`, "bc:/tmp"], `lstat ${host}/nope: no such file or directory`],
        [["cp", `${host}/dir`, "bc:/tmp/f1"], "cannot copy directory"],
        [
          ["cp", "bc:/d", "/nonexistent-dir/x"],
          `invalid output path: directory "/nonexistent-dir" does not exist`,
        ],
        [["cp", "bc:/d/sub/f", `${host}/nodir/`], "no such directory"],
        [["cp", "bc:/d", "bc:/x"], "copying between containers is not supported"],
        [["cp", "a", "b"], "must specify at least one container source"],
        [["cp", "-", "bc:/tmp/f1"], `destination "bc:/tmp/f1" must be a directory`],
      ];
      for (const [args, msg] of cases) {
        const r = expectCode(await b(args, ""), 1, args.join(" "));
        assertEquals(r.stderr.trim(), msg, args.join(" "));
      }
      const r = expectCode(await b(["cp", "x"]), 1);
      assertStringIncludes(r.stderr, `"berth cp" requires exactly 2 arguments.`);
    });

    await t.step("export -o and to stdout", async () => {
      expectCode(await b(["export", "-o", `${host}/e.tar`, "bc"]), 0);
      const names = (await run(["tar", "-tf", `${host}/e.tar`])).stdout.split("\n");
      assert(names.includes("d/sub/f") && names.includes("bin/busybox"));
      const r = expectCode(await b(["export", "bc"]), 0);
      assertEquals(r.out.length, (await Deno.stat(`${host}/e.tar`)).size);
      const e = expectCode(await b(["export", "nosuch"]), 1);
      assertEquals(e.stderr.trim(), "Error response from daemon: No such container: nosuch");
    });
  } finally {
    await teardown(d);
    await Deno.remove(host, { recursive: true });
  }
});

Deno.test("system df: the endpoint's shape; berth prints what docker prints", async () => {
  const d = await containerDaemon();
  try {
    expectCode(
      await d.berth([
        "run",
        "-d",
        "--name",
        "dfa",
        "-v",
        "dfvol:/v",
        "busybox",
        "sh",
        "-c",
        "echo 12345 > /x; echo v > /v/y; exec sleep 1000",
      ]),
      0,
    );
    expectCode(await d.berth(["run", "--name", "dfb", "busybox", "sh", "-c", "echo abc > /y"]), 0);
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path: d.socket } });
    // deno-lint-ignore no-explicit-any
    let df: any;
    try {
      const res = await fetch("http://d/v1.41/system/df", { client });
      assertEquals(res.status, 200);
      df = await res.json();
    } finally {
      client.close();
    }
    assertEquals(Object.keys(df).sort(), [
      "BuildCache",
      "Containers",
      "Images",
      "LayersSize",
      "Volumes",
    ]);
    assert(df.LayersSize > 0);
    assertEquals(df.Images.length, 1);
    assertEquals([df.Images[0].Containers, df.Images[0].SharedSize], [2, 0]);
    assertEquals(df.Images[0].VirtualSize, df.Images[0].Size);
    const byName = Object.fromEntries(
      // deno-lint-ignore no-explicit-any
      df.Containers.map((c: any) => [c.Names[0], c]),
    );
    assertEquals([byName["/dfa"].SizeRw, byName["/dfb"].SizeRw], [6, 4]);
    assertEquals(byName["/dfa"].State, "running");
    // deno-lint-ignore no-explicit-any
    const vol = df.Volumes.find((v: any) => v.Name === "dfvol");
    assertEquals(vol.UsageData, { Size: 2, RefCount: 1 });
    assertEquals(df.BuildCache, []);
    for (const args of [["system", "df"], ["system", "df", "-v"]]) {
      const mine = expectCode(await d.berth(args), 0).stdout;
      const theirs = expectCode(await d.docker(args), 0).stdout;
      assertEquals(norm(mine), norm(theirs), args.join(" "));
    }
    assertEquals(
      expectCode(await d.berth(["system", "df", "--format", "{{.Type}}:{{.TotalCount}}"]), 0)
        .stdout,
      "Images:1\nContainers:2\nLocal Volumes:1\nBuild Cache:0\n",
    );
  } finally {
    await teardown(d);
  }
});

/** Durations ("3 seconds") change between two runs, and with them the column widths. */
function norm(s: string): string {
  return s.replace(/\b(\d+|Less than a|About a) (seconds?|minutes?)\b/g, "N").replace(
    / {2,}/g,
    "  ",
  );
}
