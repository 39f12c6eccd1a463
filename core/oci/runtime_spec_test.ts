import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  DEFAULT_DEVICES,
  EXTRA_MASKED_PATHS,
  generateSpec,
  MASKED_PATHS,
  mergeImageConfig,
  READONLY_PATHS,
  type SpecInput,
  tweakCapabilities,
} from "./runtime_spec.ts";
import { capMask, DEFAULT_CAPS } from "./caps.ts";
import { resolveUserFrom } from "./user.ts";

const base: SpecInput = { id: "0123456789abcdef", rootfs: "/r", config: { Cmd: ["sh"] } };

Deno.test("default capability set is Docker's (CapEff a80425fb)", () => {
  assertEquals(capMask(DEFAULT_CAPS).mask, 0xa80425fbn);
  const s = generateSpec(base);
  assertEquals(capMask(s.process.capabilities!.effective).mask, 0xa80425fbn);
  assertEquals(s.process.capabilities!.inheritable, undefined);
  assertEquals(s.process.capabilities!.ambient, undefined);
});

Deno.test("cap-add / cap-drop / ALL like moby", () => {
  assert(tweakCapabilities(["net_admin"], ["CHOWN"]).includes("CAP_NET_ADMIN"));
  assert(!tweakCapabilities([], ["cap_chown"]).includes("CAP_CHOWN"));
  assertEquals(tweakCapabilities(["KILL"], ["ALL"]), ["CAP_KILL"]);
  const all = tweakCapabilities(["ALL"], ["SYS_ADMIN"]);
  assert(all.includes("CAP_SYS_MODULE") && !all.includes("CAP_SYS_ADMIN"));
  assertThrows(() => tweakCapabilities(["FOO"]), Error, 'unknown capability: "CAP_FOO"');
  assertEquals(tweakCapabilities([], [], true).length, 41);
});

Deno.test("process: args, env defaults, cwd, user, rlimits, nnp, terminal", () => {
  const s = generateSpec({
    ...base,
    config: {
      Entrypoint: ["/bin/entry"],
      Cmd: ["a"],
      Env: ["FOO=1", "PATH=/x"],
      WorkingDir: "/w",
      Tty: true,
    },
    user: { uid: 1000, gid: 1000, additionalGids: [10], home: "/home/u", name: "u" },
    host: {
      Ulimits: [{ Name: "nofile", Soft: 10, Hard: 20 }],
      SecurityOpt: ["no-new-privileges"],
      GroupAdd: ["29"],
      OomScoreAdj: 100,
    },
  });
  assertEquals(s.process.args, ["/bin/entry", "a"]);
  assertEquals(s.process.env, [
    "PATH=/x",
    "HOSTNAME=0123456789ab",
    "TERM=xterm",
    "FOO=1",
    "HOME=/home/u",
  ]);
  assertEquals(s.process.cwd, "/w");
  assertEquals(s.process.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29] });
  assertEquals(s.process.rlimits, [{ type: "RLIMIT_NOFILE", soft: 10, hard: 20 }]);
  assertEquals(s.process.noNewPrivileges, true);
  assertEquals(s.process.terminal, true);
  assertEquals(s.process.oomScoreAdj, 100);
  assertEquals(s.hostname, "0123456789ab");
});

Deno.test("a Ulimit decoded without Name/Soft/Hard takes Go's zero values, no TypeError", () => {
  // `{"Ulimits":[{"Soft":1}]}` decodes (absent = zero value); the runtime then
  // refuses "RLIMIT_" at start ("unknown rlimit"), as runc's "failed to map rlimit".
  const s = generateSpec({ ...base, host: { Ulimits: [{ Soft: 1 }, { Name: "nproc" }] } });
  assertEquals(s.process.rlimits, [
    { type: "RLIMIT_", soft: 1, hard: 0 },
    { type: "RLIMIT_NPROC", soft: 0, hard: 0 },
  ]);
});

Deno.test("no command is an error", () => {
  assertThrows(() => generateSpec({ ...base, config: {} }), Error, "No command specified");
});

