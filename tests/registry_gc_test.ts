/**
 * `berth registry gc`: mark-and-sweep keeps every blob a manifest references
 * (and young blobs of pushes in progress, and upload sessions), deletes the rest.
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { MemoryStore, pull } from "../core/distribution/mod.ts";
import { collectGarbage } from "../modes/registry/gc.ts";
import { Paths } from "../modes/registry/paths.ts";
import {
  digestOf,
  pushRandomImage,
  putBlob,
  randomBytes,
  startTestRegistry,
} from "../modes/registry/testutil.ts";

async function age(root: string, seconds: number): Promise<void> {
  const t = new Date(Date.now() - seconds * 1000);
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      await Deno.utime(p, t, t);
    }
  };
  await walk(root);
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("registry gc: mark and sweep", async () => {
  const reg = await startTestRegistry();
  const paths = new Paths(reg.root);
  try {
    const u = reg.url;
    const keep = await pushRandomImage(u, "g/keep", "1");
    const drop = await pushRandomImage(u, "g/drop", "1");
    // A blob shared by a kept and a dropped image (mounted into g/drop, then referenced there only).
    const orphan = await putBlob(u, "g/drop", randomBytes(500));
    // An upload in flight.
    const p = await fetch(`${u}/v2/g/keep/blobs/uploads/`, { method: "POST" });
    await p.body?.cancel();
    const loc = `${u}${p.headers.get("location")}`;
    const part = await fetch(loc, {
      method: "PATCH",
      body: randomBytes(100),
      headers: { "Content-Range": "0-99" },
    });
    await part.body?.cancel();
    // Drop g/drop's manifest; its blobs are now referenced by nothing.
    const del = await fetch(`${u}/v2/g/drop/manifests/${drop.digest}`, { method: "DELETE" });
    await del.body?.cancel();
    assertEquals(del.status, 202);

    // Everything is young: nothing is collected.
    let r = await collectGarbage(reg.root);
    assertEquals(r.deleted, []);

    await age(reg.root, 7200);
    // A young blob (just pushed, its manifest not yet there) survives.
    const young = await putBlob(u, "g/new", randomBytes(300));

    r = await collectGarbage(reg.root, { dryRun: true });
    const expected = [drop.layer, drop.config, drop.digest, orphan].sort();
    assertEquals(r.deleted.sort(), expected);
    for (const d of expected) assert(await exists(paths.blobData(d)), "dry run deletes nothing");

    r = await collectGarbage(reg.root);
    assertEquals(r.deleted.sort(), expected);
    assertEquals(r.freedBytes > 0, true);
    for (const d of expected) assert(!(await exists(paths.blobData(d))));
    for (const d of [keep.layer, keep.config, keep.digest, young]) {
      assert(await exists(paths.blobData(d)), d);
    }
    assert(!(await exists(paths.layerLink("g/drop", orphan))), "dangling link removed");
    // The upload in flight is untouched and can still be completed.
    const body = randomBytes(50);
    const fin = await fetch(`${loc}?digest=${digestOf("x")}`, { method: "GET" });
    await fin.body?.cancel();
    assertEquals(fin.status, 204);
    const more = await fetch(loc, {
      method: "PATCH",
      body,
      headers: { "Content-Range": "100-149" },
    });
    await more.body?.cancel();
    assertEquals(more.status, 202);
    // The kept image still pulls.
    // An upload idle for longer than the limit is purged.
    await age(`${reg.root}/uploads`, 8 * 86400);
    r = await collectGarbage(reg.root);
    assertEquals(r.purgedUploads, [loc.slice(loc.lastIndexOf("/") + 1)]);
    const gone = await fetch(loc);
    await gone.body?.cancel();
    assertEquals(gone.status, 404);
    const res = await pull(`${reg.host}/g/keep:1`, { sink: new MemoryStore() });
    assertEquals(res.manifestDigest, keep.digest);
    assertEquals(
      (await fetch(`${u}/v2/g/drop/blobs/${drop.layer}`, { method: "HEAD" })).status,
      404,
    );
  } finally {
    await reg.close();
  }
});

Deno.test("registry gc: CLI", async () => {
  const reg = await startTestRegistry();
  try {
    await pushRandomImage(reg.url, "c/li", "1");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "registry",
        "gc",
        "--dry-run",
        "--root",
        reg.root,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assert(new TextDecoder().decode(out.stdout).includes("would delete 0 blobs"));
  } finally {
    await reg.close();
  }
});
