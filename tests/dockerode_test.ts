/**
 * dockerode (npm:dockerode@4.0.12, the version testcontainers-node pins) against
 * berth (issue 13): list with a label filter, create/start, putArchive,
 * infoArchive, getArchive, exec with its exit code, one-shot stats, logs and
 * remove, as a Node program would. Skips with the reason when the npm
 * package cannot be loaded.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { skipUnless } from "../core/testing/host.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";
import { run } from "./fixtures/daemon.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

// A computed specifier keeps the package out of the type-checked module graph
// (as tests/testcontainers_test.ts does).
const SPEC = ["npm:docker", "ode@4.0.12"].join("");
let Docker: Any;
let why: string | undefined;
try {
  Docker = (await import(SPEC)).default;
} catch (e) {
  why = `npm dockerode cannot be loaded: ${(e as Error).message.split("\n")[0]}`;
}
if (!why && Deno.uid() !== 0) why = "needs root to run containers";

async function readAll(s: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of s) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

Deno.test({
  name: "dockerode: containers, archive, exec, stats, logs",
  ignore: skipUnless("dockerode", why),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const d = await containerDaemon();
    const tmp = await Deno.makeTempDir();
    try {
      const docker = new Docker({ socketPath: d.socket });
      assertEquals(String(await docker.ping()), "OK");
      const c = await docker.createContainer({
        Image: "busybox",
        Cmd: ["sh", "-c", "echo started; sleep 100"],
        Labels: { suite: "dockerode" },
      });
      await c.start();
      const list = await docker.listContainers({ filters: { label: ["suite=dockerode"] } });
      assertEquals(list.map((x: Any) => x.Id), [c.id]);

      await Deno.writeTextFile(`${tmp}/note.txt`, "from dockerode\n");
      expectCode(await run(["tar", "-C", tmp, "-cf", `${tmp}/in.tar`, "note.txt"]), 0);
      await c.putArchive(`${tmp}/in.tar`, { path: "/tmp" });
      const info = await c.infoArchive({ path: "/tmp/note.txt" });
      assert(info !== undefined);
      const out = new TextDecoder().decode(
        await readAll(await c.getArchive({ path: "/tmp/note.txt" })),
      );
      assertStringIncludes(out, "note.txt");
      assertStringIncludes(out, "from dockerode\n");

      const ex = await c.exec({
        Cmd: ["sh", "-c", "cat /tmp/note.txt; exit 4"],
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await ex.start({});
      const raw = await readAll(stream);
      assertStringIncludes(new TextDecoder().decode(raw), "from dockerode");
      assertEquals((await ex.inspect()).ExitCode, 4);

      const stats = await c.stats({ stream: false });
      assert(stats.memory_stats && typeof stats.memory_stats.usage === "number");
      assertEquals(stats.id, c.id);

      const logs = new TextDecoder().decode(await c.logs({ stdout: true, tail: -1 }));
      assertStringIncludes(logs, "started");
      await c.remove({ force: true });
      let gone = "";
      try {
        await c.inspect();
      } catch (e) {
        gone = String((e as Any).statusCode);
      }
      assertEquals(gone, "404");
    } finally {
      await Deno.remove(tmp, { recursive: true });
      await d.stop();
    }
  },
});
