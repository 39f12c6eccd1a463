/**
 * Orphan sweep, run inside a throwaway netns (links and iptables there only).
 */
import { assertEquals } from "../../../core/testing/assert.ts";
import { delNetns, newNetns, sh } from "../../../core/net/_testutil.ts";

Deno.test("orphans: a dead instance's links and chains are removed, a live one's kept", async () => {
  const ns = await newNetns();
  const dead = `d${crypto.randomUUID().slice(0, 3)}`, live = `l${crypto.randomUUID().slice(0, 3)}`;
  const liveRoot = await Deno.makeTempDir({ prefix: "berth-orphan-" });
  const script = `
    import { registerAndSweep, REGISTRY } from "${
    new URL("./orphans.ts", import.meta.url).pathname
  }";
    import { tryLock } from "${new URL("../../../core/sys/lock.ts", import.meta.url).pathname}";
    const sh = (a) => new Deno.Command(a[0], { args: a.slice(1), stdout: "null", stderr: "null" }).output();
    for (const t of ["${dead}", "${live}"]) {
      await sh(["ip", "link", "add", "br" + t, "type", "bridge"]);
      await sh(["ip", "link", "set", "br" + t, "alias", "berth:" + t + ":n:x"]);
      await sh(["iptables", "-t", "nat", "-N", "BERTH" + t]);
    }
    await Deno.mkdir(REGISTRY, { recursive: true });
    await Deno.writeTextFile(REGISTRY + "/${dead}", "/nonexistent/berth-root");
    await Deno.writeTextFile(REGISTRY + "/${live}", "${liveRoot}");
    const fd = tryLock("${liveRoot}/berth.lock"); // the live daemon holds its lock
    await registerAndSweep("me${dead}", "/tmp/me");
    const links = new TextDecoder().decode((await new Deno.Command("ip", { args: ["-o", "link"], stdout: "piped" }).output()).stdout);
    const rules = new TextDecoder().decode((await new Deno.Command("iptables-save", { args: ["-t", "nat"], stdout: "piped" }).output()).stdout);
    console.log(JSON.stringify({
      dead: links.includes("br${dead}") || rules.includes("BERTH${dead}"),
      live: links.includes("br${live}") && rules.includes("BERTH${live}"),
      deadReg: await Deno.stat(REGISTRY + "/${dead}").then(() => true, () => false),
    }));
    for (const f of ["${live}", "me${dead}"]) await Deno.remove(REGISTRY + "/" + f).catch(() => {});
  `;
  try {
    const r = await sh(["ip", "netns", "exec", ns.name, Deno.execPath(), "eval", script]);
    const res = JSON.parse(r.stdout.trim().split("\n").pop() || "{}");
    assertEquals(res, { dead: false, live: true, deadReg: false }, r.stderr);
  } finally {
    await delNetns(ns.name);
    await Deno.remove(liveRoot, { recursive: true });
  }
});
