import { assertEquals, assertThrows } from "../../core/testing/assert.ts";
import { checkHosts, parseHost, tlsFromFlags } from "./hosts.ts";
import { parseDaemonArgs } from "./main.ts";

Deno.test("daemon hosts: unix and tcp, dockerd's default ports", () => {
  assertEquals(parseHost("unix:///x/s.sock", false).url, "unix:///x/s.sock");
  assertEquals(parseHost("unix://", false).url, "unix:///run/berth/berth.sock");
  assertEquals(parseHost("tcp://127.0.0.1", false).url, "tcp://127.0.0.1:2375");
  assertEquals(parseHost("tcp://127.0.0.1", true).url, "tcp://127.0.0.1:2376");
  assertEquals(parseHost("tcp://:2380", false).url, "tcp://127.0.0.1:2380");
  assertEquals(parseHost("tcp://[::1]:2380", false).url, "tcp://[::1]:2380");
  assertEquals(parseHost("127.0.0.1:2377", false).url, "tcp://127.0.0.1:2377");
  for (const bad of ["fd://", "ssh://x", "tcp://1.2.3.4:2375/p", "tcp://h:99999", "unix://rel"]) {
    assertThrows(() => parseHost(bad, false), Error);
  }
});

Deno.test("daemon hosts: TLS flags and environment, as dockerd", () => {
  const env = { HOME: "/h" };
  assertEquals(tlsFromFlags({}, env), undefined);
  assertEquals(tlsFromFlags({ tlsverify: true }, env), {
    verify: true,
    ca: "/h/.docker/ca.pem",
    cert: "/h/.docker/cert.pem",
    key: "/h/.docker/key.pem",
  });
  assertEquals(
    tlsFromFlags({}, { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/c" })?.ca,
    "/c/ca.pem",
  );
  assertEquals(tlsFromFlags({ tls: true, tlscert: "/s.pem" }, env)?.verify, false);
  assertEquals(tlsFromFlags({ tls: true }, env)?.ca, undefined);
});

Deno.test("daemon hosts: plain tcp off loopback only with an explicit --tls=false", () => {
  const open = [parseHost("tcp://0.0.0.0:2375", false)];
  assertThrows(() => checkHosts(open, undefined, {}), Error, "without TLS");
  assertEquals(checkHosts(open, undefined, { tls: false }).length, 1);
  assertEquals(checkHosts([parseHost("tcp://127.0.0.1:2375", false)], undefined, {}).length, 1);
  const tls = { verify: true, ca: "c", cert: "s", key: "k" };
  assertEquals(checkHosts([parseHost("tcp://0.0.0.0", true)], tls, {}).length, 0);
  assertThrows(() => checkHosts([open[0], open[0]], undefined, { tls: false }), Error, "twice");
  assertThrows(() => parseDaemonArgs(["-H", "tcp://10.0.0.1:2375"]), Error, "without TLS");
  const c = parseDaemonArgs(["-H", "unix:///x.sock", "-H", "tcp://10.0.0.1:2375", "--tls=false"]);
  assertEquals(c.hosts?.map((h) => h.url), ["unix:///x.sock", "tcp://10.0.0.1:2375"]);
  assertEquals(c.socket, "/x.sock");
  const t = parseDaemonArgs(["-H", "tcp://127.0.0.1", "--tlsverify", "--exec-root", "/e"]);
  assertEquals(t.hosts?.[0].url, "tcp://127.0.0.1:2376");
  assertEquals(t.socket, "/e/api-internal.sock");
  assertEquals(t.insecureTcp, []);
});
