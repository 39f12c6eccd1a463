import { assertEquals, assertThrows } from "../../../core/testing/assert.ts";
import { parseSignal } from "./signals.ts";
import { DetachScanner, parseDetachKeys } from "./bridge.ts";
import { mergeEnv } from "./create.ts";
import { buildMounts, parseBind } from "./mounts.ts";
import type { VolumeService } from "./volumes.ts";
import { decodeBody } from "../../../core/api/schema.ts";
import { ContainerCreate } from "../../../core/api/containers.ts";
import { fixedTime, parseUnixNs, timeNs } from "./logs.ts";
import { commandString, humanDuration } from "./views.ts";
import { parseSize } from "./service.ts";
import { checkName } from "./names.ts";
import type { ContainerRecord } from "../../../core/store/containers.ts";

Deno.test("signals: Docker's spellings", () => {
  assertEquals(parseSignal("SIGTERM"), 15);
  assertEquals(parseSignal("term"), 15);
  assertEquals(parseSignal("9"), 9);
  assertEquals(parseSignal("SIGRTMIN+3"), 37);
  assertEquals(parseSignal(undefined, 9), 9);
  assertThrows(() => parseSignal("SIGNOPE"));
});

Deno.test("detach keys: default ctrl-p ctrl-q, partial matches are flushed", () => {
  assertEquals(parseDetachKeys(undefined), [16, 17]);
  assertEquals(parseDetachKeys("ctrl-a,x"), [1, 120]);
  const s = new DetachScanner([16, 17]);
  assertEquals(s.push(new Uint8Array([97, 16])), { out: new Uint8Array([97]), detach: false });
  assertEquals(s.push(new Uint8Array([98])), { out: new Uint8Array([16, 98]), detach: false });
  assertEquals(s.push(new Uint8Array([16, 17])).detach, true);
});

Deno.test("create helpers: env merge, binds, names, sizes", () => {
  assertEquals(mergeEnv(["A=1", "PATH=/bin"], ["A=2", "B=3"]), ["A=2", "PATH=/bin", "B=3"]);
  assertEquals(parseBind("/h:/c:ro"), { src: "/h", dst: "/c", mode: "ro" });
  assertEquals(parseBind("vol:/data/"), { src: "vol", dst: "/data", mode: "" });
  assertThrows(() => parseBind("vol:rel"));
  assertEquals(checkName("web-1"), "/web-1");
  assertThrows(() => checkName("x"));
  assertThrows(() => checkName("bad name"));
  assertEquals(parseSize("10m"), 10 * 1024 * 1024);
  assertEquals(parseSize("2k"), 2048);
});

Deno.test("logs: time parsing and Docker's fixed timestamps", () => {
  assertEquals(parseUnixNs("1714564800.5"), 1714564800_500000000n);
  assertEquals(timeNs("2024-05-01T12:00:00.123Z"), 1714564800_123000000n);
  assertEquals(fixedTime("2024-05-01T12:00:00.12Z"), "2024-05-01T12:00:00.120000000Z");
  assertEquals(fixedTime("2024-05-01T12:00:00Z"), "2024-05-01T12:00:00.000000000Z");
});

Deno.test("views: durations and ps COMMAND as moby formats them", () => {
  assertEquals(humanDuration(500), "Less than a second");
  assertEquals(humanDuration(61_000), "About a minute");
  assertEquals(humanDuration(3 * 3600_000), "3 hours");
  const r = { Path: "sh", Args: ["-c", "echo hi"] } as unknown as ContainerRecord;
  assertEquals(commandString(r), "sh -c 'echo hi'");
});

Deno.test("--mount bind-create-mountpoint: the decoded CreateMountpoint makes the source", async () => {
  // The field was read here but never decoded (not in moby v20.10's BindOptions):
  // it is API 1.42's, and core/api/containers.ts decodes it now.
  const body = decodeBody(
    ContainerCreate,
    '{"HostConfig":{"Mounts":[{"Type":"bind","Source":"x","Target":"/y",' +
      '"BindOptions":{"CreateMountpoint":true}}]}}',
  )!;
  const dir = await Deno.makeTempDir();
  try {
    const src = `${dir}/a/b`;
    const hc = body.HostConfig!;
    hc.Mounts![0].Source = src;
    // binds only: no volume is made
    const mps = await buildMounts({ Volumes: null }, hc, {}, {} as VolumeService);
    assertEquals(mps.map((m) => [m.Type, m.Source, m.Destination]), [["bind", src, "/y"]]);
    assertEquals((await Deno.stat(src)).isDirectory, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
