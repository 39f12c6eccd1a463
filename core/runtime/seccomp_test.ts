/**
 * seccomp against the real kernel (root needed), with the built-in runtime
 * and runc: the same config.json, the same outcome.
 *   deno test -A core/runtime/seccomp_test.ts
 */
import { assert, assertEquals, assertMatch } from "../testing/assert.ts";
import type { OciRuntime } from "./runtime.ts";
import { BuiltinRuntime } from "./builtin.ts";
import { ExternalRuntime } from "./external.ts";
import {
  type BundleOptions,
  CGROUP_PARENT,
  hasRunc,
  makeBusyboxRootfs,
  readAll,
  writeBundle,
} from "./testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";
import { layout } from "./cgroups.ts";
import { hostCapabilities } from "./proc.ts";
import { compileSeccomp } from "../oci/seccomp_bpf.ts";
import { prepareSeccomp } from "./seccomp_prepare.ts";
import { i386Missing, skipUnless } from "../testing/host.ts";

const root = Deno.uid() === 0;

const DENY_MKDIR = JSON.stringify({
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }],
});
const sh = (s: string) => ["sh", "-c", s];

async function run(rt: OciRuntime, base: string, rootfs: string, n: number, o: BundleOptions) {
  const id = `sc${Date.now().toString(36)}${n}`;
  await writeBundle(`${base}/b-${id}`, id, rootfs, o);
  try {
    const p = await rt.create(id, `${base}/b-${id}`, { stdio: { kind: "pipes", stdin: false } });
    const out = readAll(p.stdout), err = readAll(p.stderr);
    await rt.start(id);
    const st = await p.status;
    return { code: st.code, out: await out, err: await err };
  } finally {
    await rt.delete(id, true).catch(() => {});
  }
}

function suite(name: string, make: (base: string) => OciRuntime, ignore: boolean) {
  Deno.test({
    name: `seccomp ${name}`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      setSubreaper();
      const base = await Deno.makeTempDir({ prefix: `berth-seccomp-${name}-` });
      const rootfs = `${base}/rootfs`;
      await makeBusyboxRootfs(rootfs);
      const rt = make(base);
      let n = 0;
      const r = (o: BundleOptions) => run(rt, base, rootfs, n++, o);
      try {
        await t.step("default profile: filter on, namespaces and mounts refused", async () => {
          const x = await r({
            cmd: sh(
              "grep Seccomp: /proc/self/status; unshare -m true || echo unshare=$?; " +
                "mount -t tmpfs t /tmp || echo mount=$?; mkdir /tmp/d && echo mkdir=ok; " +
                "nsenter -t 1 -m true || echo nsenter=$?",
            ),
          });
          assertMatch(x.out, /^Seccomp:\s+2\n/);
          assertMatch(x.out, /unshare=1\nmount=\d+\nmkdir=ok\nnsenter=1\n/);
          assertMatch(x.err, /unshare.*Operation not permitted/);
          assertMatch(x.err, /mount: permission denied/); // busybox's words for EPERM
        });
        await t.step("as a user, and with no-new-privileges (loaded last)", async () => {
          for (const host of [{}, { SecurityOpt: ["no-new-privileges"] }]) {
            const x = await r({
              cmd: sh("id -u; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; unshare -U true"),
              host,
              user: { uid: 1000, gid: 1000, additionalGids: [], home: "/" },
            });
            assertEquals(x.code, 1, x.err);
            const nnp = host.SecurityOpt ? 1 : 0;
            assertMatch(x.out, new RegExp(`^1000\nNoNewPrivs:\\s+${nnp}\nSeccomp:\\s+2\n$`));
            assertMatch(x.err, /Operation not permitted/);
          }
        });
        await t.step("CAP_SYS_ADMIN opens mount and unshare", async () => {
          const x = await r({
            cmd: sh("unshare -m true && echo unshare=ok; mount -t tmpfs t /tmp && echo mount=ok"),
            host: { CapAdd: ["SYS_ADMIN"] },
          });
          assertEquals(x.out, "unshare=ok\nmount=ok\n", x.err);
        });
        await t.step("unconfined and privileged: no filter", async () => {
          for (const host of [{ SecurityOpt: ["seccomp=unconfined"] }, { Privileged: true }]) {
            const x = await r({
              cmd: sh("grep Seccomp: /proc/self/status"),
              host,
              hostCaps: hostCapabilities(),
            });
            assertMatch(x.out, /^Seccomp:\s+0\n$/);
          }
        });
        await t.step("custom profile, also for exec", async () => {
          const host = { SecurityOpt: [`seccomp=${DENY_MKDIR}`] };
          const x = await r({ cmd: sh("mkdir /tmp/a; echo rc=$?; touch /tmp/f && echo ok"), host });
          assertEquals(x.out, "rc=1\nok\n");
          assertMatch(x.err, /can't create directory.*Operation not permitted/);
          const id = `scx${n++}`;
          const spec = await writeBundle(`${base}/b-${id}`, id, rootfs, {
            cmd: ["sleep", "30"],
            host,
          });
          const p = await rt.create(id, `${base}/b-${id}`, { stdio: { kind: "null" } });
          try {
            await rt.start(id);
            const e = await rt.exec(id, { ...spec.process, args: sh("mkdir /tmp/b; echo rc=$?") }, {
              stdio: { kind: "pipes", stdin: false },
            });
            const [out, err] = await Promise.all([readAll(e.stdout), readAll(e.stderr)]);
            await e.status;
            assertEquals(out, "rc=1\n");
            assertMatch(err, /Operation not permitted/);
          } finally {
            await rt.delete(id, true).catch(() => {});
            await p.status;
          }
        });
        const i386 = "i386 programs: filtered by their own table, or killed";
        const ignore = skipUnless(`seccomp: ${i386}`, await i386Missing());
        await t.step({
          name: i386,
          ignore,
          fn: async () => {
            // a 32-bit static program that makes one system call and exits with its errno
            await Deno.writeFile(`${rootfs}/bin/i386mkdir`, i386Probe(39, "/tmp/d32", 0o755), {
              mode: 0o755,
            });
            await Deno.writeFile(`${rootfs}/bin/i386alg`, i386Probe(359, 38, 5), { mode: 0o755 });
            const code = async (cmd: string, seccomp?: string) =>
              (await r({
                cmd: [cmd],
                host: seccomp ? { SecurityOpt: [`seccomp=${seccomp}`] } : {},
              })).code;
            assertEquals(await code("/bin/i386mkdir"), 0);
            assertEquals(await code("/bin/i386alg"), 1); // socket(AF_ALG): EPERM
            assert(await code("/bin/i386alg", "unconfined") !== 1);
            assertEquals(await code("/bin/i386mkdir", DENY_MKDIR), 128 + 31); // not listed: SIGSYS
            const withArchs = JSON.stringify({
              ...JSON.parse(DENY_MKDIR),
              archMap: [{
                architecture: "SCMP_ARCH_X86_64",
                subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
              }],
            });
            assertEquals(await code("/bin/i386mkdir", withArchs), 1);
          },
        });
        await t.step("normal work still works", async () => {
          const x = await r({
            cmd: sh(
              "ls / >/dev/null && cat /etc/passwd >/dev/null && date >/dev/null && sleep 0.01 && " +
                "echo a | sed s/a/b/ && (sh -c 'exit 3'; echo sub=$?) && ps >/dev/null && echo done",
            ),
          });
          assertEquals(x.out, "b\nsub=3\ndone\n", x.err);
        });
      } finally {
        for (const h of layout().hierarchies) {
          await Deno.remove(`${h.mountpoint}${CGROUP_PARENT}`).catch(() => {});
        }
        await Deno.remove(base, { recursive: true }).catch(() => {});
      }
    },
  });
}

