import { assertEquals, assertThrows } from "../testing/assert.ts";
import {
  checkMultiSource,
  cleanSource,
  destPathFor,
  globMatch,
  hasWildcards,
  normalizeDest,
  parseChmod,
  splitChown,
} from "./copy_rules.ts";

Deno.test("normalizeDest: WORKDIR and trailing slash", () => {
  assertEquals(normalizeDest("/app", "."), { path: "/app", dirLike: true });
  assertEquals(normalizeDest("/app", "x"), { path: "/app/x", dirLike: false });
  assertEquals(normalizeDest("/app", "x/"), { path: "/app/x", dirLike: true });
  assertEquals(normalizeDest("/app", "/abs/y"), { path: "/abs/y", dirLike: false });
  assertEquals(normalizeDest("", "rel"), { path: "/rel", dirLike: false });
  assertEquals(normalizeDest("/", "/"), { path: "/", dirLike: true });
  assertEquals(normalizeDest("/a", "../../b"), { path: "/b", dirLike: false });
});

Deno.test("destPathFor: Docker's file vs directory destination rules", () => {
  // dest ends in "/": into the directory
  assertEquals(destPathFor(normalizeDest("/", "/d/"), "f", false), "/d/f");
  // dest exists as a directory: into it
  assertEquals(destPathFor(normalizeDest("/", "/d"), "f", true), "/d/f");
  // otherwise dest is the file's new name
  assertEquals(destPathFor(normalizeDest("/", "/d"), "f", false), "/d");
  assertEquals(destPathFor(normalizeDest("/", "/"), "f", true), "/f");
});

Deno.test("cleanSource: never above the context root", () => {
  assertEquals(cleanSource("a/b"), "a/b");
  assertEquals(cleanSource("/a/./b/"), "a/b");
  assertEquals(cleanSource("../../etc/passwd"), "etc/passwd");
  assertEquals(cleanSource("."), "");
  assertEquals(cleanSource("/"), "");
});

Deno.test("globMatch: Go filepath.Match", () => {
  const yes: Array<[string, string]> = [
    ["*.txt", "a.txt"],
    ["a?c", "abc"],
    ["[a-c]x", "bx"],
    ["[!a]x", "bx"],
    ["[^a]x", "bx"],
    ["dir/*", "dir/f"],
    ["\\*", "*"],
    ["*", ".hidden"],
  ];
  const no: Array<[string, string]> = [
    ["*.txt", "d/a.txt"],
    ["a?c", "a/c"],
    ["[!a]x", "ax"],
    ["dir/*", "dir/sub/f"],
    ["\\*", "x"],
  ];
  for (const [p, s] of yes) assertEquals(globMatch(p, s), true, `${p} ${s}`);
  for (const [p, s] of no) assertEquals(globMatch(p, s), false, `${p} ${s}`);
  assertEquals(hasWildcards("a/*.js"), true);
  assertEquals(hasWildcards("a\\*b"), false);
  assertEquals(hasWildcards("plain"), false);
  assertThrows(() => globMatch("[abc", "a"), Error, "syntax error");
});

Deno.test("multi-source rule, --chmod, --chown", () => {
  checkMultiSource("COPY", 2, normalizeDest("/", "/d/"));
  checkMultiSource("COPY", 1, normalizeDest("/", "/d"));
  checkMultiSource("COPY", 2, normalizeDest("/w", "."));
  assertThrows(
    () => checkMultiSource("COPY", 2, normalizeDest("/", "/d")),
    Error,
    "When using COPY with more than one source file, the destination must be a directory and end with a /",
  );
  assertEquals(parseChmod("755"), 0o755);
  assertEquals(parseChmod("0644"), 0o644);
  assertEquals(parseChmod(undefined), undefined);
  assertThrows(() => parseChmod("u+x"), Error, "invalid chmod parameter");
  assertEquals(splitChown("bob"), { user: "bob" });
  assertEquals(splitChown("1:2"), { user: "1", group: "2" });
});
