import { assertEquals, assertRejects } from "./assert.ts";
import { fuzz, Mutator, prng, text } from "./fuzz.ts";

class ParseError extends Error {}

Deno.test("fuzz helper: finds a crash a mutation of the seed reaches, and names the input", async () => {
  const e = await assertRejects(() =>
    fuzz({
      name: "toy",
      seeds: ["key=value"],
      dictionary: ["=="],
      ms: 3000,
      expected: (e) => e instanceof ParseError,
      run(b) {
        const s = text(b);
        if (!s.includes("=")) throw new ParseError("no =");
        if (s.includes("==")) (null as unknown as { x: number }).x; // the bug: a TypeError
      },
    })
  );
  assertEquals(/unexpected error/.test(e.message) && /TypeError/.test(e.message), true);
  assertEquals(/base64 /.test(e.message), true);
});

Deno.test("fuzz helper: regressions run first; slow inputs fail; expected errors pass", async () => {
  await assertRejects(
    () =>
      fuzz({
        name: "slow",
        seeds: ["a"],
        regressions: ["slow"],
        maxInputMs: 20,
        ms: 50,
        expected: () => false,
        run(b) {
          if (text(b) === "slow") {
            const end = performance.now() + 40;
            while (performance.now() < end) { /* spin */ }
          }
        },
      }),
    Error,
    "took",
  );
  const stats = await fuzz({
    name: "ok",
    seeds: ["x"],
    ms: 50,
    expected: (e) => e instanceof ParseError,
    run(b) {
      if (b.length % 2) throw new ParseError("odd");
    },
  });
  assertEquals(stats.inputs > 0 && stats.accepted + stats.rejected === stats.inputs, true);
});

Deno.test("fuzz helper: the same seed gives the same inputs", () => {
  const gen = () => {
    const m = new Mutator(prng(42), [new TextEncoder().encode("tok")], 256);
    const seed = new TextEncoder().encode("hello world");
    return Array.from({ length: 50 }, () => [...m.mutate(seed, seed)].join(","));
  };
  assertEquals(gen(), gen());
});
