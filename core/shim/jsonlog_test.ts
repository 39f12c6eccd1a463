import { assertEquals, assertMatch } from "../testing/assert.ts";
import {
  encodeCriEntry,
  encodeEntry,
  goJsonString,
  JsonLogWriter,
  LineSplitter,
  MAX_LINE,
} from "./jsonlog.ts";

const enc = new TextEncoder();

Deno.test("jsonlog: Docker's line format and Go's escapes", () => {
  const line = new TextDecoder().decode(
    encodeEntry("stdout", enc.encode('a<b>&"\n'), "2024-05-01T12:00:00.123456789Z"),
  );
  assertEquals(
    line,
    '{"log":"a\\u003cb\\u003e\\u0026\\"\\n","stream":"stdout","time":"2024-05-01T12:00:00.123456789Z"}\n',
  );
  assertEquals(goJsonString("\u2028"), '"\\u2028"');
});

Deno.test("jsonlog: the CRI's line format (F: a full line without its \\n, P: a partial one)", async () => {
  const t = "2024-05-01T12:00:00.123456789Z";
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  assertEquals(
    dec(encodeCriEntry("stdout", enc.encode("hi there\n"), t)),
    `${t} stdout F hi there\n`,
  );
  assertEquals(dec(encodeCriEntry("stderr", enc.encode("cut"), t)), `${t} stderr P cut\n`);
  assertEquals(dec(encodeCriEntry("stdout", enc.encode("\n"), t)), `${t} stdout F \n`);
  const dir = await Deno.makeTempDir();
  const w = await JsonLogWriter.open(`${dir}/0.log`, { format: "cri" });
  const out = w.stream("stdout");
  out.push(enc.encode("a\nb"));
  out.end();
  await w.close();
  const lines = (await Deno.readTextFile(`${dir}/0.log`)).split("\n");
  assertMatch(lines[0], /^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F a$/);
  assertMatch(lines[1], /^\S+ stdout P b$/);
  // reopen: a rotated file keeps what it had, the path gets what comes after
  const w2 = await JsonLogWriter.open(`${dir}/1.log`, { format: "cri" });
  w2.write("stdout", enc.encode("before\n"));
  await Deno.rename(`${dir}/1.log`, `${dir}/1.log.old`);
  w2.reopen();
  w2.write("stdout", enc.encode("after\n"));
  await w2.close();
  assertMatch(await Deno.readTextFile(`${dir}/1.log.old`), / F before\n$/);
  assertMatch(await Deno.readTextFile(`${dir}/1.log`), /^\S+ stdout F after\n$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("jsonlog: lines split at \\n, long lines become partial entries", () => {
  const got: string[] = [];
  const s = new LineSplitter((l) => got.push(new TextDecoder().decode(l)));
  s.push(enc.encode("one\ntw"));
  s.push(enc.encode("o\r\nthree"));
  assertEquals(got, ["one\n", "two\r\n"]);
  s.end();
  assertEquals(got[2], "three");
  const long = new LineSplitter((l) => got.push(String(l.length)));
  long.push(new Uint8Array(MAX_LINE + 10).fill(97));
  long.end();
  assertEquals(got.slice(3), [String(MAX_LINE), "10"]);
});

Deno.test("jsonlog: max-size/max-file rotation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = await JsonLogWriter.open(`${dir}/c-json.log`, { maxSize: 300, maxFile: 3 });
    for (let i = 0; i < 20; i++) w.write("stdout", enc.encode(`line ${i}\n`));
    await w.close();
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(names, ["c-json.log", "c-json.log.1", "c-json.log.2"]);
    for (const n of names) assert300(await Deno.stat(`${dir}/${n}`));
    const last = (await Deno.readTextFile(`${dir}/c-json.log`)).trim().split("\n").pop()!;
    assertMatch(last, /^\{"log":"line 19\\n","stream":"stdout","time":"[^"]+Z"\}$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function assert300(st: Deno.FileInfo) {
  if (st.size > 300) throw new Error(`log file over max-size: ${st.size}`);
}
