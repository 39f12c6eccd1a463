import { assertEquals, assertRejects } from "../testing/assert.ts";
import { HostPorts } from "./host_ports.ts";

Deno.test("host ports: reserve, conflict, random, release", async () => {
  const hp = new HostPorts();
  const other = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const busy = (other.addr as Deno.NetAddr).port;
    await assertRejects(
      () => hp.reserve("c1", { proto: "tcp", hostIp: "127.0.0.1", hostRange: [busy, busy] }),
      Error,
      "address already in use",
    );
    const r = await hp.reserve("c1", { proto: "tcp", hostIp: "127.0.0.1", hostRange: [0, 0] });
    const again = r.hostPort;
    await assertRejects(
      () => hp.reserve("c2", { proto: "tcp", hostIp: "127.0.0.1", hostRange: [again, again] }),
      Error,
      "port is already allocated",
    );
    const u = await hp.reserve("c2", {
      proto: "udp",
      hostIp: "127.0.0.1",
      hostRange: [again, again],
    });
    assertEquals(u.hostPort, again);
    // a range skips the busy port
    const rr = await hp.reserve("c2", {
      proto: "tcp",
      hostIp: "127.0.0.1",
      hostRange: [busy, busy + 50],
    });
    assertEquals(rr.hostPort !== busy, true);
    assertEquals(hp.size, 3);
    assertEquals(hp.releaseOwner("c1"), 1);
    const l = Deno.listen({ hostname: "127.0.0.1", port: again }); // free again
    l.close();
    hp.closeAll();
    assertEquals(hp.size, 0);
  } finally {
    other.close();
    hp.closeAll();
  }
});
