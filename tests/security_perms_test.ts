/**
 * Host users get nothing from image content (issue 11 item 1, the class of
 * CVE-2021-41091): a setuid-root program an image holds must not run as root
 * for a host user through any path below the daemon's root or exec-root —
 * layers, a build step's dirs, a running container's rootfs and upper dir, a
 * volume — neither on a fresh root nor on one an older berth left open.
 * @module
 */
import { assert, assertEquals } from "../core/testing/assert.ts";
import { containerDaemon, eventually, expectCode } from "./containers_helpers.ts";
import { EUID0_EXIT, euidProbeElf, runAsNobody, suidProbeSkip } from "./fixtures/suid.ts";

const skip = await suidProbeSkip();
if (skip) console.log(`security_perms_test: skipped: ${skip}`);

/** Every setuid-root regular file below `dir` (as root; not following links). */
async function setuidFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let it: Deno.DirEntry[];
    try {
      it = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return; // removed while we walk (a build step ending)
    }
    for (const e of it) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isFile) {
        const st = await Deno.lstat(p).catch(() => undefined);
        if (st && st.uid === 0 && ((st.mode ?? 0) & 0o4000)) out.push(p);
      }
    }
  };
  await walk(dir);
  return out;
}

/** Run each path as nobody: none may run as root, each must be refused. */
async function assertNoneRunsAsRoot(paths: string[]): Promise<void> {
  const bad: string[] = [];
  for (const p of paths) {
    const r = await runAsNobody(p);
    if (r.code === EUID0_EXIT || !r.stderr.includes("Permission denied")) {
      bad.push(
        `${p}: exit ${r.code}${r.code === EUID0_EXIT ? " (euid 0)" : ""} ${r.stderr.trim()}`,
      );
    }
  }
  assertEquals(bad, [], "host user nobody reached a setuid program");
}

Deno.test({
  name: "a host user cannot run an image's setuid program through the root or the exec-root",
  ignore: !!skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const d = await containerDaemon();
    const ctx = await Deno.makeTempDir({ prefix: "berth-suid-ctx-" });
    try {
      // the test's base stands for /var/lib and /run: open to everyone
      await Deno.chmod(d.base, 0o755);
      await Deno.writeFile(`${ctx}/suid`, euidProbeElf(), { mode: 0o755 });
      await Deno.chmod(`${ctx}/suid`, 0o755);
      await Deno.writeTextFile(
        `${ctx}/Dockerfile`,
        "FROM busybox\nCOPY suid /suid\nRUN chmod 4755 /suid && sleep 4\n",
      );
      // The control: the same program, reachable, does give root.
      const ctl = `${d.base}/control-suid`;
      await Deno.copyFile(`${ctx}/suid`, ctl);
      await Deno.chmod(ctl, 0o4755);
      assertEquals((await runAsNobody(ctl)).code, EUID0_EXIT, "the control gives euid 0");
      await Deno.remove(ctl);

      // during the RUN step: the step's dirs under build-tmp
      const build = d.berth(["build", "-t", "suidimg", ctx], { timeoutMs: 120000 });
      let during: string[] = [];
      await eventually(
        async () => {
          during = (await setuidFiles(d.root)).filter((p) => p.includes("/build-tmp/"));
          return during.length > 0;
        },
        60000,
        "the RUN step's setuid copy under build-tmp",
      );
      await assertNoneRunsAsRoot(during);
      expectCode(await build, 0, "build");

      // a running container: its rootfs (in the shim dir), its upper dir, a volume
      const run = expectCode(
        await d.berth([
          "run",
          "-d",
          "-v",
          "suidvol:/v",
          "suidimg",
          "sh",
          "-c",
          "cp -p /suid /v/suid && cp -p /suid /suid2 && touch /v/done && sleep 1000",
        ]),
        0,
        "run",
      );
      const id = run.stdout.trim();
      await eventually(
        async () => {
          try {
            await Deno.stat(`${d.root}/volumes/suidvol/_data/done`);
            return true;
          } catch {
            return false;
          }
        },
        20000,
        "the container's copies",
      );
      const want = [
        `${d.root}/layers/`,
        `${d.root}/containers/${id}/upper/suid2`,
        `${d.root}/volumes/suidvol/_data/suid`,
        `${d.execRoot}/shims/${id}/rootfs/suid`,
      ];
      const check = async () => {
        const found = [...await setuidFiles(d.root), ...await setuidFiles(d.execRoot)];
        for (const w of want) assert(found.some((p) => p.startsWith(w)), `no copy at ${w}*`);
        await assertNoneRunsAsRoot(found);
      };
      await check();

      // a root an older berth made: everything open as it used to be; the
      // next start must close it again (the container runs on meanwhile)
      await d.kill9();
      for (const top of [d.root, d.execRoot]) {
        for await (const e of Deno.readDir(top)) {
          if (e.isDirectory) await Deno.chmod(`${top}/${e.name}`, 0o755);
        }
        await Deno.chmod(top, 0o755);
      }
      await Deno.chmod(`${d.execRoot}/shims/${id}`, 0o711);
      await d.restart();
      await check();
      const ps = await d.berth(["ps", "-q", "--no-trunc"]);
      assert(ps.stdout.includes(id), "the container still runs after the restart");
    } finally {
      await Deno.remove(ctx, { recursive: true }).catch(() => {});
      await d.stop();
    }
  },
});
