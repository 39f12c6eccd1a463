/**
 * The main job: make sure `berth daemon` runs (start it detached with its
 * embedded defaults if nothing answers on /run/berth/berth.sock), load a demo
 * image built offline from the host's busybox-static, and show the daemon
 * answering — then run the demo container when the runtime is there.
 *
 *   npx -y deno@2.9.6 task up
 * @module
 */
import { ensurePackages } from "./deps.ts";
import { busyboxArchive } from "../tests/fixtures/busybox.ts";
import { selfArgvFor } from "./self_cmd.ts";

const SOCK = Deno.env.get("BERTH_SOCK") ?? "/run/berth/berth.sock";
const HOST = `unix://${SOCK}`;

async function pingOk(): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path: SOCK });
    await c.write(
      new TextEncoder().encode("GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    const buf = new Uint8Array(128);
    const n = await c.read(buf);
    c.close();
    return !!n && new TextDecoder().decode(buf.subarray(0, n)).includes(" 200 ");
  } catch {
    return false;
  }
}

async function berth(args: string[], show = true): Promise<number> {
  const [cmd, ...rest] = selfArgvFor(["-H", HOST, ...args]);
  if (show) console.log(`$ berth ${args.join(" ")}`);
  const r = await new Deno.Command(cmd, {
    args: rest,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  })
    .output();
  return r.code;
}

await ensurePackages(["busybox-static"]);
if (!(await pingOk())) {
  await Deno.mkdir("/run/berth", { recursive: true });
  const [cmd, ...rest] = selfArgvFor(["daemon", "-H", HOST]);
  const log = "/run/berth/daemon.log";
  console.log(`starting berth daemon (log: ${log})`);
  const out = await Deno.open(log, { append: true, create: true, write: true });
  const p = new Deno.Command("sh", {
    args: ["-c", `exec "$@" >>${log} 2>&1`, "sh", cmd, ...rest],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  p.unref();
  out.close();
  const until = Date.now() + 15000;
  while (!(await pingOk())) {
    if (Date.now() > until) {
      console.error(`berth daemon did not come up; see ${log}`);
      Deno.exit(1);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
} else {
  console.log(`berth daemon already answering on ${SOCK}`);
}
const img = await busyboxArchive({ ref: "berth-demo:latest", cmd: ["sh"] });
let code = await berth(["load", "-i", img.path]);
code ||= await berth(["version"]);
code ||= await berth(["images"]);
// The demo container (needs the container runtime).
const r = await berth(["run", "--rm", "berth-demo", "echo", "hello from a berth container"]);
if (r !== 0) console.log("(running containers is not available in this build yet)");
Deno.exit(code);
