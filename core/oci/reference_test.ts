import { assertEquals, assertThrows } from "../testing/assert.ts";
import {
  familiarString,
  parseNormalizedNamed,
  parseReference,
  referenceString,
} from "./reference.ts";

Deno.test("reference: normalises like docker", () => {
  const cases: [string, string, string][] = [
    ["busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"],
    ["user/img", "docker.io/user/img:latest", "user/img:latest"],
    ["index.docker.io/library/x:y", "docker.io/library/x:y", "x:y"],
    ["localhost/x", "localhost/x:latest", "localhost/x:latest"],
    ["localhost:5000/a/b:1", "localhost:5000/a/b:1", "localhost:5000/a/b:1"],
    ["127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"],
    ["quay.io/a/b", "quay.io/a/b:latest", "quay.io/a/b:latest"],
  ];
  for (const [input, full, fam] of cases) {
    const r = parseNormalizedNamed(input);
    assertEquals(referenceString(r), full, input);
    assertEquals(familiarString(r), fam, input);
  }
  const d = "sha256:" + "a".repeat(64);
  const r = parseNormalizedNamed(`busybox@${d}`);
  assertEquals(r.tag, undefined);
  assertEquals(r.digest, d);
});

Deno.test("reference: rejects bad input with docker's words", () => {
  assertThrows(() => parseReference("Busybox"), Error, "must be lowercase");
  assertThrows(() => parseReference(""), Error, "invalid reference format");
  assertThrows(() => parseReference("a:b:c"), Error, "invalid reference format");
  assertThrows(() => parseReference("a".repeat(64).replace(/a/g, "f")), Error, "64-byte");
  assertThrows(() => parseReference("x/../y"), Error, "invalid reference format");
});
