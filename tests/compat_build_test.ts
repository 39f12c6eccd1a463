/**
 * Docker 20.10 compatibility of the legacy builder (`POST /build`) and the
 * runtime a container reports, through the Docker SDK for Python: build
 * `extrahosts` in RUN steps' /etc/hosts, `cachefrom`, RUN stderr wrapped in
 * red, the image config's `OnBuild` key, `HostConfig.Runtime`.
 * Where the expected values come from: docs/compat.md.
 */
import { assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { expectCode } from "./containers_helpers.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon } from "./fixtures/daemon.ts";
import { hasPyDocker, py } from "./fixtures/pydocker.ts";

const BUILD = `
import io
def build(df, **kw):
    out = []
    for m in client.build(fileobj=io.BytesIO(df.encode()), decode=True, rm=True, **kw):
        if "error" in m:
            raise SystemExit("build error: " + m["error"])
        out.append(m.get("stream", ""))
    return "".join(out)
`;

Deno.test({
  name: "compat: legacy builder and runtime as Docker 20.10 (python SDK)",
  ignore: !(await hasPyDocker()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    // No --add-runtime: runc is known to every dockerd, as to berth.
    const d = await startDaemon();
    try {
      expectCode(await d.berth(["load", "-i", (await busyboxArchive()).path]), 0);
      await t.step("build: extrahosts reach RUN steps' /etc/hosts", async () => {
        const r = await py(
          d,
          BUILD + `
s = build("FROM busybox\\nRUN cat /etc/hosts\\n", extra_hosts={"h1": "10.9.8.7", "h2": "fd00::7"}, nocache=True)
print("10.9.8.7\\th1" in s, "fd00::7\\th2" in s)
s = build("FROM busybox\\nRUN cat /etc/hosts\\n", extra_hosts={"h3": "10.9.8.6"}, nocache=True, network_mode="none")
print("10.9.8.6\\th3" in s)
`,
          120000,
        );
        assertEquals(r.stdout, "True True\nTrue\n", r.stderr);
      });

      await t.step("build: docker build --add-host (legacy builder)", async () => {
        const ctx = await Deno.makeTempDir({ dir: d.base, prefix: "addhost-" });
        await Deno.writeTextFile(`${ctx}/Dockerfile`, "FROM busybox\nRUN cat /etc/hosts\n");
        const r = await d.docker(
          [
            "build",
            "--no-cache",
            "--add-host",
            "cli1:10.9.8.5",
            "--add-host",
            "cli2:10.9.8.4",
            ctx,
          ],
          { timeoutMs: 120000, env: { DOCKER_BUILDKIT: "0" } },
        );
        assertEquals(r.code, 0, r.stderr);
        assertStringIncludes(r.stdout, "10.9.8.5\tcli1\n");
        assertStringIncludes(r.stdout, "10.9.8.4\tcli2\n");
      });

      await t.step("build: RUN stderr is wrapped in \\x1b[91m … \\x1b[0m", async () => {
        const r = await py(
          d,
          BUILD + `
s = build("FROM busybox\\nRUN echo to-out; echo to-err >&2\\n", nocache=True)
print(json.dumps("to-out\\n" in s), json.dumps("\\x1b[91mto-err\\n\\x1b[0m" in s))
`,
          120000,
        );
        assertEquals(r.stdout, "true true\n", r.stderr);
      });

      await t.step("build: cachefrom limits cache hits to the listed images", async () => {
        const r = await py(
          d,
          BUILD + `
df = "FROM busybox\\nRUN echo cached > /c\\n"
build(df, tag="cf:1")
print("plain", "Using cache" in build(df))
print("unknown", "Using cache" in build(df, cache_from=["nope:404"]))
print("listed", "Using cache" in build(df, cache_from=["nope:404", "cf:1"]))
`,
          120000,
        );
        assertEquals(r.stdout, "plain True\nunknown False\nlisted True\n", r.stderr);
      });

      await t.step("build: the image config has OnBuild (null when none)", async () => {
        const r = await py(
          d,
          BUILD + `
build("FROM busybox\\nRUN true\\nENV A=1\\n", tag="ob:none", nocache=True)
build("FROM busybox\\nONBUILD RUN true\\n", tag="ob:set", nocache=True)
for t in ("ob:none", "ob:set", "busybox"):
    c = client.inspect_image(t)["Config"]
    print(t, "OnBuild" in c, json.dumps(c.get("OnBuild")))
`,
          120000,
        );
        assertEquals(
          r.stdout,
          'ob:none True null\nob:set True ["RUN true"]\nbusybox True null\n',
          r.stderr,
        );
      });

      await t.step(
        "build: every stage up to the target runs, each ends with its aux ID",
        async () => {
          // moby integration/build TestBuildMultiStageOnBuild
          const r = await py(
            d,
            `
import io
df = """FROM busybox AS stage1
ONBUILD RUN echo 'foo' >somefile
ONBUILD ENV bar=baz

FROM stage1
RUN cat somefile

FROM stage1
RUN cat somefile
"""
ids, steps = [], []
for m in client.build(fileobj=io.BytesIO(df.encode()), decode=True, rm=True, forcerm=True):
    if "error" in m:
        raise SystemExit("build error: " + m["error"])
    if "aux" in m:
        ids.append(m["aux"]["ID"])
    if m.get("stream", "").startswith("Step "):
        steps.append(m["stream"].split(" :")[0])
print(len(ids), steps[-1], "bar=baz" in client.inspect_image(ids[2])["Config"]["Env"])
`,
            120000,
          );
          assertEquals(r.stdout, "3 Step 7/7 True\n", r.stderr);
        },
      );

      await t.step("HostConfig.Runtime: the runtime asked for, else the default", async () => {
        const r = await py(
          d,
          `
info = client.info()
a = client.create_container("busybox", "true")["Id"]
b = client.create_container("busybox", "true", host_config=client.create_host_config(runtime="runc"))["Id"]
print(client.inspect_container(a)["HostConfig"]["Runtime"] == info["DefaultRuntime"])
print(client.inspect_container(b)["HostConfig"]["Runtime"], "runc" in info["Runtimes"])
client.start(b); print(client.wait(b)["StatusCode"])
client.remove_container(a); client.remove_container(b)
`,
        );
        assertEquals(r.stdout, "True\nrunc True\n0\n", r.stderr);
      });
    } finally {
      await d.stop();
    }
  },
});
