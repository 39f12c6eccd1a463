import { assertEquals } from "../../../core/testing/assert.ts";
import { protoJson, render } from "../../../tools/gen_cri_proto.ts";

Deno.test("cri proto: api_json.ts is generated from api.proto (run tools/gen_cri_proto.ts)", async () => {
  const kept = await Deno.readTextFile(new URL("./proto/api_json.ts", import.meta.url));
  assertEquals(kept, render(protoJson()));
});
