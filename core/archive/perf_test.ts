/**
 * Speed: a 64 MB random single-file layer should apply near disk speed.
 * Prints MB/s and the ratio to GNU tar extracting the same file (no hashing).
 */
import { assert } from "../testing/assert.ts";
import { applyLayer, compressStream } from "./mod.ts";
import { sh } from "./_testutil.ts";

Deno.test("perf: apply a 64 MB random one-file layer (plain and gzip)", async () => {
  const t = await Deno.makeTempDir({ prefix: "berth-perf-" });
  try {
    const SIZE = 64 * 1024 * 1024;
    Deno.mkdirSync(`${t}/src`);
    const f = Deno.openSync(`${t}/src/blob`, { write: true, create: true });
    const buf = new Uint8Array(65536);
    for (let i = 0; i < SIZE / buf.length; i++) f.writeSync(crypto.getRandomValues(buf));
    f.close();
    sh("tar", "-C", `${t}/src`, "-cf", `${t}/layer.tar`, "blob");
    await Deno.writeFile(
      `${t}/layer.tar.gz`,
      compressStream((await Deno.open(`${t}/layer.tar`)).readable, "gzip", { level: 1 }),
    );
    const run = async (file: string, i: number) => {
      const dest = `${t}/out-${i}`;
      Deno.mkdirSync(dest);
      const t0 = performance.now();
      await applyLayer((await Deno.open(file)).readable, dest);
      const ms = performance.now() - t0;
      Deno.removeSync(dest, { recursive: true });
      return ms;
    };
    const tarTime = () => {
      Deno.mkdirSync(`${t}/gnu`);
      const t0 = performance.now();
      sh("tar", "-C", `${t}/gnu`, "-xf", `${t}/layer.tar`);
      const ms = performance.now() - t0;
      Deno.removeSync(`${t}/gnu`, { recursive: true });
      return ms;
    };
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    await run(`${t}/layer.tar`, 0); // warm up
    const p: number[] = [], g: number[] = [], gnu: number[] = [];
    for (let i = 0; i < 3; i++) {
      p.push(await run(`${t}/layer.tar`, i));
      g.push(await run(`${t}/layer.tar.gz`, i));
      gnu.push(tarTime());
    }
    const mbs = (ms: number) => (SIZE / 1048576 / (ms / 1000)).toFixed(0);
    console.log(
      `apply 64 MB: plain ${med(p).toFixed(0)} ms (${mbs(med(p))} MB/s), gzip ${
        med(g).toFixed(0)
      } ms ` +
        `(${mbs(med(g))} MB/s); GNU tar -x ${med(gnu).toFixed(0)} ms; ratio plain/tar ${
          (med(p) / med(gnu)).toFixed(2)
        }`,
    );
    assert(med(p) < 3000 && med(g) < 5000);
  } finally {
    await Deno.remove(t, { recursive: true });
  }
});
