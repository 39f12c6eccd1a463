/**
 * The shipped single file (tools/bundle.ts → dist/berth.js) built into a temp
 * dir and used as users use it: a daemon started from it runs containers
 * through its own client and the docker CLI; its shims and inits run their
 * own extracted entry files; the client, shim and init module graphs import
 * no `node:` module (which boots Deno's Node layer: +0.1 s, +15 MB).
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { bundle, DECODE7, encode7 } from "../tools/bundle.ts";
import { bundleArgvFor } from "../tools/self_cmd.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { run, startDaemon } from "./fixtures/daemon.ts";
import { eventually, expectCode, shimPids, teardown } from "./containers_helpers.ts";

/** `node:` specifiers reachable by static imports from `entry` (a file under `dir`). */
async function nodeImports(dir: string, entry: string): Promise<Set<string>> {
  const seen = new Set<string>(), found = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const src = await Deno.readTextFile(`${dir}/${f}`);
    // static imports only: `import … from "x"` / `import "x"` / `export … from "x"`, at the
    // start of a statement (the chunks are minified: one line)
    const re = /(?:^|[;}])\s*(?:import|export)\s*(?:[\w$*{},\s]*?\s*from\s*)?["']([^"']+)["']/g;
    for (const m of src.matchAll(re)) {
      const spec = m[1];
      if (spec.startsWith("node:")) found.add(`${f}: ${spec}`);
      else if (spec.startsWith(".")) {
        todo.push(new URL(spec, `file:///${f}`).pathname.slice(1));
      }
    }
  }
  return found;
}

