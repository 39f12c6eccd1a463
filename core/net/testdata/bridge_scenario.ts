/**
 * Runs inside a throwaway netns that plays "the host" (started by
 * bridge_ns_test.ts with `ip netns exec`): two bridges, three container
 * namespaces, an "outside" namespace, the real firewall rules, and traffic
 * between them. Prints one JSON object with what worked.
 */
import { Firewall } from "../firewall_linux.ts";
import { attachVeth, enableForwarding, ensureBridge, ipBatch, listLinks } from "../link_linux.ts";
import type { FwState } from "../firewall.ts";

const procs: Deno.ChildProcess[] = [];
function holder(): number {
  const p = new Deno.Command("unshare", { args: ["--net", "--", "sleep", "120"] }).spawn();
  procs.push(p);
  return p.pid;
}
async function sh(args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    code: o.code,
    out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr),
  };
}
const ns = (pid: number) => `/proc/${pid}/ns/net`;
const inNs = (pid: number, args: string[]) => sh(["nsenter", `--net=${ns(pid)}`, ...args]);
async function wget(pid: number | null, url: string): Promise<string> {
  const cmd = ["busybox", "timeout", "2", "busybox", "wget", "-q", "-O", "-", url];
  const r = pid === null ? await sh(cmd) : await inNs(pid, cmd);
  return r.code === 0 ? r.out.trim() : `FAIL(${r.code})`;
}
function httpd(pid: number, dir: string, text: string, port = 80) {
  Deno.writeTextFileSync(`${dir}/index.html`, text);
  const p = new Deno.Command("nsenter", {
    args: [`--net=${ns(pid)}`, "busybox", "httpd", "-f", "-p", String(port), "-h", dir],
  }).spawn();
  procs.push(p);
}

