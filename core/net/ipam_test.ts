import { assertEquals, assertThrows } from "../testing/assert.ts";
import {
  allocateSubnet,
  IpamStore,
  LeaseTable,
  parseBip,
  parsePool,
  parseProcRoutes,
} from "./ipam.ts";
import {
  checkMac,
  formatCidr,
  formatIp,
  macForIp,
  overlaps,
  parseCidr,
  parseIp,
  ptrName,
} from "./ipv4.ts";

Deno.test("ipv4: parse, format, overlap, mac, ptr", () => {
  assertEquals(formatIp(parseIp("10.213.0.7")), "10.213.0.7");
  assertEquals(formatCidr(parseCidr("10.213.0.7/24")), "10.213.0.0/24");
  assertThrows(() => parseIp("10.0.0.256"));
  assertThrows(() => parseCidr("10.0.0.0/33"));
  assertEquals(overlaps(parseCidr("10.0.0.0/8"), parseCidr("10.5.0.0/16")), true);
  assertEquals(overlaps(parseCidr("10.0.0.0/24"), parseCidr("10.0.1.0/24")), false);
  assertEquals(macForIp(parseIp("172.17.0.2")), "02:42:ac:11:00:02");
  assertEquals(ptrName(parseIp("10.213.0.2")), "2.0.213.10.in-addr.arpa");
  assertEquals(checkMac("02:42:AC:11:00:02"), "02:42:ac:11:00:02");
  assertThrows(() => checkMac("01:00:00:00:00:01"));
});

Deno.test("ipam: sequential allocation skips reserved, wraps, static", () => {
  const t = new LeaseTable({ subnet: parseCidr("10.0.0.0/29"), gateway: parseIp("10.0.0.1") });
  const got = [1, 2, 3, 4, 5].map((i) => formatIp(t.allocate(`c${i}`)));
  assertEquals(got, ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
  assertThrows(() => t.allocate("c6"), Error, "no available");
  t.release(parseIp("10.0.0.3"));
  assertEquals(formatIp(t.allocate("c7")), "10.0.0.3");
  t.releaseOwner("c7");
  assertThrows(() => t.allocate("x", parseIp("10.0.0.2")), Error, "already in use");
  assertThrows(() => t.allocate("x", parseIp("10.0.0.1")), Error, "reserved");
  assertThrows(() => t.allocate("x", parseIp("10.0.1.1")), Error, "no configured subnet");
  assertEquals(formatIp(t.allocate("x", parseIp("10.0.0.3"))), "10.0.0.3");
  const back = LeaseTable.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  assertEquals(back.size, 5);
  assertEquals(back.ownerOf(parseIp("10.0.0.3")), "x");
});

Deno.test("ipam: ip-range restricts dynamic allocation", () => {
  const t = new LeaseTable({
    subnet: parseCidr("10.0.0.0/24"),
    gateway: parseIp("10.0.0.1"),
    range: parseCidr("10.0.0.128/25"),
  });
  assertEquals(formatIp(t.allocate("a")), "10.0.0.128");
});

Deno.test("ipam: subnet allocation avoids taken subnets and routes", () => {
  const pools = [parsePool("base=10.214.0.0/16,size=24")];
  const taken = [parseCidr("10.214.0.0/24"), parseCidr("10.214.1.0/25")];
  assertEquals(formatCidr(allocateSubnet(pools, taken)), "10.214.2.0/24");
  assertThrows(() => allocateSubnet(pools, [parseCidr("10.0.0.0/8")]), Error, "non-overlapping");
  assertThrows(() => parsePool("size=24"));
  const r = parseProcRoutes(
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
      "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
      "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
  );
  assertEquals(r.map((x) => `${x.dev} ${formatCidr(x.cidr)}`), ["eth0 192.0.2.0/24"]);
  const b = parseBip("10.213.5.1/24");
  assertEquals([formatCidr(b.subnet), formatIp(b.gateway)], ["10.213.5.0/24", "10.213.5.1"]);
});

Deno.test("ipam: store persists leases atomically", async () => {
  const dir = await Deno.makeTempDir({ prefix: "berth-ipam-" });
  try {
    const s = new IpamStore(dir);
    await s.init();
    const t = await s.create("n1", {
      subnet: parseCidr("10.9.0.0/24"),
      gateway: parseIp("10.9.0.1"),
    });
    t.allocate("c1");
    t.allocate("c2");
    await s.save("n1");
    const s2 = new IpamStore(dir);
    await s2.init();
    assertEquals(s2.get("n1")?.size, 2);
    assertEquals(formatIp(s2.get("n1")!.allocate("c3")), "10.9.0.4");
    await s2.remove("n1");
    assertEquals([...Deno.readDirSync(dir)].length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
