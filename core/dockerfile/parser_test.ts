import { assertEquals, assertThrows } from "../testing/assert.ts";
import { chompHeredoc, DockerfileError, parseDockerfile, parseHeredocWord } from "./parser.ts";
import { toStages } from "./instructions.ts";
import { InvalidArgument } from "../errdefs/mod.ts";

Deno.test("parser: directives, comments, continuations", () => {
  const df = parseDockerfile(
    "# syntax=docker/dockerfile:1\n# escape=`\n\n# a comment\nFROM busybox\nRUN echo a `\n  # skipped comment\n\n  b\n",
  );
  assertEquals(df.directives, { syntax: "docker/dockerfile:1", escape: "`" });
  assertEquals(df.escape, "`");
  assertEquals(df.nodes.length, 2);
  assertEquals(df.nodes[1].args, ["echo a   b"]);
  assertEquals([df.nodes[1].line, df.nodes[1].endLine], [6, 9]);
  assertEquals(df.warnings.length, 1); // the empty continuation line
});

Deno.test("parser: directives only at the top", () => {
  const df = parseDockerfile("FROM x\n# escape=`\nRUN a \\\n b\n");
  assertEquals(df.escape, "\\");
  assertEquals(df.nodes[1].args, ["a  b"]);
  assertThrows(
    () => parseDockerfile("# escape=x\nFROM a\n"),
    DockerfileError,
    "invalid escape token",
  );
  assertThrows(
    () => parseDockerfile("# escape=`\n# escape=\\\nFROM a\n"),
    DockerfileError,
    "only one escape parser directive",
  );
});

Deno.test("parser: JSON and shell forms", () => {
  const df = parseDockerfile(
    'FROM a\nCMD ["sh", "-c", "echo"]\nCMD echo [x]\nENTRYPOINT [ "a" ]\nRUN ["bad"\nVOLUME ["/a", "/b"]\nVOLUME /c /d\n',
  );
  const n = df.nodes;
  assertEquals([n[1].json, n[1].args], [true, ["sh", "-c", "echo"]]);
  assertEquals([n[2].json, n[2].args], [false, ["echo [x]"]]);
  assertEquals([n[3].json, n[3].args], [true, ["a"]]);
  assertEquals([n[4].json, n[4].args], [false, ['["bad"']]);
  assertEquals(n[5].args, ["/a", "/b"]);
  assertEquals(n[6].args, ["/c", "/d"]);
  assertThrows(() => parseDockerfile("FROM a\nCMD [1]\n"), DockerfileError, "Dockerfile:2:");
});

Deno.test("parser: ENV/LABEL/ARG forms", () => {
  const df = parseDockerfile(
    'FROM a\nENV A=1 B="two words" C=three\\ four\nENV OLD value with  spaces\nLABEL "k"="v" x=y\nARG N\nARG M=1 O=2\n',
  );
  assertEquals(df.nodes[1].kv, [{ key: "A", value: "1" }, { key: "B", value: '"two words"' }, {
    key: "C",
    value: "three\\ four",
  }]);
  assertEquals(df.nodes[2].kv, [{ key: "OLD", value: "value with  spaces" }]);
  assertEquals(df.nodes[3].kv, [{ key: '"k"', value: '"v"' }, { key: "x", value: "y" }]);
  assertEquals(df.nodes[4].kv, [{ key: "N" }]);
  assertEquals(df.nodes[5].kv.length, 2);
  assertThrows(
    () => parseDockerfile("FROM a\nENV A\n"),
    DockerfileError,
    "ENV must have two arguments",
  );
  assertThrows(() => parseDockerfile("FROM a\nENV A=1 B\n"), DockerfileError, "can't find =");
  assertThrows(
    () => parseDockerfile("FROM a\nLABEL =x\n"),
    DockerfileError,
    "names can not be blank",
  );
});

Deno.test("parser: builder flags", () => {
  const df = parseDockerfile('FROM a\nCOPY --from=b --chown="1:2" --link x y\nCOPY -- --x y\n');
  assertEquals(df.nodes[1].flags, ["--from=b", "--chown=1:2", "--link"]);
  assertEquals(df.nodes[1].args, ["x", "y"]);
  assertEquals(df.nodes[2].flags, []);
  assertEquals(df.nodes[2].args, ["--x", "y"]);
});

