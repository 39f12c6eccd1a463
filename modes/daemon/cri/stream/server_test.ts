import { assert, assertEquals, assertThrows } from "../../../../core/testing/assert.ts";
import { MAX_IN_FLIGHT, negotiate, TokenCache } from "./server.ts";
import { statusJson, terminalSizes } from "./remotecommand.ts";

Deno.test("stream tokens: used once, of their kind, gone after the TTL, at most 1000 waiting", async () => {
  const c = new TokenCache(50);
  const t = c.insert("exec", { container_id: "x" });
  assert(/^[A-Za-z0-9_-]{11}$/.test(t), t);
  assertEquals(c.consume("attach", t), undefined); // another kind's URL: and the token is spent
  assertEquals(c.consume("exec", t), undefined);
  const u = c.insert("exec", { n: 1 });
  assertEquals(c.consume("exec", u)?.req, { n: 1 });
  assertEquals(c.consume("exec", u), undefined);
  const old = c.insert("portforward", {});
  await new Promise((r) => setTimeout(r, 80));
  assertEquals(c.consume("portforward", old), undefined);
  const full = new TokenCache();
  for (let i = 0; i < MAX_IN_FLIGHT; i++) full.insert("exec", {});
  assertThrows(
    () => full.insert("exec", {}),
    Error,
    "maximum number of in-flight requests exceeded",
  );
});

Deno.test("stream protocols: the client's first one we speak; none offered is the legacy v1", () => {
  const ours = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];
  assertEquals(negotiate(["v3.channel.k8s.io", "v4.channel.k8s.io"], ours), "v3.channel.k8s.io");
  assertEquals(negotiate(["v5.channel.k8s.io", "v4.channel.k8s.io"], ours), "v4.channel.k8s.io");
  assertEquals(negotiate([], ours), "");
  assertEquals(negotiate(["x"], ours), undefined);
});

Deno.test("remotecommand: v4 Status JSON as kubelet writes it; resize messages split anywhere", async () => {
  assertEquals(statusJson({ exitCode: 0 }), '{"metadata":{},"status":"Success"}');
  assertEquals(
    JSON.parse(statusJson({ exitCode: 7, message: "m" })),
    {
      metadata: {},
      status: "Failure",
      message: "command terminated with non-zero exit code: m",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "7" }] },
    },
  );
  const e = JSON.parse(statusJson({ error: "boom" }));
  assertEquals([e.reason, e.code, e.message], [
    "InternalError",
    500,
    "Internal error occurred: boom",
  ]);
  const wire = '{"Width":80,"Height":24}\n{"Width":1' + '00,"Height":30}\n';
  async function* chunks() {
    const b = new TextEncoder().encode(wire);
    for (let i = 0; i < b.length; i += 7) yield b.subarray(i, i + 7);
  }
  const got = [];
  for await (const s of terminalSizes(chunks())) got.push(s);
  assertEquals(got, [{ width: 80, height: 24 }, { width: 100, height: 30 }]);
});
