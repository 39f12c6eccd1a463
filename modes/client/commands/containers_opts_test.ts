import { assertEquals, assertThrows } from "../../../core/testing/assert.ts";
import { flagDuration, healthConfig } from "./containers_opts.ts";

Deno.test("--health-* durations: Go's ParseDuration in pflag's words; negatives refused after", () => {
  assertEquals(flagDuration("health-interval", "1m30s"), 90e9);
  assertEquals(flagDuration("health-interval", "-2s"), -2e9);
  assertThrows(
    () => flagDuration("health-timeout", "5"),
    Error,
    `invalid argument "5" for "--health-timeout" flag: time: missing unit in duration "5"`,
  );
  assertThrows(
    () => flagDuration("health-timeout", "1d"),
    Error,
    `invalid argument "1d" for "--health-timeout" flag: time: unknown unit "d" in duration "1d"`,
  );
  assertThrows(
    () => healthConfig({ healthInterval: "-1s" }),
    Error,
    "--health-interval cannot be negative",
  );
  assertEquals(healthConfig({ healthStartPeriod: "+.5s" })?.StartPeriod, 5e8);
});
