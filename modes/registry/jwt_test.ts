import { assertEquals } from "../../core/testing/assert.ts";
import { signJwt, verifyJwt } from "./jwt.ts";
import { Htpasswd, parseBasic } from "./htpasswd.ts";
import bcrypt from "bcryptjs";

Deno.test("jwt: sign, verify, expiry, tampering", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const now = 1_000_000;
  const t = signJwt({
    sub: "a",
    exp: now + 10,
    access: [{ type: "repository", name: "x", actions: ["pull"] }],
  }, key);
  assertEquals(verifyJwt(t, key, now)?.sub, "a");
  assertEquals(verifyJwt(t, key, now + 11), null);
  assertEquals(verifyJwt(t, crypto.getRandomValues(new Uint8Array(32)), now), null);
  const [h, p, s] = t.split(".");
  const forged = btoa(JSON.stringify({ sub: "root", exp: now + 10 })).replaceAll("=", "");
  assertEquals(verifyJwt(`${h}.${forged}.${s}`, key, now), null);
  assertEquals(verifyJwt(`${h}.${p}`, key, now), null);
  assertEquals(verifyJwt("garbage", key, now), null);
});

Deno.test("htpasswd: bcrypt variants, basic header", async () => {
  const h = bcrypt.hashSync("pw", 4);
  const f = Htpasswd.parse(`a:${h}\nb:${h.replace("$2a$", "$2y$")}\n# comment\n`);
  assertEquals(f.size, 2);
  assertEquals(await f.verify("a", "pw"), true);
  assertEquals(await f.verify("a", "pw"), true);
  assertEquals(await f.verify("b", "pw"), true);
  assertEquals(await f.verify("a", "nope"), false);
  assertEquals(await f.verify("c", "pw"), false);
  let threw = false;
  try {
    Htpasswd.parse("x:{SHA}abc");
  } catch {
    threw = true;
  }
  assertEquals(threw, true);
  assertEquals(parseBasic(`Basic ${btoa("u:p:q")}`), { user: "u", password: "p:q" });
  assertEquals(parseBasic("Bearer x"), null);
  assertEquals(parseBasic("Basic !!!"), null);
});
