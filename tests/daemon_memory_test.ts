/**
 * End-to-end: the daemon runs with its V8 flags (re-executed once, same pid,
 * caller's DENO_V8_FLAGS given back to its children) and gives memory back
 * when idle (docs/daemon-memory.md). The RSS bound is loose on purpose: it
 * catches a lost collection or a lost re-exec, not noise.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon } from "./fixtures/daemon.ts";
import { DAEMON_V8_FLAGS } from "../modes/daemon/v8_flags.ts";

async function status(pid: number): Promise<Record<string, number>> {
  const t = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? 0);
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
}

Deno.test("daemon memory: re-exec with V8 flags, collections after start-up and after load", async () => {
  const d = await startDaemon({ env: { DENO_V8_FLAGS: "--stack-size=900" } });
  try {
    // The process the fixture started is the re-executed daemon (same pid).
    const environ = (await Deno.readTextFile(`/proc/${d.proc.pid}/environ`)).split("\0");
    assert(environ.includes("BERTH_DAEMON_V8==--stack-size=900"), "marker of the re-exec");
    assert(
      environ.includes(`DENO_V8_FLAGS=${["--stack-size=900", ...DAEMON_V8_FLAGS].join(",")}`),
      environ.filter((e) => e.startsWith("DENO_V8_FLAGS")).join(" "),
    );
    const cmdline = (await Deno.readTextFile(`/proc/${d.proc.pid}/cmdline`)).split("\0");
    assertEquals(cmdline.slice(1, 3), ["run", "--no-code-cache"]);
    const img = await busyboxArchive();
    const r = await d.berth(["load", "-q", "-i", img.path]);
    assertEquals(r.code, 0, r.stderr);
    await new Promise((res) => setTimeout(res, 1500));
    const log = await Deno.readTextFile(d.logPath);
    const n = [...log.matchAll(/memory: collected in/g)].length;
    assert(n >= 2, `collections in the log: ${n}`); // start-up, after the load
    const s = await status(d.proc.pid);
    assert(s.rss < 60_000, `idle daemon RSS ${s.rss} kB (anon ${s.anon}, file ${s.file})`);
    // Still serves after its pages were dropped.
    const v = await d.berth(["version", "--format", "{{.Server.Version}}"]);
    assertEquals(v.code, 0, v.stderr);
    assertStringIncludes(v.stdout, ".");
  } finally {
    await d.stop();
  }
});
