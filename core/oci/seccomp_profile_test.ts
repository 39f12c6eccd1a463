/**
 * Profile resolution (Docker's setupSeccomp rules), SecurityOpt parsing and
 * the seccomp generateSpec puts in config.json.
 */
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { parseExactJson, parseProfile, resolveProfile } from "./seccomp_profile.ts";
import { defaultProfile } from "./seccomp_default.ts";
import { defaultSecurityOpt, parseSecurityOpt } from "./seccomp_opts.ts";
import { generateSpec } from "./runtime_spec.ts";
import { DEFAULT_CAPS } from "./caps.ts";
import { compileSeccomp } from "./seccomp_bpf.ts";
import { runFilter } from "./seccomp_vm.ts";

const env = { caps: DEFAULT_CAPS, arch: "amd64", kernel: "6.1.0-18-amd64" };
const names = (s: ReturnType<typeof resolveProfile>) => s!.syscalls!.flatMap((r) => r.names);

Deno.test("seccomp profile: Docker's default, resolved for a default container", () => {
  const s = resolveProfile(defaultProfile(), env)!;
  assertEquals(s.defaultAction, "SCMP_ACT_ERRNO");
  assertEquals(s.defaultErrnoRet, 1);
  assertEquals(s.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  const all = names(s);
  for (const n of ["read", "mkdir", "arch_prctl", "modify_ldt", "ptrace", "clone", "clone3"]) {
    assert(all.includes(n), n);
  }
  for (const n of ["mount", "unshare", "setns", "reboot", "keyctl", "cacheflush", "kcmp"]) {
    assert(!all.includes(n), n);
  }
  // clone comes back only with the flag check, clone3 as ENOSYS
  assertEquals(s.syscalls!.filter((r) => r.names.includes("clone")).map((r) => r.args?.[0].op), [
    "SCMP_CMP_MASKED_EQ",
  ]);
  assertEquals(s.syscalls!.find((r) => r.names.includes("clone3"))?.errnoRet, 38);
  // old kernels lose the minKernel group; arm64 gets its own arch groups
  assert(!names(resolveProfile(defaultProfile(), { ...env, kernel: "4.4.0" })).includes("ptrace"));
  const arm = resolveProfile(defaultProfile(), { ...env, arch: "arm64" })!;
  assertEquals(arm.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  assert(names(arm).includes("cacheflush") && !names(arm).includes("arch_prctl"));
});

Deno.test("seccomp profile: capabilities include and exclude rules", () => {
  const s = resolveProfile(defaultProfile(), { ...env, caps: [...DEFAULT_CAPS, "CAP_SYS_ADMIN"] });
  const all = names(s);
  for (const n of ["mount", "unshare", "setns", "clone3", "sethostname"]) {
    assert(all.includes(n), n);
  }
  // the conditional clone rule and the clone3 ENOSYS rule are gone
  assertEquals(s!.syscalls!.filter((r) => r.names.includes("clone")).length, 1);
  assert(!s!.syscalls!.some((r) => r.errnoRet === 38));
});

Deno.test("seccomp profile: custom profiles, Docker's errors", () => {
  const p = parseProfile(JSON.stringify({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ name: "mkdir", action: "SCMP_ACT_ERRNO" }, {
      names: ["mkdirat"],
      action: "SCMP_ACT_ERRNO",
      includes: { minKernel: "7.0" },
    }],
  }));
  const s = resolveProfile(p, env)!;
  assertEquals(s.syscalls, [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }]);
  assertEquals(s.architectures, undefined);
  assertEquals(resolveProfile({ defaultAction: "" }, env), null);
  assertThrows(() => parseProfile("{bad"), Error, "Decoding seccomp profile failed");
  assertThrows(() => parseProfile("[]"), Error, "Decoding seccomp profile failed");
  assertThrows(
    () =>
      resolveProfile({
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["x"],
        archMap: [{ architecture: "x", subArchitectures: null }],
      }, env),
    Error,
    "both 'architectures' and 'archMap'",
  );
  assertThrows(
    () =>
      resolveProfile({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ name: "a", names: ["b"], action: "SCMP_ACT_ALLOW" }],
      }, env),
    Error,
    "both 'name' and 'names'",
  );
  assertThrows(
    () =>
      resolveProfile({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["b"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "4" } }],
      }, env),
    Error,
    "invalid kernel version",
  );
  assertThrows(
    () =>
      parseProfile(
        `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}]}]}`,
      ),
    Error,
    "uint64",
  );
});

