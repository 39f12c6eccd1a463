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
  makeBusyboxRootfs,
  readAll,
  writeBundle,
} from "./testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";
import { layout } from "./cgroups.ts";
import { hostCapabilities } from "./proc.ts";
import { compileSeccomp } from "../oci/seccomp_bpf.ts";
import { prepareSeccomp } from "./seccomp_prepare.ts";

const root = Deno.uid() === 0;
const hasRunc = (() => {
  try {
    return Deno.statSync("/usr/sbin/runc").isFile;
  } catch {
    return false;
  }
})();

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