Deno.test("bundle: the single file runs the container lifecycle; its personalities load only their own code", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "berth-bundle-test-" });
  const cache = `${tmp}/cache`;
  const prevCache = Deno.env.get("XDG_CACHE_HOME");
  try {
    const file = `${tmp}/berth.js`;
    // built before XDG_CACHE_HOME moves: `deno bundle` would look for its npm packages there
    const hash = await bundle(file);
    Deno.env.set("XDG_CACHE_HOME", cache); // inherited by the daemon, clients and shims
    const units = `${cache}/berth/${hash}`;
    const cmd = (args: string[]) => bundleArgvFor(file, args);

    await t.step("client, shim and init import no node: module", async () => {
      // the first run extracts the chunks
      const v = await run(cmd(["-H", `unix://${tmp}/none.sock`, "version"]));
      assertStringIncludes(v.stdout, "API version:", v.stderr);
      const entry = await Deno.readTextFile(`${units}/tools/bundle_entry.js`);
      const registry = (name: string) =>
        new RegExp(`"${name}":\\(\\)=>import\\(new URL\\("\\.\\./([^"]+)"`).exec(entry)?.[1];
      const client = registry("modes/client/main.ts");
      assert(client, "bundle_entry.js names the client's chunk");
      for (const e of ["core/shim/entry.js", "core/runtime/init_entry.js", client]) {
        assertEquals([...await nodeImports(units, e)], [], e);
      }
      // the registry names no chunk literally: Deno would read all of them at start-up
      assert(!/\(\)=>import\("/.test(entry), "literal import in the registry");
      // the daemon's graph does use node: (http, zlib): the check can see them
      const daemon = registry("modes/daemon/serve.ts");
      assert(daemon, "bundle_entry.js names the daemon's chunk");
      assert((await nodeImports(units, daemon)).size > 0);
    });

    await t.step("the loader refuses a shared cache directory and a damaged payload", async () => {
      const none = `unix://${tmp}/none.sock`;
      const other = `${tmp}/other-cache`;
      const env = { XDG_CACHE_HOME: other };
      await Deno.mkdir(`${other}/berth`, { recursive: true });
      await Deno.chmod(`${other}/berth`, 0o777);
      let r = await run(cmd(["-H", none, "version"]), { env });
      assertEquals(r.code, 1);
      assertStringIncludes(r.stderr, "is not private to this user");
      // already extracted, then made group-writable: refused before anything is imported
      await Deno.chmod(`${other}/berth`, 0o700);
      assertStringIncludes((await run(cmd(["-H", none, "version"]), { env })).stdout, "API");
      await Deno.chmod(`${other}/berth/${hash}`, 0o770);
      r = await run(cmd(["-H", none, "version"]), { env });
      assertStringIncludes(r.stderr, "is not private to this user");
      await Deno.remove(other, { recursive: true });
      // one character of the payload changed: the digest check fails, nothing is written
      const src = await Deno.readTextFile(file);
      const at = src.lastIndexOf("\n/*berth-payload:") + 40;
      const c = src.charCodeAt(at) === 65 ? "B" : "A";
      await Deno.writeTextFile(`${tmp}/damaged.js`, src.slice(0, at) + c + src.slice(at + 1));
      r = await run(bundleArgvFor(`${tmp}/damaged.js`, ["-H", none, "version"]), { env });
      assertStringIncludes(r.stderr, "damaged");
      assertEquals([...Deno.readDirSync(`${other}/berth`)].map((e) => e.name), []);
    });

    await t.step("the payload's 7-bit text round-trips every byte value", () => {
      const bytes = new Uint8Array(4099).map((_, i) => (i * 2654435761) >>> 24 ^ i);
      const text = encode7(bytes);
      assert(!/[\0\n\r*]/.test(text.replace(/\x7f./g, "")), "a byte the comment cannot hold");
      const decode7 = new Function(`${DECODE7}; return decode7;`)();
      assertEquals(decode7(text, bytes.length), bytes);
      assert(text.length < bytes.length * 1.2, `${text.length} characters`);
    });

    const img = await busyboxArchive();
    const d = await startDaemon({ berthCmd: cmd });
    const b = (args: string[], stdin?: string) => d.berth(args, { stdin, timeoutMs: 30000 });
    try {
      expectCode(await b(["load", "-i", img.path]), 0, "load");
      await t.step("run, ps, logs, exec, stop, rm (berth client)", async () => {
        let r = expectCode(await b(["run", "--rm", "busybox", "echo", "hello"]), 0);
        assertEquals(r.stdout, "hello\n");
        expectCode(await b(["run", "--rm", "busybox", "sh", "-c", "exit 7"]), 7);
        r = expectCode(
          await b(["run", "-d", "--name", "web", "busybox", "sh", "-c", "echo up; sleep 1000"]),
          0,
        );
        const id = r.stdout.trim();
        assertEquals(id.length, 64);
        // the shim runs the extracted shim entry, not the whole program
        const pids = await shimPids(d.execRoot);
        assert(pids.length > 0, "a shim runs");
        const argv = (await Deno.readTextFile(`/proc/${pids[0]}/cmdline`)).split("\0");
        assert(argv.includes(`${units}/core/shim/entry.js`), argv.join(" "));
        r = expectCode(await b(["ps"]), 0);
        assertStringIncludes(r.stdout, "web");
        assertStringIncludes(r.stdout, "Up ");
        await eventually(async () => (await b(["logs", "web"])).stdout === "up\n", 10000, "logs");
        r = expectCode(await b(["exec", "web", "sh", "-c", "echo in $HOSTNAME"]), 0);
        assertEquals(r.stdout, `in ${id.slice(0, 12)}\n`);
        expectCode(await b(["stop", "-t", "1", "web"]), 0);
        r = expectCode(await b(["ps", "-a", "--filter", "name=web", "--format", "{{.Status}}"]), 0);
        assertStringIncludes(r.stdout, "Exited (");
        expectCode(await b(["rm", "web"]), 0);
        assertEquals(expectCode(await b(["ps", "-aq"]), 0).stdout, "");
      });
      await t.step(
        "create, start, attach, restart, kill, wait, inspect, top, pause, rename, exec -i (berth client)",
        async () => {
          // each of these commands loads its own module: a missing registry entry fails here
          let r = expectCode(await b(["create", "--name", "c1", "busybox", "echo", "created"]), 0);
          assertEquals(r.stdout.trim().length, 64);
          r = expectCode(await b(["start", "-a", "c1"]), 0);
          assertEquals(r.stdout, "created\n");
          r = expectCode(
            await b(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "c1"]),
            0,
          );
          assertEquals(r.stdout, "exited 0\n");
          expectCode(await b(["run", "-d", "--name", "k1", "busybox", "sleep", "1000"]), 0);
          r = expectCode(await b(["exec", "-i", "k1", "cat"], "piped in\n"), 0);
          assertEquals(r.stdout, "piped in\n");
          r = expectCode(await b(["top", "k1"]), 0);
          assertStringIncludes(r.stdout, "sleep 1000");
          expectCode(await b(["pause", "k1"]), 0);
          assertEquals((await b(["inspect", "-f", "{{.State.Status}}", "k1"])).stdout, "paused\n");
          expectCode(await b(["unpause", "k1"]), 0);
          expectCode(await b(["restart", "-t", "1", "k1"]), 0);
          assertEquals((await b(["inspect", "-f", "{{.State.Running}}", "k1"])).stdout, "true\n");
          expectCode(await b(["rename", "k1", "k2"]), 0);
          const waiter = b(["wait", "k2"]);
          expectCode(await b(["kill", "k2"]), 0);
          assertEquals(expectCode(await waiter, 0).stdout, "137\n");
          expectCode(await b(["rm", "c1", "k2"]), 0);
          assertEquals(expectCode(await b(["ps", "-aq"]), 0).stdout, "");
        },
      );
      await t.step("run, ps, logs, exec, stop, rm (docker CLI)", async () => {
        const dk = (args: string[]) => d.docker(args, { timeoutMs: 30000 });
        let r = expectCode(await dk(["run", "-d", "--name", "dk", "busybox", "sleep", "1000"]), 0);
        r = expectCode(await dk(["ps", "--format", "{{.Names}} {{.Status}}"]), 0);
        assertStringIncludes(r.stdout, "dk Up");
        r = expectCode(await dk(["exec", "dk", "echo", "hi"]), 0);
        assertEquals(r.stdout, "hi\n");
        r = expectCode(await dk(["logs", "dk"]), 0);
        assertEquals(r.stdout, "");
        expectCode(await dk(["stop", "-t", "1", "dk"]), 0);
        expectCode(await dk(["rm", "dk"]), 0);
        r = expectCode(await dk(["run", "--rm", "busybox", "echo", "from docker"]), 0);
        assertEquals(r.stdout, "from docker\n");
      });
    } finally {
      await teardown(d);
    }
  } finally {
    if (prevCache === undefined) Deno.env.delete("XDG_CACHE_HOME");
    else Deno.env.set("XDG_CACHE_HOME", prevCache);
    await Deno.remove(tmp, { recursive: true });
  }
});
