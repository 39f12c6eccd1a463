/**
 * Issue 11 item 9, through the daemon with both runtimes (docker CLI where
 * installed, else the berth client): a `-t` container and `exec -t` get a pty
 * of the container's own devpts; `--pid container:X` joins X's pid
 * namespace; `--cgroup-parent` places the container's cgroups; `--privileged`
 * sees the host's devices.
 */
import { assert, assertEquals, assertMatch } from "../core/testing/assert.ts";
import { containerDaemon, expectCode, RUNTIMES, teardown } from "./containers_helpers.ts";
import { cgroupDirs, type RunResult } from "./fixtures/daemon.ts";
import { hostDevices } from "../core/oci/host_devices.ts";

const hasDocker = await new Deno.Command("sh", {
  args: ["-c", "command -v docker"],
  stdout: "null",
}).output().then((r) => r.success, () => false);

for (const rt of RUNTIMES) {
  Deno.test(`containers[${rt}]: tty, --pid container:, --cgroup-parent, --privileged devices`, async (t) => {
    const d = await containerDaemon({ defaultRuntime: rt });
    const cli = (args: string[]): Promise<RunResult> =>
      hasDocker ? d.docker(args, { timeoutMs: 30000 }) : d.berth(args, { timeoutMs: 30000 });
    try {
      await t.step("-t and exec -t: a pty of the container's own devpts", async () => {
        let r = expectCode(await cli(["run", "--rm", "-t", "busybox", "tty"]), 0);
        assertEquals(r.stdout, "/dev/pts/0\r\n");
        expectCode(
          await cli(["run", "-d", "-t", "--name", "tt", "busybox", "sh", "-c", "tty; sleep 1000"]),
          0,
        );
        r = expectCode(await cli(["exec", "-t", "tt", "sh", "-c", "tty; ls /dev/pts"]), 0);
        assertMatch(r.stdout, /^\/dev\/pts\/1\r\n0\s+1\s+ptmx\r\n$/);
        r = expectCode(await cli(["exec", "-t", "tt", "tty"]), 0);
        assertMatch(r.stdout, /^\/dev\/pts\/\d+\r\n$/);
        // and it is the controlling terminal (tty_nr in /proc/self/stat), so ^C reaches the process
        r = expectCode(
          await cli(["exec", "-t", "tt", "sh", "-c", "cut -d' ' -f7 /proc/self/stat"]),
          0,
        );
        assert(Number(r.stdout.trim()) > 0, r.stdout);
        r = expectCode(await cli(["logs", "tt"]), 0);
        assertEquals(r.stdout, "/dev/pts/0\r\n");
        expectCode(await cli(["rm", "-f", "tt"]), 0);
      });

      await t.step("--pid container:X joins X's pid namespace", async () => {
        expectCode(await cli(["run", "-d", "--name", "px", "busybox", "sleep", "1000"]), 0);
        let r = expectCode(
          await cli(["run", "--rm", "--pid", "container:px", "busybox", "ps", "-o", "pid,comm"]),
          0,
        );
        assertMatch(r.stdout, /^\s*1 sleep$/m);
        r = expectCode(
          await cli([
            "run",
            "--rm",
            "-t",
            "--pid",
            "container:px",
            "busybox",
            "sh",
            "-c",
            "tty; ps -o pid,comm | grep -c sleep",
          ]),
          0,
        );
        assertEquals(r.stdout, "/dev/pts/0\r\n1\r\n");
        r = await cli(["run", "--rm", "--pid", "container:px", "busybox", "nosuch"]);
        assertEquals(r.code, 127);
        // and an exec into the joined container lands there too
        expectCode(
          await cli([
            "run",
            "-d",
            "--name",
            "pj",
            "--pid",
            "container:px",
            "busybox",
            "sleep",
            "999",
          ]),
          0,
        );
        r = expectCode(await cli(["exec", "pj", "ps", "-o", "pid,args"]), 0);
        assertMatch(r.stdout, /^\s*1 sleep 1000$/m);
        assertMatch(r.stdout, /sleep 999$/m);
        expectCode(await cli(["rm", "-f", "pj", "px"]), 0);
        expectCode(await cli(["create", "--name", "stopped", "busybox", "true"]), 0);
        r = await cli(["run", "--rm", "--pid", "container:stopped", "busybox", "true"]);
        assert(r.code !== 0);
        assertMatch(r.stderr, /cannot join PID of a non running container/);
        expectCode(await cli(["rm", "stopped"]), 0);
      });

      await t.step("--cgroup-parent per container, absolute and relative", async () => {
        const tag = `berth-cgp-${Deno.pid}-${rt}`;
        try {
          for (
            const [parent, dir] of [[`/${tag}-abs`, `/${tag}-abs`], [`${tag}-rel`, `/${tag}-rel`]]
          ) {
            const id = expectCode(
              await cli(["run", "-d", "--cgroup-parent", parent, "busybox", "sleep", "1000"]),
              0,
            ).stdout.trim();
            const dirs = await cgroupDirs(dir, id);
            assert(dirs.length > 0, `no cgroup under ${dir} for ${id}`);
            const procs = await Deno.readTextFile(`${dirs[0]}/cgroup.procs`);
            assert(procs.trim().length > 0, `${dirs[0]} holds no process`);
            expectCode(await cli(["rm", "-f", id]), 0);
            assertEquals(await cgroupDirs(dir, id), []);
          }
          const bad = await cli(["run", "--rm", "--cgroup-parent", "../x", "busybox", "true"]);
          assert(bad.code !== 0);
        } finally {
          for (const h of await cgroupRoots()) {
            for (const s of ["abs", "rel"]) await Deno.remove(`${h}/${tag}-${s}`).catch(() => {});
          }
        }
      });

      await t.step("--privileged sees the host's devices", async () => {
        const host = hostDevices().map((x) => x.path);
        assert(host.length > 0);
        const list = "find /dev \\( -type c -o -type b \\) | sort";
        let r = expectCode(
          await cli(["run", "--rm", "--privileged", "busybox", "sh", "-c", list]),
          0,
        );
        // the container's own devpts is not the host's
        const devs = (out: string) =>
          out.trim().split("\n").filter((l) => !l.startsWith("/dev/pts/"));
        const seen = new Set(devs(r.stdout));
        assertEquals(host.filter((p) => !seen.has(p)), []);
        r = expectCode(await cli(["run", "--rm", "busybox", "sh", "-c", list]), 0);
        assertEquals(devs(r.stdout), [
          "/dev/full",
          "/dev/null",
          "/dev/random",
          "/dev/tty",
          "/dev/urandom",
          "/dev/zero",
        ]);
      });
    } finally {
      await teardown(d);
    }
  });
}

/** Mount points of the cgroup hierarchies (v1 controllers, or the v2 root). */
async function cgroupRoots(): Promise<string[]> {
  const out: string[] = [];
  for (const l of (await Deno.readTextFile("/proc/self/mountinfo")).split("\n")) {
    const f = l.split(" ");
    const sep = f.indexOf("-");
    if (sep > 0 && (f[sep + 1] === "cgroup" || f[sep + 1] === "cgroup2")) out.push(f[4]);
  }
  return out;
}
