/**
 * Namespace-level test of bridges, veths and the firewall: everything runs
 * inside a throwaway "host" netns, so the real host is never touched.
 */
import { assertEquals } from "../testing/assert.ts";
import { delNetns, newNetns, sh } from "./_testutil.ts";

for (const via of ["netlink", "iproute2"]) {
  Deno.test(`bridge + veth (${via}) + firewall in a throwaway host netns`, async () => {
    const host = await newNetns();
    try {
      const scenario = new URL("./testdata/bridge_scenario.ts", import.meta.url).pathname;
      const r = await sh([
        "ip",
        "netns",
        "exec",
        host.name,
        "env",
        `BERTH_NET_IPROUTE=${via === "iproute2" ? 1 : 0}`,
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        scenario,
      ]);
      const res = JSON.parse(r.stdout.trim().split("\n").pop() || "{}");
      if (res.error) throw new Error(res.error + "\n" + r.stderr);
      console.log(JSON.stringify(res));
      assertEquals(res.mac, "02:42:0a:63:00:02");
      assertEquals(res.hostLoopback, "hello from A");
      assertEquals(res.udp, "echo:ping");
      assertEquals(res.hostGateway, "hello from A");
      assertEquals(res.bDirect, "hello from A");
      assertEquals(res.bViaPublished, "hello from A");
      assertEquals(res.aHairpin, "hello from A");
      assertEquals(res.cDirectToA.startsWith("FAIL"), true, "isolation C→A");
      assertEquals(res.aDirectToC.startsWith("FAIL"), true, "isolation A→C");
      assertEquals(
        res.aOutside.replace(/[^0-9.]/g, "").replace(/^.*?(10\.)/, "$1"),
        "10.98.0.1",
        "outbound masquerade",
      );
      assertEquals(res.cOutside.startsWith("FAIL"), true, "internal network has no way out");
      assertEquals(res.xToPublished, "hello from A");
      assertEquals(res.xDirectToA.startsWith("FAIL"), true, "no routed access from outside");
      assertEquals(res.veths, 3);
      assertEquals(res.afterSwap[0].startsWith("FAIL"), true);
      assertEquals(res.afterSwap[1], "hello from B");
      assertEquals(res.rulesAfterTeardown, 0);
    } finally {
      await delNetns(host.name);
    }
  });
}
