import { assertEquals, assertThrows } from "../testing/assert.ts";
import {
  contains6,
  formatCidr6,
  formatIp6,
  hostAt6,
  overlaps6,
  parseCidr6,
  parseIp6,
  ptrName6,
  tryParseIp6,
} from "./ipv6.ts";

Deno.test("ipv6: parse and format (RFC 5952)", () => {
  for (
    const [inp, out] of [
      ["fd00:1::2", "fd00:1::2"],
      ["::1", "::1"],
      ["::", "::"],
      ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
      ["2001:db8::1:0:0:0", "2001:db8:0:0:1::"],
      ["::ffff:10.0.0.1", "::ffff:a00:1"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ]
  ) assertEquals(formatIp6(parseIp6(inp)), out, inp);
  for (const bad of ["1.2.3.4", "fd00::1::2", "1:2:3:4:5:6:7:8:9", "g::1", "1:2:3:4:5:6:7::8"]) {
    assertEquals(tryParseIp6(bad), undefined, bad);
  }
});

Deno.test("ipv6: cidr math and PTR", () => {
  const c = parseCidr6("fd00:1::5/64");
  assertEquals(formatCidr6(c), "fd00:1::/64");
  assertEquals(formatIp6(hostAt6(c, 2n)), "fd00:1::2");
  assertEquals(contains6(c, parseIp6("fd00:1::ffff")), true);
  assertEquals(contains6(c, parseIp6("fd00:2::1")), false);
  assertEquals(overlaps6(c, parseCidr6("fd00::/16")), true);
  assertEquals(overlaps6(c, parseCidr6("fd00:2::/64")), false);
  assertEquals(ptrName6(parseIp6("fd00:1::2")).slice(0, 8), "2.0.0.0.");
  assertEquals(ptrName6(parseIp6("fd00:1::2")).endsWith("1.0.0.0.0.0.d.f.ip6.arpa"), true);
  assertThrows(() => parseCidr6("fd00::/129"));
});
