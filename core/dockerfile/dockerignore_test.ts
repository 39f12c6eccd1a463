import { assertEquals, assertThrows } from "../testing/assert.ts";
import { cleanPath, keepBuildFiles, PatternMatcher, readIgnoreFile } from "./dockerignore.ts";

Deno.test("readIgnoreFile: Docker's line rules", () => {
  const t = "\uFEFF# comment\n  *.log  \n\n/abs/path\n!  keep.log\n./a/../b/\n #not a comment\r\n";
  assertEquals(readIgnoreFile(t), ["*.log", "abs/path", "!keep.log", "b", "#not a comment"]);
});

Deno.test("PatternMatcher: globs, **, exceptions, parents", () => {
  const pm = new PatternMatcher([
    "*.md",
    "!README.md",
    "**/*.tmp",
    "node_modules",
    "docs/**/draft*",
    "a?c",
    "[xy].txt",
  ]);
  const cases: Array<[string, boolean]> = [
    ["notes.md", true],
    ["README.md", false],
    ["sub/notes.md", false], // "*" does not cross "/"
    ["x.tmp", true],
    ["deep/er/x.tmp", true],
    ["node_modules", true],
    ["node_modules/pkg/index.js", true], // parent matches
    ["docs/draft1", true],
    ["docs/a/b/draft2", true],
    ["docs/final", false],
    ["abc", true],
    ["abbc", false],
    ["x.txt", true],
    ["z.txt", false],
    ["src/main.ts", false],
  ];
  for (const [p, want] of cases) assertEquals(pm.matches(p), want, p);
});

Deno.test("PatternMatcher: later patterns win; ** alone", () => {
  assertEquals(new PatternMatcher(["**", "!keep"]).matches("keep"), false);
  assertEquals(new PatternMatcher(["**", "!keep"]).matches("other/x"), true);
  assertEquals(new PatternMatcher(["!a", "a"]).matches("a"), true);
  assertEquals(new PatternMatcher(["a", "!a/b"]).matches("a/b"), false);
  assertEquals(new PatternMatcher(["a", "!a/b"]).matches("a/c"), true);
  assertThrows(() => new PatternMatcher(["!"]), Error, "illegal exclusion pattern");
});

Deno.test("PatternMatcher.verdict: descend only when an exception starts in the dir", () => {
  const pm = new PatternMatcher(["vendor", "!vendor/keep.txt", "build"]);
  assertEquals(pm.verdict("vendor", true), "descend");
  assertEquals(pm.verdict("vendor/x", false), false);
  assertEquals(pm.verdict("vendor/keep.txt", false), true);
  assertEquals(pm.verdict("build", true), false);
  assertEquals(pm.verdict("src", true), true);
  // Docker does not descend for wildcard exceptions.
  assertEquals(new PatternMatcher(["dir", "!**/keep"]).verdict("dir", true), false);
});

Deno.test("keepBuildFiles: Dockerfile and .dockerignore always sent", () => {
  assertEquals(keepBuildFiles(["*"], "Dockerfile"), ["*", "!.dockerignore", "!Dockerfile"]);
  assertEquals(keepBuildFiles(["*.log"], "Dockerfile"), ["*.log"]);
  assertEquals(keepBuildFiles(["sub"], "sub/Dockerfile"), ["sub", "!sub/Dockerfile"]);
});

Deno.test("cleanPath", () => {
  assertEquals(cleanPath("a/./b/../c/"), "a/c");
  assertEquals(cleanPath("/../a"), "/a");
  assertEquals(cleanPath("../a"), "../a");
  assertEquals(cleanPath(""), ".");
});
