/**
 * Fuzz: image references (issue 11). parseReference throws only
 * InvalidArgument, answers in bounded time, and a parsed reference prints
 * back (full and familiar forms) to a string that parses to the same value.
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { assertEquals } from "../testing/assert.ts";
import { fuzz, text } from "../testing/fuzz.ts";
import { familiarString, parseReference, referenceString } from "./reference.ts";

const D = "sha256:" + "0123456789abcdef".repeat(4);

/** Inputs a fuzz run once broke parseReference with. */
const REGRESSIONS: string[] = [
  // familiar form dropped library/ from a two-level path: "a/b" is docker.io/a/b, another repo
  "docker.io/library/a/b",
];

/** Docker's own quirk: docker.io/foo.bar/x prints as foo.bar/x, which names the host foo.bar. */
const domainLike = (path: string) => /^([^/]*[.:][^/]*|localhost)\//.test(path);

Deno.test("fuzz: image references", async () => {
  await fuzz({
    name: "reference",
    seeds: [
      "busybox",
      "busybox:1.36",
      "library/busybox:latest",
      "docker.io/library/busybox",
      "index.docker.io/user/img:tag",
      "localhost/x",
      "localhost:5000/a/b-c/d__e.f:1.0-rc",
      "127.0.0.1:5000/x",
      "[::1]:5000/a/b:v",
      "quay.io/a/b@" + D,
      "reg.example.com:443/team/app:1@" + D,
    ],
    dictionary: [
      ":",
      "/",
      "@",
      ".",
      "-",
      "_",
      "__",
      "sha256:",
      D,
      "[",
      "]",
      "::1",
      "A",
      "localhost",
    ],
    regressions: REGRESSIONS,
    maxLen: 600,
    expected: (e) => e instanceof InvalidArgument,
    run(input) {
      const r = parseReference(text(input));
      const again = parseReference(referenceString(r));
      assertEquals(again, r, "referenceString round trip");
      if (r.domain === "docker.io" && domainLike(r.path)) return;
      assertEquals(parseReference(familiarString(r)), r, "familiarString round trip");
    },
  });
});
