/**
 * The daemon on a host that lacks iptables (and `ip`): by default it exits
 * with dockerd's one line and creates nothing; `--iptables=false` runs
 * containers without rules; `--bridge=none` also needs no `ip` and gives
 * default-network containers only loopback. The host's tools are hidden by
 * a PATH of symlinks that leaves them out.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { rootMissing, skipUnless } from "../core/testing/host.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { berthCmd, run, startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import { instanceTag } from "../modes/daemon/networks/state.ts";

/** A directory of symlinks to every program in $PATH except the `hidden` ones. */
async function pathWithout(dir: string, hidden: RegExp): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const seen = new Set<string>();
  for (const d of (Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(d)];
    } catch {
      continue; // a PATH entry that does not exist
    }
    for (const e of entries) {
      if (seen.has(e.name) || hidden.test(e.name)) continue;
      seen.add(e.name);
      await Deno.symlink(`${d}/${e.name}`, `${dir}/${e.name}`);
    }
  }
  return dir;
}

const IPTABLES = /^(ip6?tables|iptables|xtables|ip6?tables-.*|iptables-.*|xtables-.*)$/;
const linkExists = (name: string) => {
  try {
    Deno.statSync(`/sys/class/net/${name}`);
    return true;
  } catch {
    return false;
  }
};

async function withLoaded(d: TestDaemon, fn: () => Promise<void>): Promise<void> {
  try {
    const img = await busyboxArchive();
    const r = await d.berth(["load", "-i", img.path]);
    assertEquals(r.code, 0, r.stderr);
    await fn();
  } finally {
    await d.stop();
  }
}

const NAME = "daemon without iptables: one clear line and exit 1, nothing created";
Deno.test({ name: NAME, ignore: skipUnless(NAME, rootMissing()) }, async () => {
  const base = await Deno.makeTempDir({ prefix: "berth-noipt-" });
  try {
    const path = await pathWithout(`${base}/bin`, IPTABLES);
    const root = `${base}/root`;
    const r = await run(
      berthCmd([
        "daemon",
        "--root",
        root,
        "--exec-root",
        `${base}/run`,
        "-H",
        `unix://${base}/berth.sock`,
        "--cgroup-parent",
        `/${base.slice(base.lastIndexOf("/") + 1)}`,
      ]),
      { env: { PATH: path, BERTH_NET_NO_SWEEP: "1" }, timeoutMs: 60000 },
    );
    assertEquals(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assertEquals(
      lines.at(-1),
      "failed to start daemon: Error initializing network controller: iptables not found " +
        "(iptables, iptables-restore not in $PATH): install the iptables package, or start the " +
        "daemon with --iptables=false",
    );
    // Only the daemon's log lines before it: no stack trace, no uncaught error.
    for (const l of lines.slice(0, -1)) assert(l.startsWith("time="), `unexpected: ${l}`);
    assert(!/^\s+at /m.test(r.stderr) && !r.stderr.includes("Uncaught"), r.stderr);
    // It failed before making its default bridge.
    assert(!linkExists(`berth${await instanceTag(root)}`), "default bridge left behind");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

const NOIPT = "daemon --iptables=false without iptables: starts, runs containers, no rules";
Deno.test({ name: NOIPT, ignore: skipUnless(NOIPT, rootMissing()) }, async () => {
  const bin = await Deno.makeTempDir({ prefix: "berth-noipt-bin-" });
  try {
    const path = await pathWithout(bin, IPTABLES);
    const d = await startDaemon({ args: ["--iptables=false"], env: { PATH: path } });
    await withLoaded(d, async () => {
      let r = await d.berth(["run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout.trim().split("\n").length, 1, r.stdout); // lo only
      // The default bridge works, without NAT.
      r = await d.berth(["run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"]);
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(r.stdout, "inet 10.");
      const log = await Deno.readTextFile(d.logPath);
      assertStringIncludes(log, "firewall BERTH");
      assertStringIncludes(log, "(disabled)");
    });
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});

const NOBR = "daemon --bridge=none --iptables=false without iptables or ip: loopback only";
Deno.test({ name: NOBR, ignore: skipUnless(NOBR, rootMissing()) }, async () => {
  const bin = await Deno.makeTempDir({ prefix: "berth-nobr-bin-" });
  try {
    const hidden = new RegExp(`${IPTABLES.source}|^ip$`);
    const path = await pathWithout(bin, hidden);
    const d = await startDaemon({
      args: ["--bridge=none", "--iptables=false"],
      env: { PATH: path },
    });
    await withLoaded(d, async () => {
      const nets = await d.berth(["network", "ls", "--format", "{{.Name}}"]);
      assertEquals(nets.stdout.trim().split("\n").sort(), ["host", "none"]);
      assert(!linkExists(`berth${await instanceTag(d.root)}`), "a default bridge exists");
      for (const net of [[], ["--network", "bridge"], ["--network", "none"]]) {
        const r = await d.berth(["run", "--rm", ...net, "busybox", "ip", "-o", "link"]);
        assertEquals(r.code, 0, `${net}: ${r.stderr}`);
        assertEquals(r.stdout.trim().split("\n").length, 1, r.stdout); // lo only
        assertStringIncludes(r.stdout, "lo:");
      }
    });
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});