const result: Record<string, unknown> = {};
const tmp = Deno.makeTempDirSync({ prefix: "berth-scn-" });
const fw = new Firewall("BTEST");
try {
  await ipBatch(["link set lo up"]);
  enableForwarding();
  await ensureBridge({ name: "tbr0", address: "10.99.0.1/24" });
  await ensureBridge({ name: "tbr1", address: "10.99.1.1/24" });
  const [a, b, c, x] = [holder(), holder(), holder(), holder()];
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  await attachVeth({
    hostName: "vetha",
    bridge: "tbr0",
    nsPath: ns(a),
    ifName: "eth0",
    mac: "02:42:0a:63:00:02",
    address: "10.99.0.2/24",
    gateway: "10.99.0.1",
    alias: "berth:t:a",
  });
  result.attachMs = Math.round(performance.now() - t0);
  await attachVeth({
    hostName: "vethb",
    bridge: "tbr0",
    nsPath: ns(b),
    ifName: "eth0",
    mac: "02:42:0a:63:00:03",
    address: "10.99.0.3/24",
    gateway: "10.99.0.1",
    alias: "berth:t:b",
  });
  await attachVeth({
    hostName: "vethc",
    bridge: "tbr1",
    nsPath: ns(c),
    ifName: "eth0",
    mac: "02:42:0a:63:01:02",
    address: "10.99.1.2/24",
    gateway: "10.99.1.1",
    alias: "berth:t:c",
  });
  // "outside": a plain veth to another namespace, routed, not a berth bridge
  await ipBatch([
    `link add outh type veth peer name eth0 netns ${x}`,
    "addr add 10.98.0.1/24 dev outh",
    "link set outh up",
  ]);
  await inNs(x, ["ip", "-batch", "-"]).catch(() => {});
  await sh([
    "nsenter",
    `--net=${ns(x)}`,
    "sh",
    "-c",
    "ip link set lo up; ip addr add 10.98.0.2/24 dev eth0; ip link set eth0 up",
  ]);
  const mac = /link\/ether (\S+)/.exec((await inNs(a, ["ip", "-o", "link", "show", "eth0"])).out)
    ?.[1];
  result.mac = mac;
  const state: FwState = {
    networks: [
      { bridge: "tbr0", subnet: "10.99.0.0/24", internal: false },
      { bridge: "tbr1", subnet: "10.99.1.0/24", internal: true },
    ],
    ports: [
      { proto: "tcp", hostIp: "0.0.0.0", hostPort: 8080, ctrIp: "10.99.0.2", ctrPort: 80 },
      { proto: "udp", hostIp: "0.0.0.0", hostPort: 5353, ctrIp: "10.99.0.2", ctrPort: 53 },
    ],
  };
  await fw.init(state);
  for (const [pid, name] of [[a, "A"], [b, "B"], [c, "C"]] as const) {
    Deno.mkdirSync(`${tmp}/${name}`);
    httpd(pid, `${tmp}/${name}`, `hello from ${name}`);
  }
  Deno.mkdirSync(`${tmp}/X`);
  Deno.writeTextFileSync(`${tmp}/X/index.html`, "x");
  Deno.writeTextFileSync(`${tmp}/X/cgi.sh`, "");
  // X echoes the peer address it sees through a CGI script
  Deno.mkdirSync(`${tmp}/X/cgi-bin`);
  Deno.writeTextFileSync(
    `${tmp}/X/cgi-bin/ip`,
    "#!/bin/sh\necho Content-Type: text/plain\necho\necho $REMOTE_ADDR\n",
  );
  Deno.chmodSync(`${tmp}/X/cgi-bin/ip`, 0o755);
  procs.push(
    new Deno.Command("nsenter", {
      args: [`--net=${ns(x)}`, "busybox", "httpd", "-f", "-p", "80", "-h", `${tmp}/X`],
    }).spawn(),
  );
  await new Promise((r) => setTimeout(r, 200));
  result.hostLoopback = await wget(null, "http://127.0.0.1:8080/");
  // UDP: an echo server in A (a small Deno script), asked through 127.0.0.1:5353
  const echo = new Deno.Command("nsenter", {
    args: [
      `--net=${ns(a)}`,
      Deno.execPath(),
      "eval",
      `import dgram from "node:dgram"; const s = dgram.createSocket("udp4");
       s.on("message", (m, r) => s.send("echo:" + m, r.port, r.address)); s.bind(53);`,
    ],
  }).spawn();
  procs.push(echo);
  result.udp = await (async () => {
    const { default: dgram } = await import("node:dgram");
    const s = dgram.createSocket("udp4");
    try {
      for (let i = 0; i < 40; i++) {
        const got = await new Promise<string>((res) => {
          const t = setTimeout(() => res(""), 150);
          s.once("message", (m) => {
            clearTimeout(t);
            res(String(m));
          });
          s.send("ping", 5353, "127.0.0.1");
        });
        if (got) return got;
      }
      return "FAIL";
    } finally {
      s.close();
    }
  })();
  result.hostGateway = await wget(null, "http://10.99.0.1:8080/");
  result.bDirect = await wget(b, "http://10.99.0.2/");
  result.bViaPublished = await wget(b, "http://10.99.0.1:8080/");
  result.aHairpin = await wget(a, "http://10.99.0.1:8080/");
  result.cDirectToA = await wget(c, "http://10.99.0.2/");
  result.aDirectToC = await wget(a, "http://10.99.1.2/");
  result.aOutside = await wget(a, "http://10.98.0.2/cgi-bin/ip");
  result.cOutside = await wget(c, "http://10.98.0.2/cgi-bin/ip");
  result.xToPublished = await wget(x, "http://10.98.0.1:8080/");
  result.xDirectToA = await (async () => {
    await inNs(x, ["ip", "route", "add", "10.99.0.0/16", "via", "10.98.0.1"]);
    return await wget(x, "http://10.99.0.2/");
  })();
  result.veths = (await listLinks("veth")).filter((l) => l.alias?.startsWith("berth:t:")).length;
  result.rules = await fw.ruleCount();
  // publish a second port, remove the first
  await fw.apply({
    ...state,
    ports: [{ proto: "tcp", hostIp: "127.0.0.1", hostPort: 8081, ctrIp: "10.99.0.3", ctrPort: 80 }],
  }, { filter: false });
  result.afterSwap = [
    await wget(null, "http://127.0.0.1:8080/"),
    await wget(null, "http://127.0.0.1:8081/"),
  ];
} catch (e) {
  result.error = String((e as Error).stack ?? e);
} finally {
  await fw.teardown();
  result.rulesAfterTeardown = await fw.ruleCount();
  for (const p of procs) {
    try {
      p.kill("SIGKILL");
    } catch { /* gone */ }
    await p.status;
  }
  Deno.removeSync(tmp, { recursive: true });
}
console.log(JSON.stringify(result));
