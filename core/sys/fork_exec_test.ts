/**
 * fork_exec.ts against the real kernel: the child runs the program with the
 * given argv/env, gets a new session, closes the fd it is told to, and
 * reports an execve failure (errno, step) on errFd.
 *   deno test -A core/sys/fork_exec_test.ts
 */

import { assertEquals } from "../testing/assert.ts";
import * as c from "./libc_proc.ts";
import { forkExec } from "./fork_exec.ts";

const x86 = Deno.build.arch === "x86_64";

/**
 * Run forkExec; a shell child sends its stdout to a temp file (not through
 * this process's fd 1, which the test runner's other threads write to).
 * Returns [output, errno/step bytes read, wait status].
 */
function run(o: { path: string; argv: string[]; env?: string[]; closeFrom?: number }) {
  const [errR, errW] = c.pipe();
  const file = Deno.makeTempFileSync();
  const argv = o.argv[0] === "sh" ? ["sh", "-c", `exec >'${file}'; ${o.argv[2]}`] : o.argv;
  try {
    const pid = forkExec({ env: [], ...o, argv, errFd: errW });
    c.close(errW);
    const e = new Uint8Array(8);
    const n = c.readFd(errR, e);
    const status = c.waitpidSync(pid);
    const out = Deno.readTextFileSync(file);
    return { out, err: n ? [...new Int32Array(e.buffer)] : [], code: (status >> 8) & 0xff };
  } finally {
    c.close(errR);
    Deno.removeSync(file);
  }
}

Deno.test({
  name: "forkExec: argv, env, a new session, closeFrom, execve errors",
  ignore: !x86,
  fn() {
    let r = run({
      path: "/bin/sh",
      argv: ["sh", "-c", 'echo "$0 $A"; echo $$; ps -o sid= -p $$'],
      env: ["A=1"],
    });
    const [first, pid, sid] = r.out.trim().split("\n");
    assertEquals(first, "sh 1");
    assertEquals(r.code, 0);
    assertEquals(r.err, []);
    // setsid: the child leads its own session
    assertEquals(sid?.trim(), pid);
    const keep = c.open("/dev/null", c.O_RDONLY); // not close-on-exec
    r = run({
      path: "/bin/sh",
      argv: ["sh", "-c", `test -e /proc/self/fd/${keep} && echo open || echo closed`],
      closeFrom: keep,
    });
    assertEquals(r.out, "closed\n");
    r = run({
      path: "/bin/sh",
      argv: ["sh", "-c", `test -e /proc/self/fd/${keep} && echo open || echo closed`],
    });
    assertEquals(r.out, "open\n");
    c.close(keep);
    r = run({ path: "/nonexistent", argv: ["x"] });
    assertEquals(r.err, [2, 2]); // ENOENT at step 2 (execve)
    assertEquals(r.code, 127);
    r = run({ path: "/etc/passwd", argv: ["x"] });
    assertEquals(r.err, [13, 2]); // EACCES
  },
});

Deno.test({
  name: "forkExec: waitFd holds the child before execve; EOF makes it exit 1",
  ignore: !x86,
  fn() {
    for (const release of [true, false]) {
      const [errR, errW] = c.pipe();
      const [wR, wW] = c.pipe();
      // the child must not hold the write end it waits on: closeFrom drops it (wW is the last fd)
      const pid = forkExec({
        path: "/bin/true",
        argv: ["true"],
        env: [],
        errFd: errW,
        waitFd: wR,
        closeFrom: wW,
      });
      c.close(wR);
      c.close(errW);
      // still the forked copy of this process: not exec'd yet
      assertEquals(Deno.readLinkSync(`/proc/${pid}/exe`), Deno.readLinkSync("/proc/self/exe"));
      if (release) c.writeFd(wW, "x");
      c.close(wW);
      assertEquals(c.readFd(errR, new Uint8Array(8)), 0);
      assertEquals((c.waitpidSync(pid) >> 8) & 0xff, release ? 0 : 1);
      c.close(errR);
    }
  },
});
