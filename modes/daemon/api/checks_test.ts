import { assertEquals, assertThrows } from "../../../core/testing/assert.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { checkCreate, checkRefs, checkResources, ramInBytes } from "./checks.ts";
import type { ContainerCreate, HostConfig } from "../../../core/api/containers.ts";
import { parsePlatformQuery } from "./platform.ts";

const ncpu = navigator.hardwareConcurrency;

/** HostConfig → dockerd 20.10's answer (read from a real dockerd where it checks at create). */
const REFUSED: [HostConfig, string][] = [
  [{ Memory: -5 }, "Minimum memory limit allowed is 6MB"],
  [{ Memory: 1000 }, "Minimum memory limit allowed is 6MB"],
  [{ CapAdd: ["CAP_BOGUS"] }, 'invalid CapAdd: unknown capability: "CAP_BOGUS"'],
  [{ CapDrop: ["bogus"] }, 'invalid CapDrop: unknown capability: "CAP_BOGUS"'],
  [
    { LogConfig: { Type: "json-file", Config: { bogus: "1" } } },
    "unknown log opt 'bogus' for json-file log driver",
  ],
  [
    { NanoCpus: -1 },
    `Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`,
  ],
  [{ MemorySwappiness: 200 }, "Invalid value: 200, valid memory swappiness range is 0-100"],
  [{ OomScoreAdj: 2000 }, "Invalid value 2000, range for oom score adj is [-1000, 1000]"],
  [{ ShmSize: -1 }, "SHM size can not be less than 0"],
  [
    { CpuPeriod: 5 },
    "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
  ],
  [
    { Memory: 10000000, MemorySwap: 5000000 },
    "Minimum memoryswap limit should be larger than memory limit, see usage",
  ],
  [{ Tmpfs: { rel: "" } }, "invalid mount path: 'rel' mount path must be absolute"],
  [{ Tmpfs: { "//": "" } }, "invalid specification: destination can't be '/'"],
  [
    { Mounts: [{ Type: "tmpfs", Target: "/a/.." }] },
    `invalid mount config for type "tmpfs": invalid specification: destination can't be '/'`,
  ],
  [
    { Mounts: [{ Type: "tmpfs", Target: "rel" }] },
    `invalid mount config for type "tmpfs": invalid mount path: 'rel' mount path must be absolute`,
  ],
  [
    { Mounts: [{ Type: "bogus", Target: "/x" }] },
    'invalid mount config for type "bogus": mount type unknown',
  ],
  [
    { PortBindings: { "abc/tcp": [{ HostPort: "80" }] } },
    'invalid port specification: "abc"',
  ],
  [{ PortBindings: { "80/tcp": [{ HostPort: "x" }] } }, 'invalid port specification: "x"'],
  [{ Isolation: "hyperv" }, `Invalid isolation: "hyperv" - linux only supports 'default'`],
  // checked at create by berth; dockerd 20.10 fails these only at start
  [{ CpuShares: -5 }, "invalid CPU shares (-5): value must be a positive integer"],
  [{ LogConfig: { Type: "json-file", Config: { "max-size": "abc" } } }, "invalid size: 'abc'"],
  [
    { LogConfig: { Config: { "max-file": "x" } } },
    'strconv.Atoi: parsing "x": invalid syntax',
  ],
  [{ LogConfig: { Config: { "max-file": "0" } } }, "max-file cannot be less than 1"],
  [
    { SecurityOpt: ["seccomp={bad"] },
    "Decoding seccomp profile failed: invalid character 'b' looking for beginning of object key string",
  ],
];

Deno.test("create checks refuse what Docker refuses, with its words", () => {
  for (const [hc, msg] of REFUSED) {
    const e = assertThrows(() => checkCreate({ Image: "x", HostConfig: hc }), InvalidArgument);
    assertEquals(e.message, msg, JSON.stringify(hc));
  }
});

Deno.test("create checks: env entries, VolumesFrom containers", () => {
  const refused: [ContainerCreate, string][] = [
    [{ Env: ["=A"] }, "invalid environment variable: =A"],
    [{ Env: ["A=1", ""] }, "invalid environment variable: "],
  ];
  for (const [body, msg] of refused) {
    assertThrows(() => checkCreate(body), InvalidArgument, msg);
  }
  checkCreate({ Env: ["A", "B=", "C=1=2"] });
  const exists = (ref: string) => ref === "there";
  assertThrows(
    () => checkRefs({ HostConfig: { VolumesFrom: ["gone:ro"] } }, exists),
    InvalidArgument,
    "No such container: gone",
  );
  checkRefs({ HostConfig: { VolumesFrom: ["there:rw"] } }, exists);
});

Deno.test("create checks pass ordinary values", () => {
  for (
    const hc of [
      {},
      { Memory: 64 << 20, MemorySwap: -1, CpuShares: 512, NanoCpus: 5e8 },
      { CapAdd: ["net_admin", "ALL"], CapDrop: ["CAP_CHOWN"] },
      { LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } } },
      { LogConfig: { Type: "none", Config: { anything: "x" } } },
      { SecurityOpt: ["seccomp=unconfined", "no-new-privileges", 'seccomp={"defaultAction":"x"}'] },
      { MemorySwappiness: -1, OomScoreAdj: -1000 },
      {
        Tmpfs: { "/run": "size=1m" },
        Mounts: [
          { Type: "bind", Source: "/tmp", Target: "/t" },
          { Type: "volume", Target: "/v" },
          { Type: "tmpfs", Target: "/r" },
        ],
        PortBindings: { "80/tcp": [{ HostPort: "8080" }], "1000-1001": [{ HostPort: "" }] },
        Isolation: "default",
      },
    ] as HostConfig[]
  ) checkCreate({ Image: "x", HostConfig: hc });
  // update may set swap without memory (the container has a limit already)
  checkResources({ MemorySwap: 100 << 20 }, true);
});

Deno.test("ramInBytes reads go-units sizes", () => {
  assertEquals(ramInBytes("100"), 100);
  assertEquals(ramInBytes("64m"), 64 << 20);
  assertEquals(ramInBytes("1.5 GiB"), 1.5 * 2 ** 30);
  assertThrows(() => ramInBytes("-1m"), InvalidArgument, "invalid size: '-1m'");
});

Deno.test("platform query: containerd's parse and words", () => {
  assertEquals(parsePlatformQuery("linux"), { os: "linux", architecture: "amd64" });
  assertEquals(parsePlatformQuery("linux/arm64"), {
    os: "linux",
    architecture: "arm64",
    variant: "v8",
  });
  assertEquals(parsePlatformQuery("x86_64"), { os: "linux", architecture: "amd64" });
  assertThrows(
    () => parsePlatformQuery("bogus"),
    InvalidArgument,
    '"bogus": unknown operating system or architecture: invalid argument',
  );
  assertThrows(
    () => parsePlatformQuery("linux/a b"),
    InvalidArgument,
    '"a b" is an invalid component of "linux/a b"',
  );
  assertThrows(() => parsePlatformQuery("a/b/c/d"), InvalidArgument, "cannot parse platform");
});
