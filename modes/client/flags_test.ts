import { assertEquals, assertThrows } from "../../core/testing/assert.ts";
import { Command, FlagError } from "./flags.ts";

const collect = (v: string, p: string[] = []) => [...p, v];

function run() {
  return new Command("run")
    .option("-d, --detach", "")
    .option("-i, --interactive", "")
    .option("-t, --tty", "")
    .option("-e, --env <value>", "", collect)
    .option("-p, --publish <list>", "", collect, [])
    .option("--rm [bool]", "")
    .option("--sig-proxy [bool]", "", "true")
    .option("--no-trunc", "")
    .option("--name <string>", "")
    .stopAtPositional();
}

Deno.test("flags: pflag rules", () => {
  let c = run().parse([
    "-it",
    "--rm",
    "-eA=1",
    "-e",
    "B=2",
    "-p80:80",
    "--name=web",
    "busybox",
    "sh",
    "-c",
    "x",
  ]);
  assertEquals(c.opts(), {
    interactive: true,
    tty: true,
    rm: true,
    env: ["A=1", "B=2"],
    publish: ["80:80"],
    name: "web",
    sigProxy: "true",
    trunc: true,
  });
  assertEquals(c.args, ["busybox", "sh", "-c", "x"]);
  // An optional-value flag never eats the next argument.
  c = run().parse(["--rm", "busybox"]);
  assertEquals(c.args, ["busybox"]);
  c = run().parse(["--rm=false", "--no-trunc", "--", "-x"]);
  assertEquals(c.opts().rm, "false");
  assertEquals(c.opts().trunc, false);
  assertEquals(c.args, ["-x"]);
  c = run().parse(["--detach=false", "img"]);
  assertEquals(c.opts().detach, false);
});

Deno.test("flags: interspersed by default, docker's error words", () => {
  const c = new Command("rm").option("-f, --force", "").parse(["a", "-f", "b"]);
  assertEquals(c.args, ["a", "b"]);
  assertEquals(c.opts().force, true);
  assertThrows(() => run().parse(["--bogus"]), FlagError, "unknown flag: --bogus");
  assertThrows(() => run().parse(["-x"]), FlagError, "unknown shorthand flag: 'x' in -x");
  assertThrows(() => run().parse(["--name"]), FlagError, "flag needs an argument: --name");
  assertThrows(() => run().parse(["-e"]), FlagError, "flag needs an argument: 'e' in -e");
  assertThrows(() => run().parse(["--detach=maybe"]), FlagError, "invalid argument");
});

Deno.test("flags: several long names for one option", () => {
  const c = new Command("run").option("--network, --net <network>", "").parse([
    "--net",
    "none",
    "x",
  ]);
  assertEquals(c.opts().network, "none");
  assertEquals(
    new Command("run").option("--network, --net <n>", "").parse(["--network=host"]).opts().network,
    "host",
  );
});
