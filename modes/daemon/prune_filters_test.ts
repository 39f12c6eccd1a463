import { assertEquals, assertThrows } from "../../core/testing/assert.ts";
import { parseUntil, pruneFilter } from "./prune_filters.ts";

Deno.test("prune filters: label, label!, until, unknown keys as moby", () => {
  const acc = ["label", "label!", "until"];
  const f = pruneFilter({ label: ["x=1", "y"] }, acc);
  assertEquals(
    [
      f.labels({ x: "1", y: "" }),
      f.labels({ x: "1" }),
      f.labels({ x: "2", y: "" }),
      f.labels(null),
    ],
    [true, false, false, false],
  );
  // label!: kept only when every entry matches
  const n = pruneFilter({ "label!": ["keep", "also=1"] }, acc);
  assertEquals([n.labels({}), n.labels({ keep: "" }), n.labels({ keep: "", also: "1" })], [
    true,
    true,
    false,
  ]);
  assertThrows(() => pruneFilter({ dangling: ["true"] }, acc), Error, "Invalid filter 'dangling'");
  assertThrows(() => pruneFilter({ until: ["1h", "2h"] }, acc), Error, "more than one until");
  assertThrows(() => pruneFilter({ until: ["soon"] }, acc), Error, "failed to parse value");
  const now = Date.parse("2024-05-01T12:00:00Z");
  assertEquals(parseUntil("1h30m", now), now - 90 * 60_000);
  assertEquals(parseUntil("1714564800", now), now);
  assertEquals(parseUntil("2024-05-01T12:00:00Z", now), now);
  assertEquals(parseUntil("0", now), 0); // "0" is a unix time, not a duration, as in Go
  assertEquals(parseUntil("1.5s", now), now - 1500);
  assertEquals(parseUntil("-1h", now), now + 3600_000);
  assertEquals(parseUntil("10\u03bcs", now), now - 0.01);
  const u = pruneFilter({ until: ["2024-05-01T12:00:00Z"] }, acc);
  assertEquals([u.before(now - 1), u.before(now + 1)], [true, false]);
});
