import { assertEquals } from "../testing/assert.ts";
import { parseChallenge } from "./challenge.ts";

Deno.test("challenge: bearer and basic", () => {
  assertEquals(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
    ),
    {
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:samalba/my-app:pull,push",
      },
    },
  );
  assertEquals(parseChallenge('Basic realm="x y", charset="UTF-8"'), {
    scheme: "basic",
    params: { realm: "x y", charset: "UTF-8" },
  });
  assertEquals(parseChallenge('Bearer realm="a\\"b",error=insufficient_scope'), {
    scheme: "bearer",
    params: { realm: 'a"b', error: "insufficient_scope" },
  });
  assertEquals(parseChallenge(null), undefined);
  assertEquals(parseChallenge("Negotiate"), { scheme: "negotiate", params: {} });
});