Deno.test("Docker's default mounts, masked and read-only paths, devices", () => {
  const s = generateSpec(base);
  assertEquals(s.mounts!.map((m) => m.destination), [
    "/proc",
    "/dev",
    "/dev/pts",
    "/sys",
    "/sys/fs/cgroup",
    "/dev/mqueue",
    "/dev/shm",
  ]);
  assert(s.mounts!.find((m) => m.destination === "/dev/shm")!.options!.includes("size=67108864"));
  assert(s.mounts!.find((m) => m.destination === "/sys")!.options!.includes("ro"));
  assertEquals(s.linux!.maskedPaths, [...MASKED_PATHS, ...EXTRA_MASKED_PATHS]);
  assertEquals(s.linux!.readonlyPaths, READONLY_PATHS);
  assertEquals(s.linux!.devices, DEFAULT_DEVICES);
  assertEquals(s.linux!.resources!.devices![0], { allow: false, access: "rwm" });
  assertEquals(s.linux!.cgroupsPath, "/berth/0123456789abcdef");
  assertEquals(s.linux!.namespaces!.map((n) => n.type), [
    "mount",
    "pid",
    "network",
    "ipc",
    "uts",
    "cgroup",
  ]);
});

Deno.test("masked paths: the recorded default gets the later hardening, an explicit list is exact", () => {
  const masks = (MaskedPaths?: string[] | null) =>
    generateSpec({ ...base, host: { MaskedPaths } }).linux!.maskedPaths;
  const hardened = [...MASKED_PATHS, ...EXTRA_MASKED_PATHS];
  assertEquals(masks(undefined), hardened);
  assertEquals(masks(null), hardened);
  // what create records (Docker 20.10's list, moby v20.10.24 oci/defaults.go) is the default
  assertEquals(masks([...MASKED_PATHS]), hardened);
  assertEquals(
    masks([...MASKED_PATHS].reverse()),
    [...MASKED_PATHS].reverse().concat(EXTRA_MASKED_PATHS),
  );
  assertEquals(masks([]), []);
  assertEquals(masks(["/proc/kcore", "/proc/keys"]), ["/proc/kcore", "/proc/keys"]);
  assertEquals(MASKED_PATHS.length, 10);
});

Deno.test("privileged lifts masks, ro /sys and device rules", () => {
  const s = generateSpec({ ...base, host: { Privileged: true } });
  assertEquals(s.linux!.maskedPaths, []);
  assertEquals(s.linux!.readonlyPaths, []);
  assert(!s.mounts!.find((m) => m.destination === "/sys")!.options!.includes("ro"));
  assertEquals(s.linux!.resources!.devices, [{ allow: true, access: "rwm" }]);
  assertEquals(s.process.capabilities!.bounding!.length, 41);
  const clamped = generateSpec({ ...base, host: { Privileged: true }, hostCaps: ["CAP_KILL"] });
  assertEquals(clamped.process.capabilities!.bounding, ["CAP_KILL"]);
});

Deno.test("resources: memory, swap, cpus, shares, pids", () => {
  const s = generateSpec({
    ...base,
    host: { Memory: 100, NanoCpus: 1.5e9, CpuShares: 512, PidsLimit: 7, MemoryReservation: 50 },
  });
  const r = s.linux!.resources!;
  assertEquals(r.memory, { limit: 100, swap: 200, reservation: 50 });
  assertEquals(r.cpu, { period: 100000, quota: 150000, shares: 512 });
  assertEquals(r.pids, { limit: 7 });
  const unl = generateSpec({ ...base, host: { Memory: 100, MemorySwap: -1, PidsLimit: -1 } });
  assertEquals(unl.linux!.resources!.memory!.swap, -1);
  assertEquals(unl.linux!.resources!.pids, undefined);
});