Deno.test("seccomp profile: 64-bit argument values stay exact through config.json", () => {
  const text = `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["personality"],` +
    `"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}`;
  const s = resolveProfile(parseProfile(text), env)!;
  const json = JSON.stringify(s);
  assert(json.includes('"value":18446744073709551615'), json);
  const back = parseExactJson(json) as typeof s;
  assertEquals(back.syscalls![0].args![0].value, 18446744073709551615n);
  const { program } = compileSeccomp(back);
  const run = (arg: bigint) => runFilter(program, { nr: 135, arch: 0xc000003e, args: [arg] });
  assertEquals(run(0xffffffffffffffffn), 0x50001);
  assertEquals(run(0xfffffffffffff800n), 0x7fff0000); // what a rounded value would have matched
});

Deno.test("seccomp opts: SecurityOpt as Docker parses it", () => {
  assertEquals(parseSecurityOpt(null), { noNewPrivileges: false, seccomp: "", labels: [] });
  assertEquals(parseSecurityOpt(["no-new-privileges", "seccomp=unconfined", "label=disable"]), {
    noNewPrivileges: true,
    seccomp: "unconfined",
    labels: ["disable"],
  });
  assertEquals(parseSecurityOpt(["no-new-privileges:true", "apparmor=x"]).apparmor, "x");
  assertEquals(parseSecurityOpt(["no-new-privileges=false"]).noNewPrivileges, false);
  assertEquals(parseSecurityOpt(['seccomp={"a":"b=c"}']).seccomp, '{"a":"b=c"}');
  assertThrows(() => parseSecurityOpt(["bogus"]), Error, 'invalid --security-opt 1: "bogus"');
  assertThrows(() => parseSecurityOpt(["foo=bar"]), Error, 'invalid --security-opt 2: "foo=bar"');
  assertThrows(
    () => parseSecurityOpt(["no-new-privileges=maybe"]),
    Error,
    "invalid --security-opt 2",
  );
  assertEquals(defaultSecurityOpt({ Privileged: true }), ["label=disable"]);
  assertEquals(defaultSecurityOpt({ PidMode: "host" }), ["label=disable"]);
  assertEquals(defaultSecurityOpt({ IpcMode: "private" }), null);
});

Deno.test("seccomp spec: default profile, unconfined, privileged, custom", () => {
  const gen = (SecurityOpt: string[] | null, Privileged = false) =>
    generateSpec({
      id: "c1",
      rootfs: "/r",
      config: { Cmd: ["sh"] },
      host: { SecurityOpt, Privileged },
      seccompEnv: { arch: "amd64", kernel: "6.1.0" },
    }).linux?.seccomp;
  const d = gen(null)!;
  assertEquals(d.defaultAction, "SCMP_ACT_ERRNO");
  assert(d.syscalls!.some((r) => r.names.includes("clone3") && r.errnoRet === 38));
  assertEquals(gen(["seccomp=builtin"]), d);
  assertEquals(gen(["seccomp=unconfined"]), undefined);
  assertEquals(gen(null, true), undefined);
  const custom = gen([
    'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}',
  ])!;
  assertEquals(custom, {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }],
  });
  assertThrows(() => gen(["seccomp=/etc/profile.json"]), Error, "Decoding seccomp profile failed");
});
