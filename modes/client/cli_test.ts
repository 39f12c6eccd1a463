import { assertEquals, assertThrows } from "../../core/testing/assert.ts";
import { filterFlag, filtersQuery, kvMap } from "./cli.ts";
import { Command, FlagError } from "./flags.ts";

Deno.test("kvMap: KEY=VALUE flag values, a KEY alone is empty, the last one wins", () => {
  assertEquals(kvMap(["a=1", "b", "c=x=y", "a=2", "=v"]), { a: "2", b: "", c: "x=y", "": "v" });
  assertEquals(kvMap(undefined), {});
});

Deno.test("filtersQuery: --filter values grouped by key as the API's filters parameter", () => {
  assertEquals(
    filtersQuery(["label=a=1", "dangling=true", "label=b"]),
    JSON.stringify({ label: ["a=1", "b"], dangling: ["true"] }),
  );
  assertEquals(filtersQuery([]), undefined);
  assertEquals(filtersQuery(undefined), undefined);
});

// docker/cli opts.FilterOpt.Set (v20.10 and v28 alike): "" is ignored, no "=" is an error, the
// name is trimmed and lower-cased, the value trimmed; pflag words the error with the flag's names.
Deno.test("filterFlag: docker's FilterOpt rules, the error worded by the flag parser", () => {
  const parse = (argv: string[], flag = "-f, --filter <filter>") =>
    new Command("x").option(flag, "", filterFlag).parse(argv).opts().filter;
  assertEquals(parse(["-f", " Label = a=1 ", "--filter=", "--filter", "name=x"]), [
    "label=a=1",
    "name=x",
  ]);
  assertThrows(
    () => parse(["-f", "dangling"]),
    FlagError,
    'invalid argument "dangling" for "-f, --filter" flag: bad format of filter (expected name=value)',
  );
  assertThrows(
    () => parse(["--filter", "until"], "--filter <filter>"),
    FlagError,
    'invalid argument "until" for "--filter" flag: bad format of filter (expected name=value)',
  );
});
