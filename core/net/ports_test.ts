import { assertEquals, assertThrows } from "../testing/assert.ts";
import {
  apiPorts,
  formatPortLines,
  formatPsPorts,
  parsePortSpecs,
  portKey,
  portMap,
  publishRequests,
} from "./ports.ts";

Deno.test("ports: parse -p specs like Docker", () => {
  const r = parsePortSpecs([
    "8080:80",
    "127.0.0.1:5353:53/udp",
    "443",
    "9000-9001:90-91",
    "[::1]:7000:70",
    "127.0.0.1::8000",
  ]);
  assertEquals(Object.keys(r.exposed).sort(), [
    "443/tcp",
    "53/udp",
    "70/tcp",
    "80/tcp",
    "8000/tcp",
    "90/tcp",
    "91/tcp",
  ]);
  assertEquals(r.bindings["80/tcp"], [{ HostIp: "", HostPort: "8080" }]);
  assertEquals(r.bindings["53/udp"], [{ HostIp: "127.0.0.1", HostPort: "5353" }]);
  assertEquals(r.bindings["443/tcp"], [{ HostIp: "", HostPort: "" }]);
  assertEquals(r.bindings["91/tcp"], [{ HostIp: "", HostPort: "9001" }]);
  assertEquals(r.bindings["70/tcp"], [{ HostIp: "::1", HostPort: "7000" }]);
  assertEquals(r.bindings["8000/tcp"], [{ HostIp: "127.0.0.1", HostPort: "" }]);
  assertEquals(parsePortSpecs(["8000-8010:80"]).bindings["80/tcp"], [
    { HostIp: "", HostPort: "8000-8010" },
  ]);
  assertThrows(() => parsePortSpecs(["80/icmp"]), Error, "invalid proto");
  assertThrows(() => parsePortSpecs(["70000"]), Error, "containerPort");
  assertThrows(() => parsePortSpecs(["1-3:1-2"]), Error, "invalid ranges");
  assertThrows(() => parsePortSpecs(["a:b:c:d"]), Error, "invalid port format");
  assertEquals(portKey("80"), "80/tcp");
});

Deno.test("ports: publish requests with -P", () => {
  const reqs = publishRequests(
    { "80/tcp": [{ HostIp: "", HostPort: "8080" }], "53/udp": null },
    { "80/tcp": {}, "443/tcp": {}, "53/udp": {} },
    true,
  );
  assertEquals(reqs, [
    { proto: "tcp", ctrPort: 80, hostIp: "0.0.0.0", hostRange: [8080, 8080] },
    { proto: "udp", ctrPort: 53, hostIp: "0.0.0.0", hostRange: [0, 0] },
    { proto: "tcp", ctrPort: 443, hostIp: "0.0.0.0", hostRange: [0, 0] },
  ]);
});

Deno.test("ports: ps and port formats", () => {
  const m = portMap({ "80/tcp": {}, "443/tcp": {}, "8000/tcp": {}, "8001/tcp": {} }, [
    { proto: "tcp", ctrPort: 80, hostIp: "0.0.0.0", hostPort: 8080 },
    { proto: "tcp", ctrPort: 8000, hostIp: "0.0.0.0", hostPort: 9000 },
    { proto: "tcp", ctrPort: 8001, hostIp: "0.0.0.0", hostPort: 9001 },
  ]);
  assertEquals(m["443/tcp"], null);
  assertEquals(
    formatPsPorts(apiPorts(m)),
    "443/tcp, 0.0.0.0:8080->80/tcp, 0.0.0.0:9000-9001->8000-8001/tcp",
  );
  assertEquals(formatPortLines(m), [
    "80/tcp -> 0.0.0.0:8080",
    "8000/tcp -> 0.0.0.0:9000",
    "8001/tcp -> 0.0.0.0:9001",
  ]);
  assertEquals(formatPortLines(m, "80"), ["0.0.0.0:8080"]);
  assertThrows(() => formatPortLines(m, "443"), Error, "No public port '443/tcp'");
});
