/**
 * The CRI's cost to the daemon (docs/cri.md): start-up time (spawn until the
 * Engine API answers) and RSS of an idle daemon with `--cri=false`, with
 * the CRI on but unused, and after one CRI Version call (gRPC loaded).
 * `deno run -A bench/cri_memory.ts [runs]`.
 * @module
 */
import { startDaemon } from "../tests/fixtures/daemon.ts";
import { criPackage } from "../modes/daemon/cri/server.ts";
import * as grpc from "@grpc/grpc-js";

const rss = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function one(args: string[], call: boolean) {
  const t0 = performance.now();
  const d = await startDaemon({ args });
  const start = (performance.now() - t0) / 1000;
  try {
    await sleep(3000); // past the daemon's quiet-second collection
    const idle = rss(d.proc.pid);
    let used: number | undefined, first: number | undefined;
    if (call) {
      const C = criPackage().v1.RuntimeService;
      const c = new C(`unix://${d.execRoot}/cri.sock`, grpc.credentials.createInsecure());
      const t1 = performance.now();
      // deno-lint-ignore no-explicit-any
      await new Promise((res, rej) => (c as any).Version({}, (e: Error) => e ? rej(e) : res(0)));
      first = (performance.now() - t1) / 1000;
      c.close();
      await sleep(3000);
      used = rss(d.proc.pid);
    }
    return { start, idle, first, used };
  } finally {
    await d.stop();
  }
}

const runs = Number(Deno.args[0] ?? 3);
const fmt = (n?: number) => n === undefined ? "-" : n.toFixed(2);
console.log("| daemon | start s | idle MB | first CRI call s | RSS after it MB |");
console.log("| --- | --- | --- | --- | --- |");
for (let i = 0; i < runs; i++) {
  for (
    const [name, args, call] of [["--cri=false", ["--cri=false"], false], [
      "CRI on",
      [],
      true,
    ]] as const
  ) {
    const r = await one([...args], call);
    console.log(
      `| ${name} | ${fmt(r.start)} | ${fmt(r.idle)} | ${fmt(r.first)} | ${fmt(r.used)} |`,
    );
  }
}
