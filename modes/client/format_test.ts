import { assertEquals } from "../../core/testing/assert.ts";
import { humanDuration, humanSize, renderTemplate, table } from "./format.ts";

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
});
