/**
 * Fuzz: the build's path patterns (issue 11), which come from Dockerfiles
 * (COPY/ADD sources) and `.dockerignore` and meet the context's file names
 * in the daemon. globMatch and PatternMatcher throw only InvalidArgument and
 * answer in bounded time. Input: "pattern\nname".
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { fuzz, text } from "../testing/fuzz.ts";
import { globMatch } from "./copy_rules.ts";
import { PatternMatcher } from "./dockerignore.ts";

/** Inputs a fuzz run once broke the matchers with. */
const REGRESSIONS: string[] = [
  // RegExp backtracking: 3 s for COPY's glob, 25 s for .dockerignore's **
  "*a*a*a*b\n" + "a".repeat(255),
  "**/**/**/**/**/x\n" + "a/".repeat(100) + "y",
  // a bracket V8 cannot compile: SyntaxError
  "[z-a]\nx",
];

Deno.test("fuzz: COPY and .dockerignore patterns", async () => {
  await fuzz({
    name: "build-globs",
    seeds: [
      "*.txt\na.txt",
      "src/**/*.ts\nsrc/a/b/c.ts",
      "[!a-c]?x\nd/x",
      "docs/**/draft*\ndocs/a/b/draft2",
      "\\*\n*",
      "!keep\nkeep",
      "**\na/b/c",
    ],
    dictionary: ["*", "**", "**/", "?", "[", "]", "[!", "[^", "-", "\\", "/", "\n"],
    regressions: REGRESSIONS,
    maxLen: 600,
    expected: (e) => e instanceof InvalidArgument,
    run(input) {
      const s = text(input);
      const nl = s.indexOf("\n");
      const pattern = nl < 0 ? s : s.slice(0, nl);
      const name = nl < 0 ? "" : s.slice(nl + 1);
      let bad: unknown;
      try {
        globMatch(pattern, name);
      } catch (e) {
        if (!(e instanceof InvalidArgument)) throw e;
        bad = e;
      }
      const pm = new PatternMatcher([pattern, "!" + pattern + "/keep"]);
      pm.matches(name);
      pm.verdict(name, true);
      if (bad) throw bad;
    },
  });
});
