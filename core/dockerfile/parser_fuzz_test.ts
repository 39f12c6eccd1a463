/**
 * Fuzz: the Dockerfile parser and the instruction checks (issue 11).
 * parseDockerfile and toStages throw only InvalidArgument (DockerfileError),
 * in bounded time, and what they build stays in proportion to the text.
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { assertProportional, fuzz, text } from "../testing/fuzz.ts";
import { toStages } from "./instructions.ts";
import { parseDockerfile } from "./parser.ts";

const SEEDS = [
  `# syntax=docker/dockerfile:1
# escape=\\
ARG BASE=busybox
FROM \${BASE}:latest AS build
ENV A=1 B="two words" C=three\\ four
LABEL org.example.a="x" b=y
ARG N
RUN echo $A \\
    && echo done
RUN ["sh", "-c", "echo json"]
COPY --chown=1:1 --chmod=644 a b /dst/
ADD --link x.tar /opt/
WORKDIR /w
USER 1000:1000
EXPOSE 80/tcp 53/udp
VOLUME ["/data", "/logs"]
HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost || exit 1
STOPSIGNAL SIGTERM
SHELL ["/bin/sh", "-c"]
ONBUILD RUN echo child
FROM scratch
COPY --from=build /w /w
ENTRYPOINT ["/w/app"]
CMD ["--help"]
`,
  "# escape=`\nFROM busybox\nRUN echo a `\n  b\nMAINTAINER someone\nHEALTHCHECK NONE\n",
  [
    "FROM busybox",
    "RUN <<EOF",
    "echo heredoc",
    "EOF",
    'COPY <<-"A" <<B /dst/',
    "\tfirst",
    "\tA",
    "second",
    "B",
    "RUN 3<<X cat <&3",
    "x",
    "X",
    "",
  ].join("\n"),
  "FROM a\r\nENV X 1\r\nLABEL k v\r\n\uFEFFRUN true\r\n",
];

/** Inputs a fuzz run once broke the parser with. */
const REGRESSIONS: string[] = [
  // "did you mean" computed an edit-distance table per known word for any length: 1 MB took
  // 58 s and 420 MB
  "FROM a\n" + "X".repeat(50_000) + "\n",
];

Deno.test("fuzz: Dockerfile parser and instructions", async () => {
  await fuzz({
    name: "dockerfile",
    seeds: SEEDS,
    dictionary: [
      "\n",
      "\\\n",
      "`\n",
      "# escape=`\n",
      "FROM ",
      "RUN ",
      "COPY ",
      "ONBUILD ",
      "HEALTHCHECK CMD ",
      "ENV ",
      "ARG ",
      "--from=",
      "--",
      "<<EOF",
      "<<-EOF",
      "\nEOF\n",
      '["',
      '"]',
      "=",
      '"',
      "'",
      " AS ",
      "$",
      "${",
      "}",
    ],
    regressions: REGRESSIONS,
    maxLen: 4096,
    expected: (e) => e instanceof InvalidArgument,
    run(input) {
      const df = parseDockerfile(text(input));
      // (a two-byte line "R\n" is a node of ~95 bytes of JSON: linear, ×48 at worst)
      assertProportional(JSON.stringify(df).length, input.length, 64);
      toStages(df);
    },
  });
});
