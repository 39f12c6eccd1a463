import { assertEquals, assertRejects, assertThrows } from "../testing/assert.ts";
import {
  existsSync,
  ignoreNotFound,
  lstatIfExists,
  removeIfExists,
  removeIfExistsSync,
  statIfExists,
} from "./ignore.ts";
import { ContainerStore } from "../store/containers.ts";

Deno.test("ignoreNotFound: swallows only not-found, rethrows the rest", () => {
  ignoreNotFound(new Deno.errors.NotFound("gone"));
  ignoreNotFound(Object.assign(new Error("x"), { code: "ENOENT" }));
  assertThrows(
    () => ignoreNotFound(new Deno.errors.PermissionDenied("no")),
    Deno.errors.PermissionDenied,
  );
  assertThrows(() => ignoreNotFound(new Error("EBUSY")), Error, "EBUSY");
});

Deno.test("removeIfExists / statIfExists: a missing path is fine, other failures surface", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await removeIfExists(`${dir}/none`);
    removeIfExistsSync(`${dir}/none`);
    assertEquals(await statIfExists(`${dir}/none`), null);
    assertEquals(await lstatIfExists(`${dir}/none`), null);
    await Deno.mkdir(`${dir}/d/e`, { recursive: true });
    // a non-empty dir without `recursive` is a real failure, not "already gone"
    await assertRejects(() => removeIfExists(`${dir}/d`));
    await removeIfExists(`${dir}/d`, { recursive: true });
    assertEquals(await statIfExists(`${dir}/d`), null);
    // a file in the way of a path component: ENOTDIR, not "not found"
    await Deno.writeTextFile(`${dir}/f`, "");
    await assertRejects(() => statIfExists(`${dir}/f/x`));
    // existsSync: there or not, any failure is "not there"
    assertEquals([existsSync(`${dir}/f`), existsSync(dir)], [true, true]);
    assertEquals([existsSync(`${dir}/none`), existsSync(`${dir}/f/x`)], [false, false]);
    await Deno.symlink(`${dir}/none`, `${dir}/dangling`);
    assertEquals(existsSync(`${dir}/dangling`), false); // links followed
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("container store: an unreadable record is reported and left on disk, not dropped", async () => {
  const root = await Deno.makeTempDir();
  try {
    const id = "a".repeat(64), half = "b".repeat(64);
    await Deno.mkdir(`${root}/containers/${id}`, { recursive: true });
    await Deno.writeTextFile(`${root}/containers/${id}/config.v2.json`, "{ not json");
    await Deno.mkdir(`${root}/containers/${half}`); // half-created: no record at all
    const warnings: string[] = [];
    const store = new ContainerStore(root);
    await store.init((m) => warnings.push(m));
    assertEquals(store.list().length, 0);
    assertEquals(warnings.length, 1);
    assertEquals(warnings[0].includes(id), true);
    assertEquals(await Deno.readTextFile(`${root}/containers/${id}/config.v2.json`), "{ not json");
    assertEquals(await statIfExists(`${root}/containers/${half}`), null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
