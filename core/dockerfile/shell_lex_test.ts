import { assertEquals, assertThrows } from "../testing/assert.ts";
import { envMap, processWord, processWords } from "./shell_lex.ts";

const env = new Map([
  ["A", "x y"],
  ["E", ""],
  ["P", "/usr/local/bin"],
  ["HOME", "/root"],
]);

Deno.test("processWord: variables, defaults, alternatives", () => {
  const cases: Array<[string, string]> = [
    ["$A", "x y"],
    ["${A}", "x y"],
    ["pre${A}post", "prex ypost"],
    ["$HOME/bin", "/root/bin"],
    ["${B:-def}", "def"],
    ["${E:-def}", "def"],
    ["${E-def}", ""],
    ["${B-def}", "def"],
    ["${A:+alt}", "alt"],
    ["${E:+alt}", ""],
    ["${E+alt}", "alt"],
    ["${B+alt}", ""],
    ["${B:-$HOME}", "/root"],
    ["${B:-${A}}", "x y"],
    ["$UNSET", ""],
    ["$", "$"],
    ["a$", "a$"],
    ["$1x", "x"],
  ];
  for (const [w, want] of cases) assertEquals(processWord(w, env), want, w);
});

Deno.test("processWord: quotes and escapes", () => {
  const cases: Array<[string, string]> = [
    ['"$A"', "x y"],
    ["'$A'", "$A"],
    ["\\$A", "$A"],
    ["a\\ b", "a b"],
    ['"a\\"b"', 'a"b'],
    ['"a\\b"', "a\\b"],
    ['"\\$A"', "$A"],
    [`'it'"'"'s'`, "it's"],
    ["\"a\"'b'c", "abc"],
    ["\\\\", "\\"],
  ];
  for (const [w, want] of cases) assertEquals(processWord(w, env), want, w);
});

Deno.test("processWord: backtick escape", () => {
  assertEquals(processWord("`$A", env, { escape: "`" }), "$A");
  assertEquals(processWord("C:\\dir", env, { escape: "`" }), "C:\\dir");
});

Deno.test("processWord: pattern operators", () => {
  assertEquals(processWord("${P#*/}", env), "usr/local/bin");
  assertEquals(processWord("${P##*/}", env), "bin");
  assertEquals(processWord("${P%/*}", env), "/usr/local");
  assertEquals(processWord("${P%%/l*}", env), "/usr");
  assertEquals(processWord("${P/local/LOCAL}", env), "/usr/LOCAL/bin");
  assertEquals(processWord("${P//l/L}", env), "/usr/LocaL/bin");
});

Deno.test("processWord: errors", () => {
  assertThrows(() => processWord("${A", env), Error, "missing '}'");
  assertThrows(() => processWord("${}", env), Error, "bad substitution");
  assertThrows(() => processWord('"abc', env), Error, "double-quote");
  assertThrows(() => processWord("'abc", env), Error, "single-quote");
  assertThrows(() => processWord("${B:?must be set}", env), Error, "B: must be set");
  assertThrows(() => processWord("${E:?}", env), Error, "is not allowed to be empty");
  assertThrows(() => processWord("${A:x}", env), Error, "unsupported modifier");
});

Deno.test("processWords splits expansions, not quoted text", () => {
  assertEquals(processWords('$A "q r" s', env), ["x", "y", "q r", "s"]);
  assertEquals(processWords("80 443/udp", env), ["80", "443/udp"]);
  assertEquals(processWords("", env), []);
});

Deno.test("skipUnset and skipQuotes", () => {
  assertEquals(processWord("$NOPE ${NOPE}", env, { skipUnset: true }), "$NOPE ${NOPE}");
  assertEquals(processWord(`say "$A" 'x'`, env, { skipQuotes: true }), `say "x y" 'x'`);
});

Deno.test("envMap: later entries win", () => {
  const m = envMap(["A=1", "B=2"], ["A=3", "C"]);
  assertEquals([...m], [["A", "3"], ["B", "2"], ["C", ""]]);
});
