import { assertEquals, assertThrows } from "../../core/testing/assert.ts";
import { parseRoute, rawPath } from "./routes.ts";
import { RegistryError } from "./errors.ts";
import { paginate } from "./list_routes.ts";
import { parseRange } from "./blobs.ts";
import { parseContentRange } from "./upload_routes.ts";

const D = "sha256:" + "a".repeat(64);

Deno.test("routes: parse", () => {
  assertEquals(rawPath("http://h:1/v2/a/../b?x=1"), "/v2/a/../b");
  assertEquals(parseRoute("/v2/"), { kind: "base" });
  assertEquals(parseRoute("/v2/_catalog"), { kind: "catalog" });
  assertEquals(parseRoute("/v2/a/b/manifests/v1"), { kind: "manifest", name: "a/b", ref: "v1" });
  assertEquals(parseRoute(`/v2/a/blobs/${D}`), { kind: "blob", name: "a", digest: D });
  assertEquals(parseRoute("/v2/a/blobs/uploads/"), { kind: "uploads", name: "a" });
  assertEquals(parseRoute("/v2/a/tags/list"), { kind: "tags", name: "a" });
  assertEquals(parseRoute(`/v2/a/referrers/${D}`), { kind: "referrers", name: "a", digest: D });
  assertEquals(parseRoute("/v2/a/b/manifests/manifests/manifests/x"), {
    kind: "manifest",
    name: "a/b/manifests/manifests",
    ref: "x",
  });
  for (
    const bad of [
      "/v2/a%2fb/tags/list",
      "/v2/../x/tags/list",
      "/v2/a/./b/tags/list",
      "/v2/a//b/tags/list",
      "/v2/A/tags/list",
      "/v2/a-/tags/list",
    ]
  ) {
    assertThrows(() => parseRoute(bad), RegistryError);
  }
  assertThrows(() => parseRoute(`/v2/${"a".repeat(256)}/tags/list`), RegistryError);
});

Deno.test("routes: pagination and ranges", () => {
  const q = (s: string) => new URLSearchParams(s);
  assertEquals(paginate(["a", "b", "c"], q(""), "/x"), { page: ["a", "b", "c"] });
  assertEquals(paginate(["a", "b", "c"], q("n=2"), "/x"), {
    page: ["a", "b"],
    link: '</x?n=2&last=b>; rel="next"',
  });
  assertEquals(paginate(["a", "b", "c"], q("n=2&last=b"), "/x"), { page: ["c"] });
  assertEquals(paginate(["a", "b", "c"], q("last=a"), "/x"), { page: ["b", "c"] });
  assertEquals(paginate(["a"], q("n=0"), "/x"), { page: [] });
  assertThrows(() => paginate(["a"], q("n=x"), "/x"), RegistryError);
  assertEquals(parseRange("bytes=0-9", 100), { start: 0, end: 9 });
  assertEquals(parseRange("bytes=-10", 100), { start: 90, end: 99 });
  assertEquals(parseRange("bytes=95-200", 100), { start: 95, end: 99 });
  assertEquals(parseRange("bytes=0-1,5-6", 100), null);
  assertEquals(parseRange(null, 100), null);
  assertThrows(() => parseRange("bytes=100-", 100), RegistryError);
  assertThrows(() => parseRange("bytes=-0", 100), RegistryError);
  assertEquals(parseContentRange("0-99"), { start: 0, end: 99 });
  assertEquals(parseContentRange("bytes 5-9/*"), { start: 5, end: 9 });
  assertEquals(parseContentRange(null), undefined);
  assertThrows(() => parseContentRange("9-5"), RegistryError);
});
