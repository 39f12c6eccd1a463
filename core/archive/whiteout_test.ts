import { assert, assertEquals } from "../testing/assert.ts";
import { lgetxattr, splitDev } from "../sys/libc_fs.ts";
import { applyLayer } from "./mod.ts";
import { type E, makeTar, streamOf } from "./_testutil.ts";

async function withTmp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "berth-wh-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const LAYER: E[] = [
  { name: "d", type: "dir" },
  { name: "d/.wh..wh..opq", type: "file" },
  { name: "d/new", type: "file", data: "new" },
  { name: ".wh.gone", type: "file" },
  { name: "keep/.wh.x", type: "file", uid: 7, gid: 8 },
  { name: ".wh..wh.plnk/123", type: "file", data: "aufs" },
  { name: ".wh..wh.aufs", type: "file" },
  { name: "same", type: "file", data: "mine" },
  { name: ".wh.same", type: "file" },
];

function isWhiteout(p: string): boolean {
  const st = Deno.lstatSync(p);
  const d = splitDev(st.rdev ?? 1);
  return !!st.isCharDevice && d.major === 0 && d.minor === 0;
}

Deno.test("whiteouts, overlay mode: 0/0 char devices and the opaque xattr", async () => {
  await withTmp(async (t) => {
    await applyLayer(streamOf(await makeTar(LAYER)), t, { whiteouts: "overlay" });
    assertEquals(lgetxattr(`${t}/d`, "trusted.overlay.opaque"), new TextEncoder().encode("y"));
    assertEquals(Deno.readTextFileSync(`${t}/d/new`), "new");
    assert(isWhiteout(`${t}/gone`));
    assert(isWhiteout(`${t}/keep/x`));
    assertEquals(Deno.lstatSync(`${t}/keep/x`).uid, 7);
    assertEquals(
      Deno.readTextFileSync(`${t}/same`),
      "mine",
      "a whiteout never hides its own layer",
    );
    assertEquals([...Deno.readDirSync(t)].map((e) => e.name).sort(), ["d", "gone", "keep", "same"]);
  });
});

Deno.test("whiteouts, delete mode: remove lower entries, opaque prunes only the lower children", async () => {
  await withTmp(async (t) => {
    for (const d of ["d/sub", "gone/deep", "keep"]) {
      Deno.mkdirSync(`${t}/${d}`, { recursive: true });
    }
    for (const f of ["d/old", "d/sub/old2", "gone/deep/f", "keep/x", "keep/y", "same"]) {
      Deno.writeTextFileSync(`${t}/${f}`, "lower");
    }
    Deno.symlinkSync("/", `${t}/gone-link`);
    const layer: E[] = [
      { name: "d/sub/", type: "dir" },
      { name: "d/sub/mine", type: "file", data: "m" }, // before the opq marker: must survive
      ...LAYER,
      { name: ".wh.gone-link", type: "file" },
      { name: "nodir/.wh.x", type: "file" }, // parent absent: nothing to do
    ];
    await applyLayer(streamOf(await makeTar(layer)), t, { whiteouts: "delete" });
    const ls = (d: string) => [...Deno.readDirSync(`${t}/${d}`)].map((e) => e.name).sort();
    assertEquals(ls(""), ["d", "keep", "same"]);
    assertEquals(ls("d"), ["new", "sub"]);
    assertEquals(ls("d/sub"), ["mine"]);
    assertEquals(ls("keep"), ["y"]);
    assertEquals(Deno.readTextFileSync(`${t}/same`), "mine");
    assertEquals(lgetxattr(`${t}/d`, "trusted.overlay.opaque"), null);
  });
});

Deno.test("existing entries: non-dir replaces anything, dir merges into dir, dir replaces non-dir", async () => {
  await withTmp(async (t) => {
    Deno.mkdirSync(`${t}/was-dir/child`, { recursive: true });
    Deno.mkdirSync(`${t}/merge`);
    Deno.writeTextFileSync(`${t}/merge/lower`, "l");
    Deno.writeTextFileSync(`${t}/was-file`, "f");
    Deno.symlinkSync("merge", `${t}/was-link`);
    await applyLayer(
      streamOf(
        await makeTar([
          { name: "was-dir", type: "file", data: "now a file" },
          { name: "merge/", type: "dir", mode: 0o711, uid: 5 },
          { name: "merge/upper", type: "file" },
          { name: "was-file/", type: "dir" },
          { name: "was-link/", type: "dir" },
        ]),
      ),
      t,
    );
    assertEquals(Deno.readTextFileSync(`${t}/was-dir`), "now a file");
    assertEquals([...Deno.readDirSync(`${t}/merge`)].map((e) => e.name).sort(), ["lower", "upper"]);
    assertEquals(Deno.statSync(`${t}/merge`).mode! & 0o7777, 0o711);
    assertEquals(Deno.statSync(`${t}/merge`).uid, 5);
    assert(Deno.lstatSync(`${t}/was-file`).isDirectory);
    assert(Deno.lstatSync(`${t}/was-link`).isDirectory);
  });
});
