/**
 * Fuzz: the Dockerfile shell lexer (issue 11): quotes, escapes and every
 * `${…}` form, with variables set so patterns really run. processWord and
 * processWords throw only InvalidArgument, in bounded time, and their output
 * stays in proportion to the input and the variables.
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { assertProportional, fuzz, text } from "../testing/fuzz.ts";
import { processWord, processWords } from "./shell_lex.ts";

const ENV = new Map([
  ["A", "x y"],
  ["B", "/usr/local/bin:/usr/bin"],
  ["E", ""],
  ["P", "a*b?c[d]e\\f"],
  ["L", "abcabc".repeat(40)],
]);

const OPTS = [
  {},
  { escape: "`" },
  { rawQuotes: true, rawEscapes: true, skipUnset: true },
  { skipQuotes: true },
];

/** Inputs a fuzz run once broke the lexer with. */
const REGRESSIONS: string[] = [
  // a bracket V8 cannot compile: SyntaxError "Range out of order in character class"
  "${P/[a[!a-$]/_}",
  // backtracking: 1 s here (and minutes with more stars) before the NFA matcher
  "${L#*a*b*c*x}",
];

Deno.test("fuzz: Dockerfile shell lexer", async () => {
  await fuzz({
    name: "shell-lex",
    seeds: [
      "echo \"$A\" '$B' ${E:-def} ${A:+set} \\$literal",
      "${B#*/} ${B##*/} ${B%:*} ${B%%:*} ${B/usr/opt} ${B//usr/opt}",
      "${L/#abc/X} ${L/%abc/Y} ${P/[a-c]/_} ${P//\\*/star} ${L#[!a]*}",
      "${U-unset} ${U+x} ${E?msg} ${A:?err} ${1} $@ $* $# $? $$ $!",
      '"nested ${A:-"in $B"}" `escaped`$A `"q"',
      "<<EOF <<-'END' 2<<\"X\"",
    ],
    dictionary: [
      "$",
      "${",
      "}",
      ":-",
      ":+",
      ":?",
      "#",
      "##",
      "%",
      "%%",
      "/",
      "//",
      "*",
      "?",
      "[",
      "]",
      "[!",
      "\\",
      "`",
      "'",
      '"',
      "A",
      "B",
      "L",
      "P",
      "U",
      " ",
    ],
    regressions: REGRESSIONS,
    maxLen: 512,
    expected: (e) => e instanceof InvalidArgument,
    run(input) {
      const s = text(input);
      for (const o of OPTS) {
        let out = 0;
        try {
          out += processWord(s, ENV, o).length;
          out += processWords(s, ENV, o).join(" ").length;
        } catch (e) {
          if (!(e instanceof InvalidArgument)) throw e;
        }
        assertProportional(out, s.length + 512, 256);
      }
    },
  });
});