/**
 * A static i386 ELF that does `int 0x80` with eax=nr, ebx=a (a number, or a
 * pointer to the string), ecx=b, edx=0, then exits with -eax (the errno).
 */
function i386Probe(nr: number, a: number | string, b: number): Uint8Array {
  const base = 0x08048000, code = 84, str = code + 33;
  const text = typeof a === "string" ? new TextEncoder().encode(a + "\0") : new Uint8Array();
  const out = new Uint8Array(str + text.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]); // ELF, 32-bit, little-endian
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 3, true); // EM_386
  v.setUint32(20, 1, true);
  v.setUint32(24, base + code, true); // entry
  v.setUint32(28, 52, true); // program headers
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  [1, 0, base, base, out.length, out.length, 5, 0x1000].forEach((x, i) =>
    v.setUint32(52 + 4 * i, x, true)
  );
  const ebx = typeof a === "string" ? base + str : a;
  const insns = [0xb8, nr, 0xbb, ebx, 0xb9, b, 0xba, 0]; // mov eax/ebx/ecx/edx, imm32
  for (let i = 0; i < insns.length; i += 2) {
    out[code + (i / 2) * 5] = insns[i];
    v.setUint32(code + (i / 2) * 5 + 1, insns[i + 1] >>> 0, true);
  }
  // int 0x80; neg eax; mov ebx, eax; mov eax, 1; int 0x80
  out.set([0xcd, 0x80, 0xf7, 0xd8, 0x89, 0xc3, 0xb8, 1, 0, 0, 0, 0xcd, 0x80], code + 20);
  out.set(text, str);
  return out;
}

suite("berth", (base) => new BuiltinRuntime({ root: `${base}/state` }), !root);
suite(
  "runc",
  (base) => new ExternalRuntime({ name: "runc", root: `${base}/runc` }),
  !root || !hasRunc,
);

Deno.test("seccomp prepare: compiled once, then read from the cache", async () => {
  const base = await Deno.makeTempDir({ prefix: "berth-seccomp-cache-" });
  try {
    const spec = await writeBundle(`${base}/b`, "c1", "/nonexistent", { cmd: ["true"] });
    const o = { bundle: `${base}/b`, stateDir: base, cacheDir: `${base}/cache` };
    const a = prepareSeccomp(spec, o)!;
    assertEquals(a.program, compileSeccomp(spec.linux!.seccomp!).program.toBase64());
    const [file] = [...Deno.readDirSync(o.cacheDir)].map((e) => `${o.cacheDir}/${e.name}`);
    // a cached program is used only for the very same policy text
    const [text, flags] = Deno.readTextFileSync(file).split("\n");
    Deno.writeTextFileSync(file, `${text}\n${flags}\nAAAAAAAAAAA=`);
    assertEquals(prepareSeccomp(spec, o)!.program, "AAAAAAAAAAA=");
    Deno.writeTextFileSync(file, `${text} \n${flags}\nAAAAAAAAAAA=`);
    assertEquals(prepareSeccomp(spec, o)!.program, a.program);
    assert(Deno.readTextFileSync(`${base}/seccomp`).endsWith(a.program));
    spec.linux!.seccomp = undefined;
    assertEquals(prepareSeccomp(spec, o), undefined);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
