/**
 * The Dockerfile corpus (tests/fixtures/dockerfiles/<case>): each case is
 * built through the berth client and checked by running its check.sh inside
 * the result, by its config, and (where asked) by its layer tars.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { run, startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import {
  build,
  caseContext,
  CORPUS,
  inspect,
  layers,
  runIn,
} from "./fixtures/dockerfiles/_harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRec = Record<string, any>;

interface CaseMeta {
  args?: string[];
  stdout?: string[];
  notStdout?: string[];
  config?: AnyRec;
  author?: string;
  layers?: number;
  steps?: number;
  symlinks?: Record<string, string>;
  setup?: string;
  url?: boolean;
  whiteouts?: boolean;
  hostAbsent?: string[];
}

async function meta(name: string): Promise<CaseMeta> {
  try {
    return JSON.parse(await Deno.readTextFile(`${CORPUS}/${name}/case.json`));
  } catch {
    return {};
  }
}

/** A tiny HTTP server for ADD <url>, on loopback. */
function fileServer(files: Record<string, Uint8Array<ArrayBuffer> | string>) {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) => {
      const p = new URL(req.url).pathname.slice(1);
      const body = files[p];
      if (body === undefined) return new Response("no", { status: 404 });
      return new Response(body, {
        headers: { "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT" },
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}

async function makeTar(dir: string, out: string, gzip: boolean): Promise<void> {
  const args = ["--owner=1000", "--group=1000", gzip ? "-czf" : "-cf", out, "-C", dir, "."];
  const r = await run(["tar", ...args]);
  if (r.code !== 0) throw new Error(r.stderr);
}

async function setupCase(d: TestDaemon, name: string, ctx: string, m: CaseMeta, extra: string[]) {
  for (const [link, target] of Object.entries(m.symlinks ?? {})) {
    const p = `${ctx}/${link}`;
    await Deno.mkdir(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    await Deno.symlink(target, p);
  }
  const cleanups: Array<() => Promise<void>> = [];
  if (m.setup === "add") {
    const src = `${ctx}/.tarsrc`;
    await Deno.mkdir(`${src}/in-tar`, { recursive: true });
    await Deno.writeTextFile(`${src}/in-tar/file.txt`, "tarred\n");
    await makeTar(src, `${ctx}/archive.tar`, false);
    await makeTar(src, `${ctx}/archive.tar.gz`, true);
    const remoteTar = `${ctx}/.remote.tar`;
    await makeTar(src, remoteTar, false);
    await Deno.remove(src, { recursive: true });
    const srv = fileServer({
      "remote.txt": "remote\n",
      "remote.tar": await Deno.readFile(remoteTar),
    });
    await Deno.remove(remoteTar);
    extra.push("--build-arg", `URL=${srv.url}`);
    cleanups.push(() => srv.close());
  }
  if (m.setup === "scratch") await Deno.copyFile("/bin/busybox", `${ctx}/busybox`);
  if (m.setup === "onbuild") {
    const r = await build(d, `${ctx}/parent`, ["-t", "berth-corpus-onbuild-parent"]);
    assertEquals(r.code, 0, r.stderr);
  }
  void name;
  return cleanups;
}

const CASES = [...Deno.readDirSync(CORPUS)].filter((e) => e.isDirectory && !e.name.startsWith("_"))
  .map((e) => e.name).sort();

Deno.test({
  name: "build corpus: every case builds, runs and has Docker's config",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const img = await busyboxArchive();
    const d = await startDaemon();
    try {
      assertEquals((await d.berth(["load", "-q", "-i", img.path])).code, 0);
      for (const name of CASES) {
        if (name === "bad") continue;
        await t.step(name, async () => {
          const m = await meta(name);
          const ctx = await caseContext(name, d.base);
          const extra: string[] = [];
          const cleanups = await setupCase(d, name, ctx, m, extra);
          const tag = `corpus-${name}:latest`;
          try {
            const r = await build(d, ctx, ["-t", tag, ...(m.args ?? []), ...extra]);
            assertEquals(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
            assertStringIncludes(r.stdout, `Successfully tagged ${tag}`);
            for (const s of m.stdout ?? []) assertStringIncludes(r.stdout, s);
            for (const s of m.notStdout ?? []) assert(!r.stdout.includes(s), `unexpected ${s}`);
            if (m.steps) assertStringIncludes(r.stdout, `Step ${m.steps}/${m.steps} :`);
            const check = await Deno.readTextFile(`${ctx}/check.sh`);
            const res = await runIn(d, tag, check);
            assertEquals(
              res.stdout.trim().split("\n").at(-1),
              "OK",
              `${res.stdout}\n${res.stderr}`,
            );
            const info = await inspect(d, tag);
            for (const [k, v] of Object.entries(m.config ?? {})) {
              assertEquals(info.Config[k] ?? null, v, `Config.${k}`);
            }
            if (m.author) assertEquals(info.Author, m.author);
            if (m.layers) assertEquals(info.RootFS.Layers.length, m.layers);
            if (m.whiteouts) await checkWhiteouts(d, tag);
            for (const p of m.hostAbsent ?? []) {
              assert(
                !(await Deno.stat(p).then(() => true, () => false)),
                `${p} written on the host`,
              );
            }
          } finally {
            for (const c of cleanups) await c();
          }
        });
      }
    } finally {
      await d.stop();
    }
  },
});

async function checkWhiteouts(d: TestDaemon, tag: string): Promise<void> {
  const ls = await layers(d, tag);
  assertEquals(ls.length, 4);
  const l3 = new Map(ls[2].map((e) => [e.name, e]));
  assert(l3.has(".wh.gone"), `no .wh.gone in ${[...l3.keys()]}`);
  assert(l3.has("d/.wh.sub"), `no d/.wh.sub in ${[...l3.keys()]}`);
  assertEquals(l3.get("d/c")?.body, "new\n");
  assert(!l3.has("d/a"), "unchanged file in the diff");
  const l4 = new Map(ls[3].map((e) => [e.name, e]));
  assert(l4.has("keep/.wh..wh..opq"), `no opaque marker in ${[...l4.keys()]}`);
  assertEquals(l4.get("keep/f")?.body, "fresh\n");
  // Mount points of the RUN containers never land in a layer.
  for (const l of ls.slice(1)) {
    for (const e of l) {
      assert(
        !["etc/hosts", "etc/resolv.conf", "etc/hostname", ".dockerenv"].includes(e.name),
        e.name,
      );
    }
  }
}
