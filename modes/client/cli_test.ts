import { assertEquals } from "../../core/testing/assert.ts";
import { filtersQuery, kvMap } from "./cli.ts";

Deno.test("kvMap: KEY=VALUE flag values, a KEY alone is empty, the last one wins", () => {
  assertEquals(kvMap(["a=1", "b", "c=x=y", "a=2", "=v"]), { a: "2", b: "", c: "x=y", "": "v" });
  assertEquals(kvMap(undefined), {});
});

Deno.test("filtersQuery: --filter values grouped by key as the API's filters parameter", () => {
  assertEquals(
    filtersQuery(["label=a=1", "dangling=true", "label=b", "name"]),
    JSON.stringify({ label: ["a=1", "b"], dangling: ["true"], name: [""] }),
  );
  assertEquals(filtersQuery([]), undefined);
  assertEquals(filtersQuery(undefined), undefined);
});
