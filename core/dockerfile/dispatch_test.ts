import { assertEquals, assertThrows } from "../testing/assert.ts";
import type { ImageRunConfig } from "../oci/types.ts";
import { applyMeta, normalizeWorkdir, parsePorts, validSignal } from "./dispatch.ts";
import { InstructionParser } from "./instructions.ts";
import { parseDockerfile } from "./parser.ts";
import { BuildArgs } from "./args.ts";

const ip = new InstructionParser();
function apply(
  line: string,
  cfg: ImageRunConfig,
  env: Record<string, string> = {},
  cmdSet = false,
) {
  const ins = ip.parse(parseDockerfile(line).nodes[0]);
  return applyMeta(ins, cfg, { env: new Map(Object.entries(env)), escape: "\\", cmdSet });
}

Deno.test("ENV expands with the values before the instruction", () => {
  const cfg: ImageRunConfig = { Env: ["PATH=/bin", "abc=hello"] };
  const r = apply("ENV abc=bye def=$abc", cfg, { abc: "hello" });
  assertEquals(cfg.Env, ["PATH=/bin", "abc=bye", "def=hello"]);
  assertEquals(r.comment, "ENV abc=bye def=hello");
  apply('ENV Q "quoted value"', cfg);
  assertEquals(cfg.Env?.at(-1), "Q=quoted value");
});

Deno.test("LABEL, USER, STOPSIGNAL, VOLUME, EXPOSE expand", () => {
  const cfg: ImageRunConfig = {};
  apply('LABEL "a b"="c d" v=$V', cfg, { V: "1" });
  assertEquals(cfg.Labels, { "a b": "c d", v: "1" });
  apply("USER ${U:-nobody}", cfg);
  assertEquals(cfg.User, "nobody");
  apply("STOPSIGNAL $S", cfg, { S: "SIGKILL" });
  assertEquals(cfg.StopSignal, "SIGKILL");
  apply('VOLUME ["/data", "$D"]', cfg, { D: "/x" });
  assertEquals(cfg.Volumes, { "/data": {}, "/x": {} });
  apply("EXPOSE $P 53/udp 8000-8001", cfg, { P: "80 443" });
  assertEquals(Object.keys(cfg.ExposedPorts ?? {}), [
    "80/tcp",
    "443/tcp",
    "53/udp",
    "8000/tcp",
    "8001/tcp",
  ]);
  assertThrows(() => apply("STOPSIGNAL NOPE", {}), Error, "Invalid signal: NOPE");
  assertThrows(() => apply("EXPOSE abc", {}), Error, "Invalid containerPort");
});

Deno.test("CMD/ENTRYPOINT/SHELL are not expanded; shell form uses SHELL", () => {
  const cfg: ImageRunConfig = { Cmd: ["base"] };
  const r = apply("CMD echo $HOME", cfg, { HOME: "/x" });
  assertEquals(cfg.Cmd, ["/bin/sh", "-c", "echo $HOME"]);
  assertEquals(r.comment, 'CMD ["/bin/sh" "-c" "echo $HOME"]');
  assertEquals(r.cmdSet, true);
  apply('SHELL ["/bin/bash", "-o", "pipefail", "-c"]', cfg);
  apply("ENTRYPOINT run.sh", cfg, {}, true);
  assertEquals(cfg.Entrypoint, ["/bin/bash", "-o", "pipefail", "-c", "run.sh"]);
  assertEquals(cfg.Cmd, ["/bin/sh", "-c", "echo $HOME"]); // CMD set in this stage is kept
  const c2: ImageRunConfig = { Cmd: ["inherited"] };
  apply('ENTRYPOINT ["/ep"]', c2, {}, false);
  assertEquals(c2.Cmd, null); // inherited CMD is reset
});

Deno.test("WORKDIR joins relative paths", () => {
  assertEquals(normalizeWorkdir("", "a"), "/a");
  assertEquals(normalizeWorkdir("/a", "b/../c"), "/a/c");
  assertEquals(normalizeWorkdir("/a", "/x/"), "/x");
  const cfg: ImageRunConfig = { WorkingDir: "/srv" };
  apply("WORKDIR $D/app", cfg, { D: "opt" });
  assertEquals(cfg.WorkingDir, "/srv/opt/app");
});

