import { assertEquals } from "../testing/assert.ts";
import { buildHosts, buildResolvConf, parseExtraHost } from "./etc_files.ts";

Deno.test("etc: hosts like Docker", () => {
  const h = buildHosts({
    hostname: "abc123",
    ips: ["10.213.0.2"],
    extraHosts: ["db:10.0.0.9", "gw:host-gateway", "v6:::1"],
    hostGateway: "10.213.0.1",
  });
  const lines = h.trim().split("\n");
  assertEquals(lines[0], "127.0.0.1\tlocalhost");
  assertEquals(lines.slice(-4), [
    "10.0.0.9\tdb",
    "10.213.0.1\tgw",
    "::1\tv6",
    "10.213.0.2\tabc123",
  ]);
  assertEquals(
    buildHosts({ hostname: "web", domainname: "example.org", ips: ["10.0.0.2"] }).trim().split("\n")
      .pop(),
    "10.0.0.2\tweb.example.org web",
  );
  assertEquals(parseExtraHost("a=1.2.3.4"), { name: "a", ip: "1.2.3.4" });
});

Deno.test("etc: resolv.conf for the default bridge and user networks", () => {
  const host =
    "# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.53\nsearch lan corp\noptions edns0\n";
  assertEquals(
    buildResolvConf(host, { embedded: false }).text,
    "nameserver 10.0.0.53\nsearch lan corp\noptions edns0\n",
  );
  assertEquals(
    buildResolvConf("nameserver 127.0.0.53\n", { embedded: false }).text,
    "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
  );
  const u = buildResolvConf(host, { embedded: true });
  assertEquals(u.text, "nameserver 127.0.0.11\nsearch lan corp\noptions edns0 ndots:0\n");
  assertEquals(u.upstreams, ["127.0.0.53", "10.0.0.53"]);
  const d = buildResolvConf(host, {
    embedded: true,
    dns: ["1.1.1.1"],
    dnsSearch: ["x.y"],
    dnsOptions: ["ndots:2"],
  });
  assertEquals(d.text, "nameserver 127.0.0.11\nsearch x.y\noptions ndots:2\n");
  assertEquals(d.upstreams, ["1.1.1.1"]);
  assertEquals(
    buildResolvConf(host, { embedded: false, dns: ["9.9.9.9"] }).text,
    "nameserver 9.9.9.9\nsearch lan corp\noptions edns0\n",
  );
});
