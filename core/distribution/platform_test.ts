import { assertEquals, assertThrows } from "../testing/assert.ts";
import { InvalidArgument } from "../errdefs/mod.ts";
import {
  formatPlatform,
  normalizePlatform,
  parsePlatform,
  platformScore,
  selectManifest,
} from "./platform.ts";

Deno.test("platform: parse and normalise", () => {
  assertEquals(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
  assertEquals(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64" });
  assertEquals(parsePlatform("linux/aarch64"), { os: "linux", architecture: "arm64" });
  assertEquals(parsePlatform("linux/arm"), { os: "linux", architecture: "arm", variant: "v7" });
  assertEquals(parsePlatform("linux/armhf"), { os: "linux", architecture: "arm", variant: "v7" });
  assertEquals(parsePlatform("linux/x86_64"), { os: "linux", architecture: "amd64" });
  assertEquals(parsePlatform("arm64"), { os: "linux", architecture: "arm64" });
  assertEquals(normalizePlatform({ os: "linux", architecture: "amd64", variant: "v1" }), {
    os: "linux",
    architecture: "amd64",
  });
  assertEquals(formatPlatform(parsePlatform("linux/arm/6")), "linux/arm/v6");
  assertThrows(() => parsePlatform("linux//x"), InvalidArgument);
  assertThrows(() => parsePlatform("a/b/c/d"), InvalidArgument);
});

Deno.test("platform: compatibility and selection", () => {
  const p = (s: string) => parsePlatform(s);
  assertEquals(platformScore(p("linux/amd64"), p("linux/amd64")), 0);
  assertEquals(platformScore(p("linux/amd64"), p("linux/arm64")), -1);
  assertEquals(platformScore(p("linux/amd64"), { os: "windows", architecture: "amd64" }), -1);
  assertEquals(platformScore(p("linux/arm/v7"), p("linux/arm/v5")) > 0, true);
  assertEquals(platformScore(p("linux/arm/v6"), p("linux/arm/v7")), -1);
  assertEquals(platformScore(p("linux/amd64/v3"), p("linux/amd64")) > 0, true);
  assertEquals(platformScore(p("linux/amd64"), p("linux/amd64/v3")), -1);
  assertEquals(platformScore(p("linux/arm64"), p("linux/arm/v7")) > 0, true);
  const d = (digest: string, plat: string) => {
    const x = parsePlatform(plat);
    return {
      mediaType: "m",
      digest,
      size: 1,
      platform: { os: x.os, architecture: x.architecture, variant: x.variant },
    };
  };
  const list = [
    d("a", "linux/arm/v5"),
    d("b", "linux/arm/v7"),
    d("c", "linux/arm/v6"),
    d("w", "windows/amd64"),
  ];
  assertEquals(selectManifest(list, p("linux/arm/v7"))?.digest, "b");
  assertEquals(selectManifest(list, p("linux/arm/v6"))?.digest, "c");
  assertEquals(selectManifest(list, p("linux/arm64"))?.digest, "b");
  assertEquals(selectManifest(list, p("linux/amd64")), undefined);
  assertEquals(
    selectManifest([{ mediaType: "m", digest: "x", size: 1 }], p("linux/amd64")),
    undefined,
  );
});
