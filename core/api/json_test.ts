import { assertEquals, assertThrows } from "../testing/assert.ts";
import { JsonNumber, JsonObject, JsonSyntaxError, parseGoJson, toPlain } from "./json.ts";

// Each message below is what dockerd 20.10 (Go 1.19's Decoder) answered for the same text.
const DECODER_ERRORS: [string, string][] = [
  ["", "EOF"],
  ["  \n", "EOF"],
  ["{invalid", "invalid character 'i' looking for beginning of object key string"],
  ['{"Name":"v3"', "unexpected EOF"],
  ['{"Name":"v3",}', "invalid character '}' looking for beginning of object key string"],
  ['{"Name":tru}', "invalid character '}' in literal true (expecting 'e')"],
  ['{"Name":"a\\x"}', "invalid character 'x' in string escape code"],
  ['{"Name":01}', "invalid character '1' after object key:value pair"],
  ['{"a" 1}', "invalid character '1' after object key"],
  ["[1 2]", "invalid character '2' after array element"],
  ["[-]", "invalid character ']' in numeric literal"],
  ["[1.]", "invalid character ']' after decimal point in numeric literal"],
  ["[1e+]", "invalid character ']' in exponent of numeric literal"],
  ['["\\u12x4"]', "invalid character 'x' in \\u hexadecimal character escape"],
  ['["a\nb"]', "invalid character '\\n' in string literal"],
  ["[nul]", "invalid character ']' in literal null (expecting 'l')"],
  ["'x'", "invalid character '\\'' looking for beginning of value"],
  ["[,]", "invalid character ',' looking for beginning of value"],
];

Deno.test("parseGoJson: syntax errors in Go's words", () => {
  for (const [text, msg] of DECODER_ERRORS) {
    const e = assertThrows(() => parseGoJson(text), JsonSyntaxError);
    assertEquals(e.message, msg, JSON.stringify(text));
  }
});

Deno.test("parseGoJson: the Decoder reads the first value; Unmarshal wants exactly one", () => {
  assertEquals(toPlain(parseGoJson('{"a":1} trailing')), { a: 1 });
  assertEquals(toPlain(parseGoJson("5x")), 5);
  assertThrows(
    () => parseGoJson('{"a":1} x', { whole: true }),
    JsonSyntaxError,
    "invalid character 'x' after top-level value",
  );
  assertThrows(() => parseGoJson("", { whole: true }), Error, "unexpected end of JSON input");
  assertThrows(() => parseGoJson("[1", { whole: true }), Error, "unexpected end of JSON input");
});

Deno.test("parseGoJson keeps number literals, duplicate keys, escapes, __proto__ as data", () => {
  const v = parseGoJson('{"n":1e300,"n":-0.5,"s":"a\\u00e9\\n","__proto__":{"x":1}}');
  if (!(v instanceof JsonObject)) throw new Error("not an object");
  assertEquals(v.entries.map(([k]) => k), ["n", "n", "s", "__proto__"]);
  assertEquals((v.entries[0][1] as JsonNumber).text, "1e300");
  const plain = toPlain(v) as Record<string, unknown>;
  assertEquals(plain.s, "aé\n");
  assertEquals(Object.getPrototypeOf(plain), Object.prototype);
  assertEquals(Object.keys(plain), ["n", "s", "__proto__"]);
});

Deno.test("parseGoJson: deep nesting is an error, not a crash", () => {
  const deep = "[".repeat(20000) + "]".repeat(20000);
  assertThrows(() => parseGoJson(deep), JsonSyntaxError, "exceeded max depth");
  assertEquals(toPlain(parseGoJson("[".repeat(500) + "]".repeat(500))) !== undefined, true);
});
