/**
 * parseDurationNs against Go: the cases are those of Go's own time package
 * tests (src/time/time_test.go: parseDurationTests and
 * parseDurationErrorTests), with the expected values written out in ns.
 * Left out: Go's inputs of invalid UTF-8 ("\x85\x85", "\xffff"), which a JS
 * string cannot hold. The exact messages are checked beside them.
 */
import { assertEquals, assertThrows } from "./testing/assert.ts";
import { InvalidArgument } from "./errdefs/mod.ts";
import { parseDuration, parseDurationNs } from "./units.ts";

const NS = 1n, US = 1000n * NS, MS = 1000n * US, S = 1000n * MS, M = 60n * S, H = 60n * M;
const MAX = (1n << 63n) - 1n, MIN = -(1n << 63n);

// Go: parseDurationTests
const GOOD: [string, bigint][] = [
  // simple
  ["0", 0n],
  ["5s", 5n * S],
  ["30s", 30n * S],
  ["1478s", 1478n * S],
  // sign
  ["-5s", -5n * S],
  ["+5s", 5n * S],
  ["-0", 0n],
  ["+0", 0n],
  // decimal
  ["5.0s", 5n * S],
  ["5.6s", 5n * S + 600n * MS],
  ["5.s", 5n * S],
  [".5s", 500n * MS],
  ["1.0s", 1n * S],
  ["1.00s", 1n * S],
  ["1.004s", 1n * S + 4n * MS],
  ["1.0040s", 1n * S + 4n * MS],
  ["100.00100s", 100n * S + 1n * MS],
  // different units
  ["10ns", 10n * NS],
  ["11us", 11n * US],
  ["12\u00b5s", 12n * US], // U+00B5
  ["12\u03bcs", 12n * US], // U+03BC
  ["13ms", 13n * MS],
  ["14s", 14n * S],
  ["15m", 15n * M],
  ["16h", 16n * H],
  // composite durations
  ["3h30m", 3n * H + 30n * M],
  ["10.5s4m", 4n * M + 10n * S + 500n * MS],
  ["-2m3.4s", -(2n * M + 3n * S + 400n * MS)],
  ["1h2m3s4ms5us6ns", 1n * H + 2n * M + 3n * S + 4n * MS + 5n * US + 6n * NS],
  ["39h9m14.425s", 39n * H + 9n * M + 14n * S + 425n * MS],
  // large value
  ["52763797000ns", 52763797000n * NS],
  // more than 9 digits after decimal point (golang.org/issue/6617)
  ["0.3333333333333333333h", 20n * M],
  // 1<<53+1 cannot be stored precisely in a float64
  ["9007199254740993ns", (1n << 53n) + 1n],
  // largest duration an int64 of ns holds
  ["9223372036854775807ns", MAX],
  ["9223372036854775.807us", MAX],
  ["9223372036s854ms775us807ns", MAX],
  ["-9223372036854775808ns", MIN],
  ["-9223372036854775.808us", MIN],
  ["-9223372036s854ms775us808ns", MIN],
  // largest negative round trip value (golang.org/issue/48629)
  ["-2562047h47m16.854775808s", MIN],
  // huge string (golang.org/issue/15011)
  ["0.100000000000000000000h", 6n * M],
  // the first overflow check in leadingFraction
  ["0.830103483285477580700h", 49n * M + 48n * S + 372539827n * NS],
];

Deno.test("parseDurationNs: Go's parseDurationTests", () => {
  for (const [s, want] of GOOD) assertEquals(parseDurationNs(s), want, s);
});

// Go: parseDurationErrorTests (the error contains the quoted input)
const BAD: [string, string][] = [
  // invalid
  ["", `""`],
  ["3", `"3"`],
  ["-", `"-"`],
  ["s", `"s"`],
  [".", `"."`],
  ["-.", `"-."`],
  [".s", `".s"`],
  ["+.s", `"+.s"`],
  ["1d", `"1d"`],
  ["\uFFFD", `"\\xef\\xbf\\xbd"`], // utf8.RuneError
  ["\uFFFD hello \uFFFD world", `"\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world"`],
  // overflow
  ["9223372036854775810ns", `"9223372036854775810ns"`],
  ["9223372036854775808ns", `"9223372036854775808ns"`],
  ["-9223372036854775809ns", `"-9223372036854775809ns"`],
  ["9223372036854776us", `"9223372036854776us"`],
  ["3000000h", `"3000000h"`],
  ["9223372036854775.808us", `"9223372036854775.808us"`],
  ["9223372036854ms775us808ns", `"9223372036854ms775us808ns"`],
];

Deno.test("parseDurationNs: Go's parseDurationErrorTests", () => {
  for (const [s, quoted] of BAD) assertThrows(() => parseDurationNs(s), InvalidArgument, quoted);
});

Deno.test("parseDurationNs: Go's error messages, word for word", () => {
  const msg = (s: string) => assertThrows(() => parseDurationNs(s), InvalidArgument).message;
  assertEquals(msg(""), `time: invalid duration ""`);
  assertEquals(msg("x"), `time: invalid duration "x"`);
  assertEquals(msg("-.s"), `time: invalid duration "-.s"`);
  assertEquals(msg("1"), `time: missing unit in duration "1"`);
  assertEquals(msg("1h30"), `time: missing unit in duration "1h30"`);
  assertEquals(msg("1x"), `time: unknown unit "x" in duration "1x"`);
  assertEquals(msg("1d"), `time: unknown unit "d" in duration "1d"`);
  assertEquals(msg("1S"), `time: unknown unit "S" in duration "1S"`);
  assertEquals(msg("1 s"), `time: unknown unit " s" in duration "1 s"`);
  assertEquals(msg("2\u00b5"), `time: unknown unit "\\xc2\\xb5" in duration "2\\xc2\\xb5"`);
  assertEquals(msg('1"'), `time: unknown unit "\\"" in duration "1\\""`);
  assertEquals(msg("3000000h"), `time: invalid duration "3000000h"`);
  assertEquals(msg("--1s"), `time: invalid duration "--1s"`);
});

Deno.test("parseDuration: the same as a number of nanoseconds", () => {
  assertEquals(parseDuration("1.5s"), 1.5e9);
  assertEquals(parseDuration("-1h"), -3600e9);
  assertEquals(parseDuration("0"), 0);
  assertThrows(() => parseDuration("5"), InvalidArgument, `time: missing unit in duration "5"`);
});
