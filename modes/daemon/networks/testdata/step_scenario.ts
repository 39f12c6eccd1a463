/**
 * Runs inside a throwaway "host" netns (service_ns_test.ts): the network
 * service without a daemon or containers — start, attachStep for a plain
 * netns holder, traffic, detachStep, stop — and prints what it saw.
 */
import { instanceTag, NetState } from "../state.ts";
import { NetworkService } from "../service.ts";
import { startNetworking, stopNetworking } from "../recover.ts";
import type { DaemonConfig } from "../../config.ts";

const root = Deno.makeTempDirSync({ prefix: "berth-step-" });
const out: Record<string, unknown> = {};
const holder = new Deno.Command("unshare", { args: ["--net", "--", "sleep", "60"] }).spawn();
const sh = async (a: string[]) => {
  const o = await new Deno.Command(a[0], { args: a.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  return new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
};
try {
  await sh(["ip", "link", "set", "lo", "up"]);
  const config = { root, execRoot: root, bip: "10.77.7.1/24" } as DaemonConfig;
  const st = new NetState({ config }, await instanceTag(root));
  const svc = new NetworkService(st);
  await startNetworking(st);
  const net = await svc.create({ Name: "stepnet", IPAM: { Config: [{ Subnet: "10.77.8.0/24" }] } });
  await new Promise((r) => setTimeout(r, 100));
  const hosts = `${root}/hosts`, resolv = `${root}/resolv.conf`;
  await Deno.writeTextFile(hosts, "");
  await Deno.writeTextFile(resolv, "");
  const id = "ab".repeat(32);
  const t0 = performance.now();
  await svc.attachStep(id, holder.pid, {
    network: "stepnet",
    hostsPath: hosts,
    resolvConfPath: resolv,
  });
  out.attachMs = Math.round(performance.now() - t0);
  out.inside = await sh([
    "nsenter",
    `--net=/proc/${holder.pid}/ns/net`,
    "ip",
    "-o",
    "-4",
    "addr",
    "show",
    "eth0",
  ]);
  out.route = await sh(["nsenter", `--net=/proc/${holder.pid}/ns/net`, "ip", "route"]);
  out.ping = (await sh([
    "nsenter",
    `--net=/proc/${holder.pid}/ns/net`,
    "busybox",
    "ping",
    "-c1",
    "-W2",
    "10.77.8.1",
  ])).includes(" 0% packet loss");
  out.hosts = await Deno.readTextFile(hosts);
  out.resolv = await Deno.readTextFile(resolv);
  out.inspect = svc.inspect("stepnet").Containers;
  await svc.detachStep(id);
  out.after = Object.keys(svc.inspect("stepnet").Containers).length;
  await svc.remove(net.Id);
  await stopNetworking(st);
  out.links = (await sh(["ip", "-o", "link"])).split("\n").filter((l) =>
    l.includes("berth") || l.includes("br-")
  ).length;
  out.rules = (await sh(["iptables-save"])).split("\n").filter((l) =>
    l.includes(`BERTH${st.tag}`)
  ).length;
} catch (e) {
  out.error = String((e as Error).stack ?? e);
} finally {
  holder.kill();
  await holder.status;
  Deno.removeSync(root, { recursive: true });
}
console.log(JSON.stringify(out));
