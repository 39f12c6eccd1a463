/**
 * The network service on its own (no daemon, no containers), in a throwaway
 * "host" netns: start-up, a user network, attachStep/detachStep of a plain
 * netns, shutdown leaving nothing.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../../../core/testing/assert.ts";
import { delNetns, newNetns, sh } from "../../../core/net/_testutil.ts";

Deno.test("network service: attachStep/detachStep in a throwaway host netns", async () => {
  const host = await newNetns();
  try {
    const scenario = new URL("./testdata/step_scenario.ts", import.meta.url).pathname;
    const r = await sh([
      "ip",
      "netns",
      "exec",
      host.name,
      "env",
      "BERTH_NET_NO_SWEEP=1",
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      scenario,
    ]);
    const res = JSON.parse(r.stdout.trim().split("\n").pop() || "{}");
    if (res.error) throw new Error(res.error + "\n" + r.stderr);
    assertMatch(res.inside, /inet 10\.77\.8\.2\/24/);
    assertStringIncludes(res.route, "default via 10.77.8.1");
    assert(res.ping, "gateway answers");
    assertStringIncludes(res.hosts, "10.77.8.2\tabababababab");
    assertStringIncludes(res.resolv, "nameserver 127.0.0.11");
    assertEquals(Object.keys(res.inspect).length, 1);
    assertEquals(res.after, 0);
    assertEquals(res.links, 0);
    assertEquals(res.rules, 0);
  } finally {
    await delNetns(host.name);
  }
});
