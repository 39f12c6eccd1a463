/**
 * `ps --filter name=…` takes a regular expression from the client (issue 11:
 * outside input). One that does not compile matches nothing, as moby's
 * filters.Args.Match (before: a 500 with V8's SyntaxError); one that
 * backtracks exponentially (`^(a*)*b$` against a long name) finishes at once
 * on V8's linear engine (the daemon's V8 flags) instead of holding the
 * daemon's one thread for minutes.
 */
import { assertEquals } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";

Deno.test({
  name: "ps --filter name: a bad regexp matches nothing, a catastrophic one returns at once",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const d = await containerDaemon();
    try {
      const name = "a".repeat(40);
      expectCode(await d.berth(["create", "--name", name, "busybox", "true"]), 0, "create");
      const bad = expectCode(
        await d.berth(["ps", "-a", "--format", "{{.Names}}", "-f", "name=["]),
        0,
      );
      assertEquals(bad.stdout, "");
      const t0 = performance.now();
      const slow = await d.berth(["ps", "-a", "--format", "{{.Names}}", "-f", "name=^(a*)*b$"], {
        timeoutMs: 10_000,
      });
      const ms = performance.now() - t0;
      assertEquals([slow.code, slow.stdout], [0, ""], slow.stderr);
      assertEquals(ms < 8000, true, `${ms} ms`);
      // and an ordinary one still matches
      const ok = expectCode(
        await d.berth(["ps", "-a", "--format", "{{.Names}}", "-f", "name=^a+$"]),
        0,
      );
      assertEquals(ok.stdout.trim(), name);
    } finally {
      await d.stop();
    }
  },
});
