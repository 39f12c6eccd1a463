import { assertEquals } from "../testing/assert.ts";
import { lockDown, privateMode } from "./perms.ts";

Deno.test("privateMode: nothing for others, a root group may only traverse", () => {
  assertEquals(privateMode(0o755, 0, true), 0o710);
  assertEquals(privateMode(0o701, 0, true), 0o700);
  assertEquals(privateMode(0o755, 100, true), 0o700);
  assertEquals(privateMode(0o4755, 0, false), 0o740);
  assertEquals(privateMode(0o600, 0, false), 0o600);
});

Deno.test("lockDown tightens the top and its direct children only", async () => {
  const top = await Deno.makeTempDir();
  try {
    await Deno.chmod(top, 0o755);
    await Deno.mkdir(`${top}/layers/x/diff`, { recursive: true, mode: 0o755 });
    await Deno.chmod(`${top}/layers`, 0o755);
    await Deno.mkdir(`${top}/sock`, { mode: 0o755 });
    await Deno.writeTextFile(`${top}/f`, "", { mode: 0o644 });
    await Deno.symlink("/etc", `${top}/link`);
    const changed = await lockDown(top, ["sock"]);
    const mode = async (p: string) => ((await Deno.stat(p)).mode ?? 0) & 0o7777;
    assertEquals(await mode(top), 0o711);
    assertEquals(await mode(`${top}/layers`), 0o710);
    assertEquals(await mode(`${top}/layers/x/diff`), 0o755);
    assertEquals(await mode(`${top}/sock`), 0o755);
    assertEquals(await mode(`${top}/f`), 0o640);
    assertEquals(await mode("/etc"), 0o755);
    assertEquals(changed.map((c) => c.path).sort(), [top, `${top}/f`, `${top}/layers`]);
    assertEquals(changed.some((c) => c.error), false);
    assertEquals(await lockDown(top, ["sock"]), []);
  } finally {
    await Deno.remove(top, { recursive: true });
  }
});

Deno.test({
  name: "lockDown reports, and does not fail on, a child it cannot chmod (a read-only mount)",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const top = await Deno.makeTempDir();
    const ro = `${top}/ro`;
    await Deno.mkdir(ro);
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "ro,mode=0755", "tmpfs", ro],
    }).output();
    try {
      if (!mount.success) throw new Error("mount tmpfs failed");
      const changed = await lockDown(top);
      const bad = changed.find((c) => c.path === ro);
      assertEquals(bad?.error, true);
      assertEquals(((await Deno.stat(top)).mode ?? 0) & 0o7777, 0o700); // stricter than 0711: kept
    } finally {
      await new Deno.Command("umount", { args: [ro] }).output();
      await Deno.remove(top, { recursive: true });
    }
  },
});
