/**
 * `load` of archives whose JSON has the wrong shapes (issue 11: outside
 * input): manifest.json and index.json of the wrong types fail the load
 * with a word about the archive (in the progress stream, as Docker's load
 * reports errors), never with JavaScript's internals ("number 5 is not
 * iterable", "name.replace is not a function"), and load nothing.
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { tarWriter } from "../core/archive/tar_writer.ts";
import { http1 } from "../modes/client/http1.ts";
import { startDaemon } from "./fixtures/daemon.ts";

const enc = new TextEncoder();

async function tarOf(files: Record<string, string>): Promise<Uint8Array> {
  const w = tarWriter();
  const out = new Response(w.stream).arrayBuffer();
  for (const [k, v] of Object.entries(files)) await w.addFile(k, enc.encode(v));
  await w.finish();
  return new Uint8Array(await out);
}

const CASES: Record<string, string>[] = [
  { "manifest.json": "[5]" },
  { "manifest.json": '[{"Config":5}]' },
  { "manifest.json": '[{"Config":"c.json","Layers":5}]', "c.json": "{}" },
  { "manifest.json": '[{"Config":"c.json","RepoTags":"x:1"}]', "c.json": "{}" },
  { "index.json": "null" },
  { "index.json": '{"schemaVersion":2,"manifests":5}' },
  { "index.json": '{"schemaVersion":2,"manifests":[5]}' },
  {
    "index.json":
      '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":5,"size":1}]}',
  },
  // a well-formed archive whose image config gives containers an Env of the wrong type: stored,
  // it broke every `run` of the image
  {
    "manifest.json": '[{"Config":"c.json","Layers":[],"RepoTags":["hostile:env"]}]',
    "c.json":
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Env":5}}',
  },
];

Deno.test({
  name: "load: archives with JSON of the wrong shape fail with a word about the archive",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await startDaemon();
    try {
      for (const c of CASES) {
        const r = await http1(d.socket, "POST", "/images/load?quiet=1", {
          "Content-Type": "application/x-tar",
        }, await tarOf(c));
        const text = new TextDecoder().decode(r.body);
        const what = JSON.stringify(c);
        assert(r.status === 400 || /"errorDetail"/.test(text), `${what}: ${r.status} ${text}`);
        assert(/invalid (archive|image config)/.test(text), `${what}: ${text}`);
        assert(!/iterable|Cannot read|is not a function|undefined/.test(text), `${what}: ${text}`);
      }
      const ok = await d.berth(["images", "-q"]);
      assertEquals([ok.code, ok.stdout], [0, ""]);
    } finally {
      await d.stop();
    }
  },
});