Deno.test("parser: heredocs", () => {
  const text = [
    "FROM a",
    "RUN <<EOF",
    "echo one",
    "EOF",
    "RUN <<-EOT cat > /f && <<'EOS' cat > /g",
    "\tindented $X",
    "\tEOT",
    "raw $Y",
    "EOS",
    "COPY <<A <<B /dst/",
    "a",
    "A",
    "b",
    "B",
    "RUN echo 'no <<heredoc here'",
  ].join("\n");
  const n = parseDockerfile(text).nodes;
  assertEquals(n[1].heredocs.map((h) => [h.name, h.content, h.expand, h.chomp]), [
    ["EOF", "echo one\n", true, false],
  ]);
  assertEquals(n[2].heredocs.map((h) => [h.name, h.content, h.expand, h.chomp]), [
    ["EOT", "\tindented $X\n", true, true],
    ["EOS", "raw $Y\n", false, false],
  ]);
  assertEquals(n[3].heredocs.map((h) => h.name), ["A", "B"]);
  assertEquals(n[4].heredocs, []);
  assertEquals(n[4].line, 15);
  assertEquals(chompHeredoc("\t\ta\n\tb\n"), "a\nb\n");
  assertEquals(parseHeredocWord('<<"EOF"')?.expand, false);
  assertEquals(parseHeredocWord("<<-EOF")?.chomp, true);
  assertEquals(parseHeredocWord("2<<EOF")?.fd, 2);
  assertEquals(parseHeredocWord("<<"), undefined);
  assertThrows(
    () => parseDockerfile("FROM a\nRUN <<EOF\nx\n"),
    DockerfileError,
    "Dockerfile:2: unterminated heredoc",
  );
});

Deno.test("parser: CRLF and BOM", () => {
  const df = parseDockerfile("\uFEFFFROM a\r\nRUN echo hi\r\n");
  assertEquals(df.nodes.map((n) => n.cmd), ["from", "run"]);
  assertEquals(df.nodes[1].args, ["echo hi"]);
});

Deno.test("instructions: stages and meta args", () => {
  const p = toStages(
    parseDockerfile(
      "ARG V=1\nFROM busybox:$V AS Build\nRUN x\nFROM scratch\nCOPY --from=build / /\n",
    ),
  );
  assertEquals(p.metaArgs.length, 1);
  assertEquals(p.stages.map((s) => [s.index, s.name, s.from.image]), [[0, "build", "busybox:$V"], [
    1,
    undefined,
    "scratch",
  ]]);
  assertEquals(p.stages[1].instructions[0].kind, "COPY");
});

Deno.test("instructions: errors carry file and line", () => {
  const bad: Array<[string, string]> = [
    ["FROM a\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO"],
    ["FROM a\nRUNN x\n", "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"],
    ["ENV a=b\nFROM x\n", "Dockerfile:1: ENV before FROM"],
    ["FROM a\nCOPY x\n", "Dockerfile:2: COPY requires at least two arguments"],
    ["FROM a\nSHELL sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form"],
    ["FROM a\nCOPY --frm=x a b\n", "Dockerfile:2: Unknown flag: frm"],
    ["FROM a\nCOPY --from a b\n", "Dockerfile:2: Missing a value on flag: from"],
    ["FROM a AS 1x\n", "Dockerfile:1: invalid name for build stage"],
    ["FROM a AS x\nFROM b AS x\n", "Dockerfile:2: duplicate name x"],
    ["FROM a\nONBUILD ONBUILD RUN x\n", "Chaining ONBUILD"],
    ["FROM a\nONBUILD FROM x\n", "FROM isn't allowed as an ONBUILD trigger"],
    ["FROM a\nHEALTHCHECK FOO x\n", "Unknown type"],
    ["FROM a\nHEALTHCHECK NONE x\n", "HEALTHCHECK NONE takes no arguments"],
    ["FROM a\nWORKDIR\n", "WORKDIR requires exactly one argument"],
    ["FROM a b\n", "FROM requires either one or three arguments"],
    ["FROM a\nEXPOSE\n", "EXPOSE requires at least one argument"],
    ["FROM a\nRUN --mount=type=cache x\n", "RUN --mount requires BuildKit"],
    ["ARG x\n", "no FROM instruction"],
  ];
  for (const [text, msg] of bad) {
    assertThrows(() => toStages(parseDockerfile(text)), DockerfileError, msg);
  }
  for (const text of ["", "# just a comment\n", "\n\n   \n"]) {
    assertThrows(
      () => toStages(parseDockerfile(text)),
      InvalidArgument,
      "failed to parse Dockerfile: file with no instructions",
    );
  }
  assertThrows(
    () =>
      toStages(
        parseDockerfile("FROM a\nFOO\n", { file: "sub/Dockerfile.dev" }),
        "sub/Dockerfile.dev",
      ),
    DockerfileError,
    "sub/Dockerfile.dev:2: unknown instruction: FOO",
  );
});
