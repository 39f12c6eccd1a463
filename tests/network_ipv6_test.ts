/**
 * Dual-stack networks through the docker CLI: `network create --ipv6
 * --subnet …` and the daemon's `--ipv6 --fixed-cidr-v6` for the default
 * bridge. Containers get both addresses (NetworkSettings, /etc/hosts), the
 * bridge the IPv6 gateway, the embedded DNS answers AAAA, and two
 * containers ping each other over IPv6 (bridge-local traffic only).
 * Skips when the host kernel has IPv6 off.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";

function ipv6Missing(): string | undefined {
  try {
    Deno.statSync("/proc/net/if_inet6");
    const off = Deno.readTextFileSync("/proc/sys/net/ipv6/conf/all/disable_ipv6").trim();
    return off === "0"
      ? undefined
      : "IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6)";
  } catch {
    return "the kernel has no IPv6 (/proc/net/if_inet6 missing)";
  }
}

const missing = ipv6Missing();
if (missing) console.error(`SKIP network IPv6 tests: ${missing}`);

/** A random ULA /64, so parallel test daemons do not share one. */
function ula(): string {
  const [a, b] = crypto.getRandomValues(new Uint16Array(2));
  return `fd${(a & 0xff).toString(16).padStart(2, "0")}:${b.toString(16)}:7`;
}

Deno.test({
  name: "network: dual-stack user network (--ipv6 --subnet)",
  ignore: !!missing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await containerDaemon();
    const k = (args: string[]) => d.docker(args, { timeoutMs: 30000 });
    const p = ula();
    try {
      expectCode(
        await k(["network", "create", "--ipv6", "--subnet", `${p}::/64`, "v6net"]),
        0,
      );
      const net = JSON.parse(expectCode(await k(["network", "inspect", "v6net"]), 0).stdout)[0];
      assertEquals(net.EnableIPv6, true);
      assertEquals(net.IPAM.Config.length, 2);
      assertEquals(net.IPAM.Config[1], { Subnet: `${p}::/64`, Gateway: `${p}::1` });
      const br = `br-${net.Id.slice(0, 12)}`;
      const addrs = await new Deno.Command("ip", { args: ["-6", "addr", "show", "dev", br] })
        .output();
      assertStringIncludes(new TextDecoder().decode(addrs.stdout), `${p}::1/64`);

      for (const n of ["v6a", "v6b"]) {
        expectCode(
          await k(["run", "-d", "--name", n, "--network", "v6net", "busybox", "sleep", "300"]),
          0,
        );
      }
      const a = JSON.parse(expectCode(await k(["inspect", "v6a"]), 0).stdout)[0];
      const ep = a.NetworkSettings.Networks.v6net;
      assertEquals(ep.GlobalIPv6Address, `${p}::2`);
      assertEquals(ep.GlobalIPv6PrefixLen, 64);
      assertEquals(ep.IPv6Gateway, `${p}::1`);
      assert(ep.IPAddress.endsWith(".2"), ep.IPAddress);
      const hosts = expectCode(await k(["exec", "v6a", "cat", "/etc/hosts"]), 0).stdout;
      assertStringIncludes(hosts, `${ep.IPAddress}\t${a.Config.Hostname}\n`);
      assertStringIncludes(hosts, `${p}::2\t${a.Config.Hostname}\n`);
      const ip6 = expectCode(await k(["exec", "v6a", "ip", "-6", "addr", "show", "eth0"]), 0);
      assertStringIncludes(ip6.stdout, `${p}::2/64`);
      // network inspect lists the container's IPv6 address
      const net2 = JSON.parse(expectCode(await k(["network", "inspect", "v6net"]), 0).stdout)[0];
      assertEquals(net2.Containers[a.Id].IPv6Address, `${p}::2/64`);

      // b → a over IPv6, by address and by name (AAAA from the embedded DNS)
      expectCode(await k(["exec", "v6b", "ping", "-6", "-c1", "-W3", `${p}::2`]), 0);
      const ns = expectCode(
        await k(["exec", "v6b", "nslookup", "-type=AAAA", "v6a", "127.0.0.11"]),
        0,
      );
      assertStringIncludes(ns.stdout, `${p}::2`);
      expectCode(await k(["exec", "v6b", "ping", "-6", "-c1", "-W3", "v6a"]), 0);
      // and the gateway (the bridge's address)
      expectCode(await k(["exec", "v6b", "ping", "-6", "-c1", "-W3", `${p}::1`]), 0);
      // no static --ip6: refused, not ignored
      const static6 = expectCode(
        await k(["create", "--network", "v6net", "--ip6", `${p}::99`, "busybox", "true"]),
        1,
      );
      assertStringIncludes(static6.stderr, "--ip6) is not supported");
      expectCode(await k(["rm", "-f", "v6a", "v6b"]), 0);
      expectCode(await k(["network", "rm", "v6net"]), 0);
      // --ipv6 without an IPv6 subnet: Docker 20.10 has no default IPv6 pool
      const bad = expectCode(await k(["network", "create", "--ipv6", "nov6"]), 1);
      assertStringIncludes(bad.stderr, "non-overlapping IPv6 address pool");
    } finally {
      await d.stop();
    }
  },
});

Deno.test({
  name: "network: the daemon's --ipv6 --fixed-cidr-v6 make the default bridge dual-stack",
  ignore: !!missing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const p = ula();
    const d = await containerDaemon({ args: ["--ipv6", "--fixed-cidr-v6", `${p}::/64`] });
    const k = (args: string[]) => d.docker(args, { timeoutMs: 30000 });
    try {
      const net = JSON.parse(expectCode(await k(["network", "inspect", "bridge"]), 0).stdout)[0];
      assertEquals(net.EnableIPv6, true);
      assertEquals(net.IPAM.Config[1], { Subnet: `${p}::/64`, Gateway: `${p}::1` });
      for (const n of ["b6a", "b6b"]) {
        expectCode(await k(["run", "-d", "--name", n, "busybox", "sleep", "300"]), 0);
      }
      const ns = JSON.parse(expectCode(await k(["inspect", "b6a"]), 0).stdout)[0].NetworkSettings;
      assertEquals(ns.GlobalIPv6Address, `${p}::2`);
      assertEquals(ns.GlobalIPv6PrefixLen, 64);
      assertEquals(ns.IPv6Gateway, `${p}::1`);
      assertEquals(ns.Networks.bridge.GlobalIPv6Address, `${p}::2`);
      expectCode(await k(["exec", "b6b", "ping", "-6", "-c1", "-W3", `${p}::2`]), 0);
      expectCode(await k(["rm", "-f", "b6a", "b6b"]), 0);
    } finally {
      await d.stop();
    }
  },
});