Deno.test("host namespaces, joined netns, read-only root, user mounts", () => {
  const s = generateSpec({
    ...base,
    host: {
      NetworkMode: "host",
      PidMode: "host",
      UTSMode: "host",
      ReadonlyRootfs: true,
      ShmSize: 1024,
    },
    mounts: [
      { type: "bind", source: "/h/a/b", destination: "/a/b", readOnly: true },
      { type: "bind", source: "/h/a", destination: "/a", options: ["rshared"] },
      { type: "tmpfs", destination: "/dev/shm", options: ["size=1m"] },
    ],
    etc: { hosts: "/c/hosts" },
  });
  assertEquals(s.linux!.namespaces!.map((n) => n.type), ["mount", "ipc", "cgroup"]);
  assertEquals(s.hostname, undefined);
  assertEquals(s.root, { path: "/r", readonly: true });
  const user = s.mounts!.slice(-4);
  assertEquals(user.map((m) => m.destination), ["/a", "/etc/hosts", "/a/b", "/dev/shm"]);
  assertEquals(user[0].options, ["rbind", "rshared"]);
  assertEquals(user[2].options, ["rbind", "rprivate", "ro"]);
  assertEquals(s.mounts!.filter((m) => m.destination === "/dev/shm").length, 1);
  const j = generateSpec({ ...base, netnsPath: "/run/netns/x" });
  assertEquals(j.linux!.namespaces!.find((n) => n.type === "network"), {
    type: "network",
    path: "/run/netns/x",
  });
});

Deno.test("mergeImageConfig follows Docker's Entrypoint/Cmd/Env rules", () => {
  const img = { Entrypoint: ["/e"], Cmd: ["c"], Env: ["A=1", "B=2"], WorkingDir: "/w", User: "u" };
  assertEquals(mergeImageConfig(img, {}).Entrypoint, ["/e"]);
  assertEquals(mergeImageConfig(img, {}).Cmd, ["c"]);
  assertEquals(mergeImageConfig(img, { Cmd: ["x"] }).Cmd, ["x"]);
  const ep = mergeImageConfig(img, { Entrypoint: ["/o"] });
  assertEquals([ep.Entrypoint, ep.Cmd], [["/o"], null]);
  assertEquals(mergeImageConfig(img, { Env: ["B=3", "C=4"] }).Env, ["A=1", "B=3", "C=4"]);
  assertEquals(mergeImageConfig(img, { User: "root" }).User, "root");
  assertEquals(mergeImageConfig(img, {}).WorkingDir, "/w");
});

const PASSWD =
  "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n# c\nbad line\n";
const GROUP = "root:x:0:\nwheel:x:10:root,user\nuser:x:1000:\naudio:x:29:user\nstaff:x:50:\n";

Deno.test("resolveUser: names, ids, groups, supplementary groups, errors", () => {
  assertEquals(resolveUserFrom("", PASSWD, GROUP), {
    uid: 0,
    gid: 0,
    additionalGids: [10],
    home: "/root",
    name: "root",
  });
  assertEquals(resolveUserFrom("user", PASSWD, GROUP).additionalGids, [10, 29]);
  assertEquals(resolveUserFrom("1000", PASSWD, GROUP).name, "user");
  assertEquals(resolveUserFrom("4242", PASSWD, GROUP), {
    uid: 4242,
    gid: 0,
    additionalGids: [],
    home: "/",
  });
  const g = resolveUserFrom("user:staff", PASSWD, GROUP);
  assertEquals([g.uid, g.gid, g.additionalGids], [1000, 50, []]);
  assertEquals(resolveUserFrom("user:77", PASSWD, GROUP).gid, 77);
  assertThrows(
    () => resolveUserFrom("x", PASSWD, GROUP),
    Error,
    "unable to find user x: no matching entries in passwd file",
  );
  assertThrows(
    () => resolveUserFrom("user:nog", PASSWD, GROUP),
    Error,
    "unable to find group nog: no matching entries in group file",
  );
  assertEquals(resolveUserFrom("0", "", "").uid, 0);
});

Deno.test("--init binds the init binary and runs the command under it", () => {
  const s = generateSpec({ ...base, init: "/usr/bin/tini-static" });
  assertEquals(s.process.args, ["/sbin/docker-init", "--", "sh"]);
  const m = s.mounts!.find((m) => m.destination === "/sbin/docker-init")!;
  assertEquals([m.source, m.options], ["/usr/bin/tini-static", ["bind", "ro"]]);
});