Deno.test("HEALTHCHECK: options, NONE, errors", () => {
  const cfg: ImageRunConfig = {};
  apply(
    "HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD curl -f http://x/ || exit 1",
    cfg,
  );
  assertEquals(cfg.Healthcheck, {
    Test: ["CMD-SHELL", "curl -f http://x/ || exit 1"],
    Interval: 5e9,
    Timeout: 90e9,
    Retries: 3,
  });
  apply('HEALTHCHECK CMD ["/bin/check", "-q"]', cfg);
  assertEquals(cfg.Healthcheck?.Test, ["CMD", "/bin/check", "-q"]);
  apply("HEALTHCHECK NONE", cfg);
  assertEquals(cfg.Healthcheck, { Test: ["NONE"] });
  assertThrows(
    () => apply("HEALTHCHECK --interval=1us CMD x", {}),
    Error,
    "cannot be less than 1ms",
  );
  assertThrows(() => apply("HEALTHCHECK --retries=-1 CMD x", {}), Error, "cannot be negative");
  assertThrows(
    () => apply("HEALTHCHECK --interval=-5s CMD x", {}),
    Error,
    `Interval "interval" cannot be less than 1ms`,
  );
  assertThrows(
    () => apply("HEALTHCHECK --timeout=5 CMD x", {}),
    Error,
    `time: missing unit in duration "5"`,
  );
  assertThrows(
    () => apply("HEALTHCHECK --start-period=1d CMD x", {}),
    Error,
    `time: unknown unit "d" in duration "1d"`,
  );
  const zero: ImageRunConfig = {};
  apply("HEALTHCHECK --interval=0 --timeout=1.5s CMD x", zero);
  assertEquals(zero.Healthcheck, { Test: ["CMD-SHELL", "x"], Timeout: 1.5e9 });
});

Deno.test("ONBUILD and MAINTAINER", () => {
  const cfg: ImageRunConfig = {};
  apply("ONBUILD RUN echo $X", cfg);
  apply("onbuild COPY . /app", cfg);
  assertEquals(cfg.OnBuild, ["RUN echo $X", "COPY . /app"]);
  assertEquals(apply("MAINTAINER Jo <jo@x>", cfg).author, "Jo <jo@x>");
});

Deno.test("helpers: ports, signals", () => {
  assertEquals(parsePorts(["80", "53/UDP"]), ["80/tcp", "53/udp"]);
  assertEquals(validSignal("SIGTERM"), true);
  assertEquals(validSignal("kill"), true);
  assertEquals(validSignal("9"), true);
  assertEquals(validSignal("RTMIN+3"), true);
  assertEquals(validSignal("SIGFOO"), false);
});

Deno.test("build args: scoping, defaults, meta, ENV wins, unused", () => {
  const a = new BuildArgs({ V: "cli", W: null, UNUSED: "x", HTTP_PROXY: "http://p" }, {
    os: "linux",
    architecture: "amd64",
  });
  a.declareMeta("V", "meta", new Map());
  a.declareMeta("BASE", "img:${V}", new Map());
  assertEquals(a.metaEnv().get("BASE"), "img:cli");
  assertEquals(a.metaEnv().get("TARGETARCH"), "amd64");
  const st = a.stage();
  assertEquals(st.effective().has("V"), false); // meta args need redeclaring
  st.declare("V", undefined, new Map());
  st.declare("W", "dflt", new Map()); // null on the command line: default stays
  st.declare("TARGETOS", undefined, new Map());
  assertEquals(Object.fromEntries(st.effective()), { V: "cli", W: "dflt", TARGETOS: "linux" });
  assertEquals(Object.fromEntries(st.proxies()), { HTTP_PROXY: "http://p" });
  assertEquals(a.unused(), ["UNUSED"]);
});
