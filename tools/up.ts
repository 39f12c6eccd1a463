/**
 * The main job: install what the daemon needs (tools/deps.ts
 * DAEMON_PACKAGES), make sure `berth daemon` runs (start it detached if
 * nothing answers on its socket), load a demo image built offline from the
 * host's busybox-static, and end with the demo container's output.
 *
 *   npx -y deno@2.9.6 task up
 *   deno task up --root DIR --exec-root DIR -H unix:///PATH [other daemon flags]
 *
 * Arguments are `berth daemon`'s flags: the socket (-H), the exec root (where
 * daemon.log goes) and the root come from them, so a private instance never
 * touches /run/berth. The pid of a daemon it starts is printed and written to
 * <exec-root>/daemon.pid.
 * @module
 */
import { DAEMON_PACKAGES, ensurePackages } from "./deps.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { selfArgvFor } from "./self_cmd.ts";
import { parseDaemonArgs } from "../modes/daemon/main.ts";
import { messageOf } from "../core/errdefs/mod.ts";

export const DEMO_OUTPUT = "hello from a berth container";

async function pingOk(sock: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path: sock });
    try {
      await c.write(
        new TextEncoder().encode("GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      );
      const buf = new Uint8Array(128);
      const n = await c.read(buf);
      return !!n && new TextDecoder().decode(buf.subarray(0, n)).includes(" 200 ");
    } finally {
      c.close();
    }
  } catch {
    return false; // nothing listening (yet)
  }
}

/** Start the daemon detached, its output appended to `log`; wait until it answers. */
async function startDaemon(args: string[], sock: string, execRoot: string): Promise<void> {
  await Deno.mkdir(execRoot, { recursive: true, mode: 0o711 });
  const log = `${execRoot}/daemon.log`;
  const [cmd, ...rest] = selfArgvFor(["daemon", ...args]);
  const p = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" >>"$0" 2>&1', log, cmd, ...rest],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  p.unref();
  // sh execs deno, and the daemon re-execs itself: the pid stays the daemon's.
  await Deno.writeTextFile(`${execRoot}/daemon.pid`, `${p.pid}\n`);
  console.log(`starting berth daemon (pid ${p.pid}, log: ${log})`);
  let exited = false;
  p.status.then(() => exited = true);
  const until = Date.now() + 60000;
  while (!(await pingOk(sock))) {
    if (exited || Date.now() > until) {
      const tail = (await Deno.readTextFile(log).catch(() => "")).trim().split("\n").at(-1);
      console.error(`berth daemon did not come up${tail ? `: ${tail}` : ""} (see ${log})`);
      Deno.exit(1);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function berth(host: string, args: string[]): Promise<number> {
  const [cmd, ...rest] = selfArgvFor(["-H", host, ...args]);
  console.log(`$ berth ${args.join(" ")}`);
  const r = await new Deno.Command(cmd, {
    args: rest,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return r.code;
}

async function main(args: string[]): Promise<number> {
  let cfg;
  try {
    cfg = parseDaemonArgs(args);
  } catch (e) {
    console.error(`task up: ${messageOf(e)} (arguments are berth daemon's flags)`);
    return 2;
  }
  const host = `unix://${cfg.socket}`;
  try {
    await ensurePackages(DAEMON_PACKAGES);
  } catch (e) {
    console.error(`task up: ${messageOf(e)}`);
    return 1;
  }
  if (await pingOk(cfg.socket)) console.log(`berth daemon already answering on ${cfg.socket}`);
  else await startDaemon(args, cfg.socket, cfg.execRoot);
  const img = await busyboxArchive({ ref: "berth-demo:latest", cmd: ["sh"] });
  for (const a of [["load", "-i", img.path], ["version"], ["images"]]) {
    const code = await berth(host, a);
    if (code !== 0) return code;
  }
  // Last: the demo container, whose output is the job's last line.
  return await berth(host, ["run", "--rm", "berth-demo", "echo", DEMO_OUTPUT]);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
