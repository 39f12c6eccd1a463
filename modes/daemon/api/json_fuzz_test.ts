/**
 * Fuzz: the Engine API's JSON body reader and typed decode (issue 11). For
 * any bytes: parseGoJson agrees with JSON.parse on what is a JSON document
 * (and on its value), and decoding a create body against its schema returns
 * or throws InvalidArgument — never a TypeError, RangeError or a 500 — in
 * bounded time.
 */
import { assert, assertEquals } from "../../../core/testing/assert.ts";
import { fuzz } from "../../../core/testing/fuzz.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { JsonSyntaxError, parseGoJson, toPlain } from "../../../core/api/json.ts";
import { decodeBody } from "../../../core/api/schema.ts";
import { ContainerCreate } from "../../../core/api/containers.ts";
import { checkCreate } from "./checks.ts";

/** Inputs a fuzz run once broke the reader or the decode with. */
const REGRESSIONS: string[] = [
  "[".repeat(20000), // deeper than the stack: "exceeded max depth", not a RangeError
];

Deno.test("fuzz: Engine API JSON bodies (Go's syntax rules, typed create decode)", async () => {
  await fuzz({
    name: "api-json",
    seeds: [
      '{"Image":"busybox","Cmd":["sh","-c","echo hi"],"Env":["A=1"],"Labels":{"a":"b"}}',
      '{"image":"busybox","HostConfig":{"Memory":67108864,"PortBindings":{"80/tcp":[{"HostPort":"8080"}]},' +
      '"Mounts":[{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1e3}}],"CapAdd":"NET_ADMIN",' +
      '"LogConfig":{"Type":"json-file","Config":{"max-size":"1m"}},"SecurityOpt":["seccomp={}"]}}',
      '{"NetworkingConfig":{"EndpointsConfig":{"n":{"Aliases":["x"],"IPAMConfig":null}}},"Cmd":null}',
      '["\\u00e9\\n",-0.5e+3,true,false,null,{}]',
    ],
    dictionary: ['"', "\\", "\\u", "{", "}", "[", "]", ":", ",", "null", "1e300", "-", ".", "e"],
    regressions: REGRESSIONS,
    maxLen: 4096,
    expected: (e) => e instanceof InvalidArgument,
    run(input) {
      const text = new TextDecoder().decode(input);
      // 1. the grammar is JSON's: same documents, same values as JSON.parse
      let mine: unknown, theirs: unknown, mineOk = true, theirsOk = true;
      try {
        mine = toPlain(parseGoJson(text, { whole: true }));
      } catch (e) {
        if (!(e instanceof JsonSyntaxError)) throw e;
        mineOk = false;
        if (e.message === "exceeded max depth") theirsOk = false; // JSON.parse has no limit
      }
      if (theirsOk) {
        try {
          theirs = JSON.parse(text);
        } catch {
          theirsOk = false;
        }
      }
      if (mineOk || theirsOk) {
        assert(mineOk === theirsOk, `parseGoJson ${mineOk}, JSON.parse ${theirsOk}`);
        assertEquals(mine, theirs);
      }
      // 2. the typed decode and the create checks fail only with InvalidArgument
      const body = decodeBody(ContainerCreate, text);
      if (body) checkCreate(body);
    },
  });
});
