/**
 * Helpers for the network end-to-end tests: a daemon with the busybox image
 * loaded and a fake upstream resolver on loopback (the daemon's host
 * resolv.conf points at it, so nothing leaves the machine), retries, and the
 * leak checks (veths, firewall rules, leases, bridges) every test ends with.
 * @module
 */
import dgram from "node:dgram";
import { type RunResult, startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { decodeMessage, encodeReply, TYPE_A } from "../core/net/dns/packet.ts";
import { parseIp } from "../core/net/ipv4.ts";
import { instanceTag } from "../modes/daemon/networks/state.ts";

export const UPSTREAM_IP = "127.0.0.201";
export const OUTSIDE_NAME = "outside.berth-test";
export const OUTSIDE_IP = "192.0.2.77";

export interface NetDaemon extends TestDaemon {
  tag: string;
  /** run berth, throw unless exit 0 */
  ok(args: string[]): Promise<string>;
  /** tear everything down, also what a failed test left */
  done(): Promise<void>;
}

/** A fake resolver on 127.0.0.201:53 answering OUTSIDE_NAME. */
export async function fakeUpstream(): Promise<{ close(): void; hits(): number }> {
  const s = dgram.createSocket("udp4");
  let hits = 0;
  s.on("message", (m, r) => {
    hits++;
    const q = decodeMessage(new Uint8Array(m));
    const hit = q.questions[0]?.name === OUTSIDE_NAME && q.questions[0].type === TYPE_A;
    s.send(
      hit
        ? encodeReply(q, { answers: [{ type: TYPE_A, ttl: 5, ip: parseIp(OUTSIDE_IP) }] })
        : encodeReply(q, { rcode: 3 }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((res, rej) => {
    s.once("error", rej);
    s.bind(53, UPSTREAM_IP, () => res());
  });
  return { close: () => s.close(), hits: () => hits };
}

export async function netDaemon(args: string[] = []): Promise<NetDaemon> {
  // A short exec root: runtime sockets live below it (sun_path is 108 bytes).
  const execRoot = `/tmp/bn${crypto.randomUUID().slice(0, 4)}`;
  await Deno.mkdir(execRoot, { mode: 0o711 });
  const resolv = await Deno.makeTempFile({ prefix: "berth-resolv-" });
  await Deno.writeTextFile(resolv, `nameserver ${UPSTREAM_IP}\n`);
  const d = await startDaemon({
    args: ["--exec-root", execRoot, ...args],
    env: { BERTH_RESOLV_CONF: resolv },
  }) as NetDaemon;
  d.tag = await instanceTag(d.root);
  d.ok = async (a) => {
    const r = await d.berth(a);
    if (r.code !== 0) throw new Error(`berth ${a.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const stop = d.stop.bind(d);
  d.done = async () => {
    const ps = await d.berth(["ps", "-aq"]).catch(() => undefined);
    const ids = ps?.stdout.trim().split("\n").filter((x) => x) ?? [];
    if (ids.length) await d.berth(["rm", "-f", ...ids]).catch(() => {});
    await d.stopDaemon();
    const keep = Deno.env.get("BERTH_TEST_KEEP_LOG");
    if (keep) await Deno.copyFile(d.logPath, keep).catch(() => {});
    await stop();
    await forceCleanup(d.tag);
    await Deno.remove(execRoot, { recursive: true }).catch(() => {});
    await Deno.remove(resolv).catch(() => {});
  };
  const { path } = await busyboxArchive();
  await d.ok(["load", "-i", path]);
  return d;
}

async function sh(cmd: string[]): Promise<RunResult> {
  const o = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return {
    code: o.code,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
    out: o.stdout,
  };
}

/** Links carrying this daemon's ifalias. */
export async function ourLinks(tag: string): Promise<{ name: string; alias: string }[]> {
  const r = await sh(["ip", "-j", "link", "show"]);
  const prefix = `berth:${tag || "0"}:`;
  return (JSON.parse(r.stdout || "[]") as { ifname: string; ifalias?: string }[])
    .filter((l) => l.ifalias?.startsWith(prefix))
    .map((l) => ({ name: l.ifname.split("@")[0], alias: l.ifalias! }));
}

/** iptables rules in this daemon's chains, plus jumps into them. */
export async function ourRules(tag: string): Promise<string[]> {
  const p = `BERTH${tag}`;
  const out: string[] = [];
  for (const t of ["nat", "filter"]) {
    const r = await sh(["iptables-save", "-t", t]);
    for (const l of r.stdout.split("\n")) {
      if (!l.startsWith("-A ")) continue;
      const w = l.split(" ");
      if (w.some((x) => x === p || x.startsWith(p + "-"))) out.push(`${t}: ${l}`);
    }
  }
  return out;
}

/** Leases held in the daemon's IPAM files. */
export async function leases(root: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(`${root}/networks/ipam`)) {
      if (!e.name.endsWith(".json")) continue;
      const f = JSON.parse(await Deno.readTextFile(`${root}/networks/ipam/${e.name}`));
      n += Object.keys(f.leases ?? {}).length;
    }
  } catch { /* none */ }
  return n;
}

/** Remove whatever a failed test left of this daemon's networking. */
export async function forceCleanup(tag: string): Promise<void> {
  for (const l of await ourLinks(tag)) await sh(["ip", "link", "del", l.name]);
  const p = `BERTH${tag}`;
  for (const rule of await ourRules(tag)) {
    const [t, line] = rule.split(": ");
    const w = line.split(" ");
    if (!w[1].startsWith(p)) await sh(["iptables", "-t", t, ...["-D", ...w.slice(1)]]);
  }
  for (
    const [t, chains] of [["nat", [p, `${p}-POSTROUTING`]], [
      "filter",
      [`${p}-FORWARD`, `${p}-ISOLATION-1`, `${p}-ISOLATION-2`],
    ]] as const
  ) {
    for (const c of chains) await sh(["iptables", "-t", t, "-F", c]);
    for (const c of chains) await sh(["iptables", "-t", t, "-X", c]);
  }
}

/** Retry `fn` until it returns a truthy value or `ms` pass. */
export async function until<T>(fn: () => Promise<T>, ms = 5000, step = 100): Promise<T> {
  const end = Date.now() + ms;
  let last: T;
  for (;;) {
    last = await fn();
    if (last || Date.now() > end) return last;
    await new Promise((r) => setTimeout(r, step));
  }
}

/** curl a URL on the host; "" on failure. */
export async function curl(url: string): Promise<string> {
  const r = await sh(["curl", "-s", "-m", "3", url]);
  return r.code === 0 ? r.stdout : "";
}

/** A free TCP port on the host (bound and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/** The host's first global IPv4 address (not loopback), for "outside" checks. */
export async function hostAddress(): Promise<string> {
  const r = await sh(["ip", "-4", "-o", "addr", "show", "scope", "global"]);
  for (const l of r.stdout.split("\n")) {
    const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(l);
    if (m && !l.includes(" berth") && !l.includes(" br-")) return m[1];
  }
  return "";
}

/** busybox httpd serving `text` at / on port 80. */
export function httpdCmd(text: string): string[] {
  return ["sh", "-c", `mkdir -p /w && echo ${text} > /w/index.html && exec httpd -f -p 80 -h /w`];
}

/**
 * httpd serving `text`, plus a loop that fetches each of `targets`
 * (host[:port]) and logs `target=body` lines — so tests read what a
 * container could reach from its logs.
 */
export function probeCmd(text: string, targets: string[]): string[] {
  const loop = targets.map((t) => `echo "${t}=$(timeout 2 wget -qO- http://${t}/ 2>/dev/null)"`)
    .join("; ");
  return [
    "sh",
    "-c",
    `mkdir -p /w && echo ${text} > /w/index.html && httpd -p 80 -h /w && ` +
    `while true; do ${loop || "true"}; sleep 0.3; done`,
  ];
}

/** Wait until a container's logs show `line` (a whole line). */
export async function logsShow(
  d: TestDaemon,
  name: string,
  line: string,
  ms = 8000,
): Promise<boolean> {
  return await until(
    async () => {
      const r = await d.berth(["logs", name]);
      return r.stdout.split("\n").includes(line);
    },
    ms,
    200,
  );
}

/** The last logged result for `target` in a probe container's logs. */
export async function lastProbe(
  d: TestDaemon,
  name: string,
  target: string,
): Promise<string | undefined> {
  const r = await d.berth(["logs", "--tail", "40", name]);
  const lines = r.stdout.split("\n").filter((l) => l.startsWith(`${target}=`));
  return lines.at(-1)?.slice(target.length + 1);
}
