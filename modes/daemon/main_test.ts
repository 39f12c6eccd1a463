/** dockerd's --iptables and --bridge flags as `berth daemon` parses them. */
import { assertEquals, assertThrows } from "../../core/testing/assert.ts";
import { parseDaemonArgs } from "./main.ts";

Deno.test("daemon flags: --iptables is a Go boolean, --bridge takes only none", () => {
  assertEquals(parseDaemonArgs([]).iptables, true);
  assertEquals(parseDaemonArgs([]).bridge, "");
  assertEquals(parseDaemonArgs(["--iptables=false"]).iptables, false);
  assertEquals(parseDaemonArgs(["--iptables=0"]).iptables, false);
  assertEquals(parseDaemonArgs(["--iptables"]).iptables, true);
  assertEquals(parseDaemonArgs(["--iptables=false", "--iptables=true"]).iptables, true);
  assertThrows(
    () => parseDaemonArgs(["--iptables=maybe"]),
    Error,
    'invalid argument "maybe" for "--iptables" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
  );
  assertEquals(parseDaemonArgs(["--bridge=none"]).bridge, "none");
  assertEquals(parseDaemonArgs(["-b", "none"]).bridge, "none");
  assertThrows(() => parseDaemonArgs(["--bridge", "br0"]), Error, 'only "none"');
});
