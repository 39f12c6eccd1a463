/**
 * testcontainers-node (npm testcontainers 11.14, reaper disabled) against
 * berth (issue 13): GenericContainer from the locally loaded busybox with a
 * random host port, a log-message wait, content copied in before start, and
 * exec. Skips with the reason when the npm package cannot be loaded.
 * @module
 */
import { assertEquals } from "../core/testing/assert.ts";
import { skipUnless } from "../core/testing/host.ts";
import { containerDaemon } from "./containers_helpers.ts";

/** The part of testcontainers' API used here (typed locally: see the import below). */
interface Started {
  getHost(): string;
  getMappedPort(port: number): number;
  exec(cmd: string[]): Promise<{ exitCode: number; output: string; stderr: string }>;
  stop(): Promise<unknown>;
}
interface Builder {
  withCommand(cmd: string[]): Builder;
  withExposedPorts(...ports: number[]): Builder;
  withCopyContentToContainer(c: { content: string; target: string }[]): Builder;
  withWaitStrategy(w: unknown): Builder;
  withStartupTimeout(ms: number): Builder;
  start(): Promise<Started>;
}
interface Testcontainers {
  GenericContainer: new (image: string) => Builder;
  Wait: { forLogMessage(msg: string): unknown };
}

// A computed specifier keeps the package out of the type-checked module graph,
// so a host that cannot install it still type-checks the tree and skips here.
const SPEC = ["test", "containers"].join("");
let tc: Testcontainers | undefined;
let why: string | undefined;
try {
  tc = await import(SPEC) as Testcontainers;
} catch (e) {
  why = `npm testcontainers cannot be loaded: ${(e as Error).message.split("\n")[0]}`;
}
if (!why && Deno.uid() !== 0) why = "needs root to run containers";

Deno.test({
  name: "testcontainers: GenericContainer with a random port, log wait, copy-to-container, exec",
  ignore: skipUnless("testcontainers", why),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { GenericContainer, Wait } = tc!;
    const d = await containerDaemon();
    Deno.env.set("DOCKER_HOST", `unix://${d.socket}`);
    Deno.env.set("TESTCONTAINERS_RYUK_DISABLED", "true");
    try {
      const c = await new GenericContainer("busybox:latest")
        .withCommand([
          "sh",
          "-c",
          "mkdir -p /www && cp /tmp/page.txt /www/index.html && echo server ready && " +
          "exec httpd -f -p 8080 -h /www",
        ])
        .withExposedPorts(8080)
        .withCopyContentToContainer([{
          content: "hello from testcontainers\n",
          target: "/tmp/page.txt",
        }])
        .withWaitStrategy(Wait.forLogMessage("server ready"))
        .withStartupTimeout(30_000)
        .start();
      try {
        const port = c.getMappedPort(8080);
        if (!(port > 0)) throw new Error(`mapped port ${port}`);
        let body = "";
        for (let i = 0; i < 50 && !body; i++) {
          try {
            body = await (await fetch(`http://${c.getHost()}:${port}/`)).text();
          } catch {
            await new Promise((r) => setTimeout(r, 100)); // httpd may not be listening yet
          }
        }
        assertEquals(body, "hello from testcontainers\n");
        const r = await c.exec(["cat", "/tmp/page.txt"]);
        assertEquals([r.exitCode, r.output], [0, "hello from testcontainers\n"]);
        const bad = await c.exec(["sh", "-c", "echo oops >&2; exit 3"]);
        assertEquals([bad.exitCode, bad.stderr], [3, "oops\n"]);
      } finally {
        await c.stop();
      }
      assertEquals((await d.berth(["ps", "-aq"])).stdout, "", "stop removed the container");
    } finally {
      Deno.env.delete("DOCKER_HOST");
      await d.stop();
    }
  },
});
