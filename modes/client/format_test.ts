import { assertEquals } from "../../core/testing/assert.ts";
import { compileTemplate, humanDuration, humanSize, renderTemplate, table } from "./format.ts";

Deno.test("format: human sizes like go-units", () => {
  assertEquals(humanSize(4261376), "4.26MB");
  assertEquals(humanSize(133_400_000), "133MB");
  assertEquals(humanSize(999), "999B");
  assertEquals(humanSize(1234), "1.23kB");
});

Deno.test("format: human durations like go-units", () => {
  assertEquals(humanDuration(500), "Less than a second");
  assertEquals(humanDuration(1000), "1 second");
  assertEquals(humanDuration(45_000), "45 seconds");
  assertEquals(humanDuration(61_000), "About a minute");
  assertEquals(humanDuration(3_600_000), "About an hour");
  assertEquals(humanDuration(3 * 86_400_000), "3 days");
  assertEquals(humanDuration(15 * 86_400_000), "2 weeks");
});

Deno.test("format: tabwriter minwidth 10 padding 3", () => {
  assertEquals(
    table([["REPOSITORY", "TAG"], ["busybox", "latest"]]),
    "REPOSITORY   TAG\nbusybox      latest\n",
  );
  assertEquals(table([["A", "B"], ["x", "y"]]), "A         B\nx         y\n");
});

Deno.test("format: templates", () => {
  assertEquals(renderTemplate("{{.A}}-{{.B.C}}", { A: 1, B: { C: "x" } }), "1-x");
  assertEquals(renderTemplate("{{json .}}", { A: 1 }), '{"A":1}');
  assertEquals(renderTemplate('{{index .L "k"}}', { L: { k: "v" } }), "v");
  assertEquals(renderTemplate("{{.A}}\\t{{.B}}", { A: 1, B: 2 }), "1\t2");
  // missing or null along a path, the value itself, a map; one compiled format for many values
  assertEquals(
    renderTemplate("{{.A.B}}|{{.Z}}|{{ .A }}", { A: null }),
    "<no value>|<no value>|<no value>",
  );
  assertEquals(
    renderTemplate("{{.}} {{.M}}", { M: { b: 2, a: [1, "x"] } }),
    "map[M:map[a:[1 x] b:2]] map[a:[1 x] b:2]",
  );
  const render = compileTemplate("{{.N}}:{{upper .S}}");
  assertEquals([{ N: 1, S: "a" }, { N: 2, S: "b" }].map(render), ["1:A", "2:B"]);
});
