/**
 * End-to-end networking through the berth client and a real daemon:
 * published ports (host loopback, other containers, hairpin, conflicts,
 * -P), user-defined networks (names, aliases, isolation, --internal,
 * connect/disconnect, forwarding to the host's resolvers), and no leftovers.
 * Traffic goes only to loopback, the host's own address, and the containers.
 * What a container can reach is read from its logs (probeCmd).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import {
  curl,
  fakeUpstream,
  freePort,
  hostAddress,
  httpdCmd,
  lastProbe,
  leases,
  logsShow,
  netDaemon,
  ourLinks,
  ourRules,
  OUTSIDE_IP,
  OUTSIDE_NAME,
  probeCmd,
  until,
} from "./network_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "network: published ports from the host, other containers and hairpin",
  opts,
  async () => {
    const d = await netDaemon();
    const holder = Deno.listen({ hostname: "0.0.0.0", port: 0 });
    try {
      const hp = freePort();
      const bridge = JSON.parse(await d.ok(["network", "inspect", "bridge"]))[0];
      const gw = bridge.IPAM.Config[0].Gateway;
      await d.ok([
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        `${hp}:80`,
        "-p",
        "127.0.0.1::80",
        "--expose",
        "8080",
        "-P",
        "busybox",
        ...probeCmd("hello-web", [`${gw}:${hp}`]),
      ]);
      assertEquals((await until(() => curl(`http://127.0.0.1:${hp}/`))).trim(), "hello-web");
      const portOut = await d.ok(["port", "web"]);
      assertStringIncludes(portOut, `80/tcp -> 0.0.0.0:${hp}`);
      const loop = /80\/tcp -> 127\.0\.0\.1:(\d+)/.exec(portOut);
      assert(loop, portOut);
      assertEquals((await curl(`http://127.0.0.1:${loop[1]}/`)).trim(), "hello-web");
      assertMatch(portOut, /8080\/tcp -> 0\.0\.0\.0:\d+/);
      assertStringIncludes(await d.ok(["port", "web", "80"]), `0.0.0.0:${hp}`);
      assertStringIncludes(await d.ok(["ps"]), `0.0.0.0:${hp}->80/tcp`);
      const insp = JSON.parse(await d.ok(["inspect", "web"]))[0];
      const ns = insp.NetworkSettings;
      assert(ns.Ports["80/tcp"].some((b: { HostPort: string }) => b.HostPort === String(hp)));
      assertMatch(ns.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
      assertEquals(ns.Networks.bridge.IPAddress, ns.IPAddress);
      assertEquals(ns.Gateway, gw);
      // hairpin: the container reaches itself through its published port
      assert(await logsShow(d, "web", `${gw}:${hp}=hello-web`), "hairpin");
      // another container on the bridge, through the host's address
      const other = await d.berth([
        "run",
        "--rm",
        "busybox",
        "wget",
        "-qO-",
        `http://${gw}:${hp}/`,
      ]);
      assertEquals(other.stdout.trim(), "hello-web", other.stderr);
      // conflicts are clear errors
      const dup = await d.berth(["run", "-d", "-p", `${hp}:80`, "busybox", "sleep", "5"]);
      assertEquals(dup.code, 125);
      assertStringIncludes(dup.stderr, "port is already allocated");
      const busy = (holder.addr as Deno.NetAddr).port;
      const inUse = await d.berth(["run", "-d", "-p", `${busy}:80`, "busybox", "sleep", "5"]);
      assertEquals(inUse.code, 125);
      assertStringIncludes(inUse.stderr, "address already in use");
      // /etc/hosts and resolv.conf on the default bridge
      const etc = await d.ok([
        "run",
        "--rm",
        "--hostname",
        "hh",
        "--add-host",
        "db:10.1.2.3",
        "--add-host",
        "gw:host-gateway",
        "--dns-search",
        "berth-test.invalid",
        "busybox",
        "cat",
        "/etc/hosts",
        "/etc/resolv.conf",
      ]);
      assertMatch(etc, /\n\d+\.\d+\.\d+\.\d+\thh\n/);
      assertStringIncludes(etc, "10.1.2.3\tdb\n");
      assertStringIncludes(etc, `${gw}\tgw\n`);
      assert(!etc.includes("127.0.0.201"), "loopback resolvers are dropped on the default bridge");
      assertStringIncludes(etc, "search berth-test.invalid");
      await d.berth([
        "rm",
        "-f",
        ...(await d.ok(["ps", "-aq"])).trim().split("\n").filter((x) => x),
      ]);
      assertEquals(await curl(`http://127.0.0.1:${hp}/`), "");
      assertEquals(await leases(d.root), 0);
      assertEquals((await ourLinks(d.tag)).filter((l) => l.alias.includes(":c:")).length, 0);
      assertEquals((await ourRules(d.tag)).filter((r) => r.includes("-j DNAT")).length, 0);
      await d.stopDaemon();
      assertEquals(await ourLinks(d.tag), [], "bridges go when the daemon stops idle");
      assertEquals(await ourRules(d.tag), []);
    } finally {
      holder.close();
      await d.done();
    }
  },
);

Deno.test(
  "network: user-defined networks resolve names and aliases, and are isolated",
  opts,
  async () => {
    const up = await fakeUpstream();
    const d = await netDaemon();
    const hostLn = Deno.listen({ hostname: "0.0.0.0", port: 0 });
    const hostPort = (hostLn.addr as Deno.NetAddr).port;
    (async () => {
      for await (const c of hostLn) {
        await c.write(new TextEncoder().encode("HTTP/1.0 200 OK\r\n\r\nhost-ok\n")).catch(() => {});
        c.close();
      }
    })().catch(() => {});
    try {
      await d.ok(["network", "create", "front"]);
      await d.ok([
        "network",
        "create",
        "--subnet",
        "10.231.7.0/24",
        "--label",
        "tier=back",
        "back",
      ]);
      await d.ok(["network", "create", "--internal", "sealed"]);
      await d.ok([
        "run",
        "-d",
        "--name",
        "c1",
        "--network",
        "front",
        "--network-alias",
        "a1",
        "busybox",
        ...probeCmd("from-c1", ["c2", "a2"]),
      ]);
      const c1 = JSON.parse(await d.ok(["inspect", "c1"]))[0];
      const c1ip = c1.NetworkSettings.Networks.front.IPAddress;
      assertEquals(c1.NetworkSettings.Networks.front.Aliases, ["a1"]);
      await d.ok([
        "run",
        "-d",
        "--name",
        "c2",
        "--net",
        "front",
        "--network-alias",
        "a2",
        "busybox",
        ...probeCmd("from-c2", ["c1", "a1", "c1.front", c1.Id.slice(0, 12)]),
      ]);
      await d.ok([
        "run",
        "-d",
        "--name",
        "c3",
        "--network",
        "back",
        "--ip",
        "10.231.7.50",
        "busybox",
        ...probeCmd("from-c3", ["c1", c1ip]),
      ]);
      // the two containers fetch from each other by name and alias
      assert(await logsShow(d, "c1", "c2=from-c2"), "c1 → c2");
      assert(await logsShow(d, "c1", "a2=from-c2"), "c1 → a2");
      assert(await logsShow(d, "c2", "c1=from-c1"), "c2 → c1");
      assert(await logsShow(d, "c2", "a1=from-c1"), "c2 → a1");
      assert(await logsShow(d, "c2", "c1.front=from-c1"), "c2 → c1.front");
      assert(await logsShow(d, "c2", `${c1.Id.slice(0, 12)}=from-c1`), "c2 → short id");
      // the third, on another network, reaches neither the name nor the address
      assert(await logsShow(d, "c3", `${c1ip}=`), "c3 tried c1's address");
      assertEquals(await lastProbe(d, "c3", "c1"), "");
      assertEquals(await lastProbe(d, "c3", c1ip), "");
      assertEquals(
        JSON.parse(await d.ok(["inspect", "c3"]))[0].NetworkSettings.Networks.back.IPAddress,
        "10.231.7.50",
      );
      // resolv.conf points at the embedded DNS; other names go to the host's resolvers
      const r = await d.ok([
        "run",
        "--rm",
        "--network",
        "front",
        "busybox",
        "sh",
        "-c",
        `cat /etc/resolv.conf; nslookup -type=a ${OUTSIDE_NAME}`,
      ]);
      assertStringIncludes(r, "nameserver 127.0.0.11");
      assertStringIncludes(r, "options ndots:0");
      assertStringIncludes(r, OUTSIDE_IP);
      assert(up.hits() > 0);
      // connect c3 to front, then disconnect it
      await d.ok(["network", "connect", "--alias", "a3", "front", "c3"]);
      assert(await logsShow(d, "c3", "c1=from-c1"), "c3 → c1 after connect");
      const netInsp = JSON.parse(await d.ok(["network", "inspect", "front"]))[0];
      assertEquals(Object.keys(netInsp.Containers).length, 3);
      const a3 = await d.berth([
        "run",
        "--rm",
        "--network",
        "front",
        "busybox",
        "wget",
        "-qO-",
        "http://a3/",
      ]);
      assertEquals(a3.stdout.trim(), "from-c3");
      await d.ok(["network", "disconnect", "front", "c3"]);
      await new Promise((res) => setTimeout(res, 3000));
      assertEquals(await lastProbe(d, "c3", "c1"), "");
      // --internal: no way out, while a normal network reaches the host's address
      const addr = await hostAddress();
      assert(addr, "host has a global address");
      const outside = await d.berth([
        "run",
        "--rm",
        "--network",
        "front",
        "busybox",
        "wget",
        "-qO-",
        `http://${addr}:${hostPort}/`,
      ]);
      assertEquals(outside.stdout.trim(), "host-ok", outside.stderr);
      const sealed = await d.berth([
        "run",
        "--rm",
        "--network",
        "sealed",
        "busybox",
        "sh",
        "-c",
        `ip route; timeout 3 wget -qO- http://${addr}:${hostPort}/`,
      ]);
      assertEquals(sealed.stdout.includes("host-ok"), false);
      assertEquals(
        sealed.stdout.includes("default"),
        false,
        "no default route on an internal network",
      );
      // ls / filters / rm in use / prune
      const ls = await d.ok(["network", "ls", "--format", "{{.Name}}"]);
      assertEquals(ls.trim().split("\n").sort(), [
        "back",
        "bridge",
        "front",
        "host",
        "none",
        "sealed",
      ]);
      assertEquals(
        (await d.ok(["network", "ls", "-f", "label=tier=back", "-q"])).trim().split("\n").length,
        1,
      );
      const rmBusy = await d.berth(["network", "rm", "front"]);
      assertEquals(rmBusy.code, 1);
      assertStringIncludes(rmBusy.stderr, "has active endpoints");
      assertStringIncludes(
        (await d.berth(["network", "rm", "bridge"])).stderr,
        "pre-defined network",
      );
      await d.ok(["rm", "-f", "c1", "c2", "c3"]);
      assertStringIncludes(await d.ok(["network", "prune", "-f"]), "sealed");
      assertEquals((await d.ok(["network", "ls", "-q"])).trim().split("\n").length, 3);
      assertEquals(await leases(d.root), 0);
      assertEquals((await ourLinks(d.tag)).length, 1, "only the default bridge is left");
      await d.stopDaemon();
      assertEquals(await ourLinks(d.tag), []);
      assertEquals(await ourRules(d.tag), []);
    } finally {
      hostLn.close();
      up.close();
      await d.done();
    }
  },
);

Deno.test("network: none, host and container: modes", opts, async () => {
  const d = await netDaemon();
  try {
    const none = await d.ok(["run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"]);
    assertEquals(none.trim().split("\n").length, 1, none);
    assertStringIncludes(none, "lo: <LOOPBACK,UP");
    await d.ok(["run", "-d", "--name", "srv", "busybox", ...httpdCmd("shared")]);
    const shared = await d.berth([
      "run",
      "--rm",
      "--network",
      "container:srv",
      "busybox",
      "sh",
      "-c",
      "sleep 0.3; wget -qO- http://127.0.0.1/",
    ]);
    assertEquals(shared.stdout.trim(), "shared", shared.stderr);
    const mac = await d.ok([
      "run",
      "--rm",
      "--mac-address",
      "02:42:de:ad:be:ef",
      "busybox",
      "ip",
      "-o",
      "link",
      "show",
      "eth0",
    ]);
    assertStringIncludes(mac, "link/ether 02:42:de:ad:be:ef");
    const alias = await d.berth(["run", "--rm", "--network-alias", "x", "busybox", "true"]);
    assertStringIncludes(alias.stderr, "network-scoped alias is supported only");
    const noNet = await d.berth(["run", "--rm", "--network", "nope", "busybox", "true"]);
    assertStringIncludes(noNet.stderr, "network nope not found");
    const hostNet = await d.ok(["run", "--rm", "--network", "host", "busybox", "ip", "-o", "link"]);
    assert(hostNet.trim().split("\n").length > 1);
  } finally {
    await d.done();
  }
});
