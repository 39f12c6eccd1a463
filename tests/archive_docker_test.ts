/**
 * The archive endpoints side by side with Docker 20.10 (a throwaway dockerd):
 * the same container content, the same requests; stat headers (but mtime),
 * tar entry names and types, statuses and error messages must agree.
 */
import { assertEquals } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, teardown } from "./containers_helpers.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { run, type RunResult } from "./fixtures/daemon.ts";
import { dockerdAvailable, startDockerd } from "./fixtures/dockerd.ts";
import { statHeader } from "./archive_helpers.ts";
import { skipUnless } from "../core/testing/host.ts";

const NAME = "archive: stat, tar names and errors as Docker 20.10";
const skip = skipUnless(
  NAME,
  (await dockerdAvailable()) ? undefined : "dockerd (docker.io) not installed",
);

const SETUP = "mkdir -p /d/sub && echo hi > /d/sub/f && chown 1234:1234 /d/sub/f && " +
  "ln -s sub /d/lnk && ln -s / /escape && mkfifo /d/fifo";
const PATHS = ["/d", "/d/", "/d/.", "/d/lnk", "/d/lnk/", "/d/sub/f", "/escape", "/d/fifo", "/nope"];

async function request(
  socket: string,
  method: string,
  path: string,
  body?: Uint8Array<ArrayBuffer>,
): Promise<{ status: number; text: string }> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  try {
    const res = await fetch(`http://d${path}`, { method, body, client });
    return { status: res.status, text: (await res.text()).trim() };
  } finally {
    client.close();
  }
}

Deno.test({
  name: NAME,
  ignore: skip,
  async fn() {
    const img = await busyboxArchive();
    const d = await containerDaemon();
    const dk = await startDockerd();
    try {
      expectCode(await dk.docker(["load", "-i", img.path]), 0);
      const sides: [string, string, (a: string[]) => Promise<RunResult>][] = [
        ["berth", d.socket, (a) => d.docker(a, { timeoutMs: 30000 })],
        ["docker", dk.host.slice("unix://".length), (a) => dk.docker(a, { timeoutMs: 30000 })],
      ];
      const seen: Record<string, unknown>[] = [];
      for (const [, socket, k] of sides) {
        expectCode(await k(["run", "-d", "--name", "cmp", "busybox", "sleep", "1000"]), 0);
        expectCode(await k(["exec", "cmp", "sh", "-c", SETUP]), 0);
        const got: Record<string, unknown> = {};
        for (const p of PATHS) {
          const st = await statHeader(socket, "cmp", p);
          got[`HEAD ${p}`] = [st.status, st.stat && { ...st.stat, mtime: "" }];
          const r = await k(["cp", `cmp:${p}`, "-"]);
          if (r.code !== 0) {
            got[`GET ${p}`] = r.stderr.trim();
            continue;
          }
          const tv = await run(["tar", "-tv"], { stdin: r.out });
          // type, mode and owner (numeric on our side: compare the ids docker shows) and name
          got[`GET ${p}`] = tv.stdout.split("\n").filter(Boolean).map((l) => {
            const f = l.split(/\s+/);
            return [f[0], f[1].replace("root/root", "0/0"), f.slice(5).join(" ")].join(" ");
          });
        }
        const tar = new Uint8Array((await run(["tar", "-c", "-C", "/etc", "hostname"])).out);
        for (const q of ["/d/sub/f", "/nope", ""]) {
          const r = await request(socket, "PUT", `/containers/cmp/archive?path=${q}`, tar);
          got[`PUT ${q}`] = [r.status, r.text];
        }
        const r = await request(socket, "GET", "/containers/nosuch/archive?path=/");
        got["GET nosuch"] = [r.status, r.text];
        seen.push(got);
      }
      assertEquals(seen[0], seen[1]);
    } finally {
      await dk.stop();
      await teardown(d);
    }
  },
});
