/**
 * 50 containers on one user-defined network all resolve each other through
 * the embedded DNS; after removing them nothing is left: no veths, no rules,
 * no leases, and (daemon stopped idle) no bridges.
 */
import { assertEquals } from "../core/testing/assert.ts";
import { fakeUpstream, leases, netDaemon, ourLinks, ourRules, until } from "./network_helpers.ts";

const N = 50;

Deno.test("network: 50 containers on one network resolve each other", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const up = await fakeUpstream();
  const d = await netDaemon();
  const sig = await Deno.makeTempDir({ prefix: "berth-sig-" });
  try {
    await d.ok(["network", "create", "many"]);
    const names = Array.from({ length: N }, (_, i) => `s${i + 1}`);
    const script = `while [ ! -e /sig/go ]; do sleep 0.1; done; n=0; ` +
      `for h in ${names.join(" ")}; do nslookup -type=a $h >/dev/null 2>&1 && n=$((n+1)); done; ` +
      `echo $n > /sig/$(hostname).tmp && mv /sig/$(hostname).tmp /sig/$(hostname); exec sleep 600`;
    const t0 = performance.now();
    for (let i = 0; i < N; i += 5) {
      await Promise.all(
        names.slice(i, i + 5).map((n) =>
          d.ok([
            "run",
            "-d",
            "--name",
            n,
            "--hostname",
            n,
            "--network",
            "many",
            "-v",
            `${sig}:/sig`,
            "busybox",
            "sh",
            "-c",
            script,
          ])
        ),
      );
    }
    console.log(`${N} containers started in ${Math.round(performance.now() - t0)} ms`);
    await Deno.writeTextFile(`${sig}/go`, "");
    const done = await until(
      async () => {
        let k = 0;
        for (const n of names) {
          try {
            await Deno.stat(`${sig}/${n}`);
            k++;
          } catch { /* not yet */ }
        }
        return k === N;
      },
      60_000,
      250,
    );
    assertEquals(done, true, "every container reported");
    const counts = await Promise.all(
      names.map(async (n) => Number(await Deno.readTextFile(`${sig}/${n}`))),
    );
    assertEquals(counts, names.map(() => N), "each resolved all 50 names");
    const net = JSON.parse(await d.ok(["network", "inspect", "many"]))[0];
    assertEquals(Object.keys(net.Containers).length, N);
    await d.ok(["rm", "-f", ...names]);
    assertEquals((await ourLinks(d.tag)).filter((l) => l.alias.includes(":c:")), []);
    assertEquals(await leases(d.root), 0);
    assertEquals((await ourRules(d.tag)).filter((r) => r.includes("-j DNAT")), []);
    await d.ok(["network", "rm", "many"]);
    await d.stopDaemon();
    assertEquals(await ourLinks(d.tag), []);
    assertEquals(await ourRules(d.tag), []);
  } finally {
    up.close();
    await d.done();
    await Deno.remove(sig, { recursive: true }).catch(() => {});
  }
});
