/** --since/--until values that are Go durations (core/units.ts), for events and logs. */
import { assertEquals, assertThrows } from "../../../core/testing/assert.ts";
import { timestamp } from "./events.ts";
import { timestampArg } from "./containers.ts";

const now = Date.parse("2024-05-01T12:00:00Z");

Deno.test("events --since: durations back from now, signed as Go's, unix times as given", () => {
  assertEquals(timestamp("1h30m", now), "1714559400.000000000");
  assertEquals(timestamp("1.5s", now), "1714564798.500000000");
  assertEquals(timestamp("-10m", now), "1714565400.000000000");
  assertEquals(timestamp("250\u03bcs", now), "1714564799.999750000");
  assertEquals(timestamp("1714564800", now), "1714564800");
  assertThrows(() => timestamp("5d", now), Error, `failed to parse value as time or duration`);
});

Deno.test("logs --since: durations back from now, signed as Go's", () => {
  assertEquals(timestampArg("1h30m", now), "1714559400.000000000");
  assertEquals(timestampArg("+1.5s", now), "1714564798.500000000");
  assertEquals(timestampArg("-10m", now), "1714565400.000000000");
  assertEquals(timestampArg("1714564800", now), "1714564800");
});
