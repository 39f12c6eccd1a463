import { assertEquals, assertRejects } from "../../../core/testing/assert.ts";
import { decompressExternal } from "./copy.ts";

async function compress(tool: string, data: Uint8Array): Promise<Uint8Array> {
  const p = new Deno.Command(tool, { args: ["-c"], stdin: "piped", stdout: "piped" }).spawn();
  const w = p.stdin.getWriter();
  await w.write(data);
  await w.close();
  return (await p.output()).stdout;
}

const read = async (s: ReadableStream<Uint8Array>) =>
  new Uint8Array(await new Response(s).arrayBuffer());

for (const tool of ["xz", "bzip2"]) {
  Deno.test(`ADD's ${tool} archives: decompressed whole; a cut one fails instead of ending early`, async () => {
    const data = new TextEncoder().encode("berth ".repeat(50_000));
    const packed = await compress(tool, data);
    assertEquals(await read(await decompressExternal(ReadableStream.from([packed]))), data);
    const cut = packed.subarray(0, Math.floor(packed.length / 2));
    await assertRejects(
      async () => await read(await decompressExternal(ReadableStream.from([cut]))),
      Error,
      "does not decompress",
    );
  });
}
