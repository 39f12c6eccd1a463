import { assert, assertEquals } from "../testing/assert.ts";
import { chainNames, jumps, renderFilter, renderNat } from "./firewall.ts";

const state = {
  networks: [
    { bridge: "berth0", subnet: "10.213.0.0/24", internal: false },
    { bridge: "br-1", subnet: "10.214.0.0/24", internal: true },
    { bridge: "br-2", subnet: "10.214.1.0/24", internal: false, icc: false, masquerade: false },
  ],
  ports: [
    {
      proto: "udp" as const,
      hostIp: "127.0.0.1",
      hostPort: 5353,
      ctrIp: "10.213.0.3",
      ctrPort: 53,
    },
    { proto: "tcp" as const, hostIp: "0.0.0.0", hostPort: 8080, ctrIp: "10.213.0.2", ctrPort: 80 },
  ],
};

Deno.test("firewall: nat rules", () => {
  const nat = renderNat("BERTH", state).split("\n");
  assertEquals(nat.slice(0, 3), ["*nat", ":BERTH - [0:0]", ":BERTH-POSTROUTING - [0:0]"]);
  assertEquals(
    nat[3],
    "-A BERTH -d 127.0.0.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.213.0.3:53",
  );
  assertEquals(
    nat[4],
    "-A BERTH -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.213.0.2:80",
  );
  assert(nat.includes("-A BERTH-POSTROUTING -s 10.213.0.0/24 ! -o berth0 -j MASQUERADE"));
  assert(!nat.some((l) => l.includes("-s 10.214.0.0/24 ! -o br-1")), "internal: no NAT");
  assert(!nat.some((l) => l.includes("-s 10.214.1.0/24 ! -o br-2")), "masquerade off");
  assert(nat.includes("-A BERTH-POSTROUTING -s 127.0.0.0/8 -o berth0 -j MASQUERADE"));
  assertEquals(nat.at(-2), "COMMIT");
});

Deno.test("firewall: filter rules and jumps", () => {
  const f = renderFilter("BERTHab12", state).split("\n");
  const c = chainNames("BERTHab12");
  assert(f.includes(`-A ${c.forward} -i br-1 ! -o br-1 -j DROP`), "internal sealed");
  assert(f.includes(`-A ${c.forward} -i br-2 -o br-2 -j DROP`), "icc off");
  assert(f.includes(`-A ${c.forward} -i berth0 -o berth0 -j ACCEPT`));
  assert(f.includes(`-A ${c.forward} -o berth0 -m conntrack --ctstate DNAT -j ACCEPT`));
  assert(!f.includes(`-A ${c.forward} -o br-1 -m conntrack --ctstate DNAT -j ACCEPT`));
  assertEquals(f.filter((l) => l.startsWith(`-A ${c.iso2}`)).length, 3);
  assertEquals(jumps("BERTH").map((j) => `${j.table} ${j.chain}`), [
    "nat PREROUTING",
    "nat OUTPUT",
    "nat POSTROUTING",
    "filter FORWARD",
  ]);
});
