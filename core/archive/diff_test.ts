import { assertEquals } from "../testing/assert.ts";
import { sha256Digest } from "../oci/digest.ts";
import { applyLayer, diffFromUpper, packDir, readTar } from "./mod.ts";
import { bytes, sh, snapshot, streamOf } from "./_testutil.ts";

const w = (p: string, s: string) => Deno.writeTextFileSync(p, s);

/** A real overlay mount: lower files, then deletions, an opaque dir, additions. */
Deno.test("diffFromUpper on a real overlay mount; applying it reproduces the merged view", async () => {
  const t = await Deno.makeTempDir({ prefix: "berth-diff-" });
  const mounted: string[] = [];
  try {
    for (const d of ["lower/dir", "lower/keep", "lower/sub/deep", "upper", "work", "merged"]) {
      Deno.mkdirSync(`${t}/${d}`, { recursive: true });
    }
    for (const f of ["a", "dir/x", "dir/y", "del", "keep/k", "sub/deep/f", "sub/deep/g"]) {
      w(`${t}/lower/${f}`, `lower ${f}`);
    }
    sh(
      "mount",
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${t}/lower,upperdir=${t}/upper,workdir=${t}/work`,
      `${t}/merged`,
    );
    mounted.push(`${t}/merged`);
    const m = `${t}/merged`;
    Deno.removeSync(`${m}/del`);
    Deno.removeSync(`${m}/dir`, { recursive: true });
    Deno.mkdirSync(`${m}/dir`);
    w(`${m}/dir/z`, "new z");
    w(`${m}/newfile`, "new");
    Deno.linkSync(`${m}/newfile`, `${m}/newfile-hl`);
    Deno.symlinkSync("newfile", `${m}/new-link`);
    Deno.chmodSync(`${m}/a`, 0o600);
    w(`${m}/keep/k2`, "k2");
    Deno.removeSync(`${m}/sub/deep/f`);
    const skip = { skipXattr: (k: string) => k.startsWith("trusted.overlay.") };
    const merged = snapshot(m, skip);
    sh("umount", m);
    mounted.pop();

    const diff = await bytes(diffFromUpper(`${t}/upper`));
    const names: string[] = [];
    for await (const e of readTar(streamOf(diff))) names.push(`${e.header.type} ${e.header.name}`);
    assertEquals(names, [
      "file a",
      "file .wh.del", // sorted by the name it hides
      "dir dir/",
      "file dir/.wh..wh..opq",
      "file dir/z",
      "dir keep/",
      "file keep/k2",
      "symlink new-link",
      "file newfile",
      "link newfile-hl",
      "dir sub/",
      "dir sub/deep/",
      "file sub/deep/.wh.f",
    ]);
    assertEquals(sha256Digest(await bytes(diffFromUpper(`${t}/upper`))), sha256Digest(diff));

    // delete mode, on a plain copy of the lower layer
    Deno.mkdirSync(`${t}/copy`);
    await applyLayer(packDir(`${t}/lower`), `${t}/copy`);
    const r = await applyLayer(streamOf(diff), `${t}/copy`, { whiteouts: "delete" });
    assertEquals(r.diffID, sha256Digest(diff));
    assertEquals(snapshot(`${t}/copy`, skip), merged);

    // overlay mode, used as an upper lower layer of a fresh read-only mount
    Deno.mkdirSync(`${t}/layer`);
    Deno.mkdirSync(`${t}/merged2`);
    await applyLayer(streamOf(diff), `${t}/layer`, { whiteouts: "overlay" });
    sh("mount", "-t", "overlay", "overlay", "-o", `lowerdir=${t}/layer:${t}/lower`, `${t}/merged2`);
    mounted.push(`${t}/merged2`);
    assertEquals(snapshot(`${t}/merged2`, skip), merged);
  } finally {
    for (const p of mounted) new Deno.Command("umount", { args: ["-l", p] }).outputSync();
    await Deno.remove(t, { recursive: true });
  }
});
