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

/** Run forkExec with stdout on a pipe; returns [output, errno/step bytes read, wait status]. */
function run(o: { path: string; argv: string[]; env?: string[]; closeFd?: number }) {
  const [outR, outW] = c.pipe();
  const [errR, errW] = c.pipe();
  const save = c.dupAbove(1, 100);
  try {
    c.dup2(outW, 1); // the child inherits this thread's fd 1
    const pid = forkExec({ env: [], ...o, errFd: errW });
    c.dup2(save, 1);
    c.close(outW);
    c.close(errW);
    const e = new Uint8Array(8);
    const n = c.readFd(errR, e);
    const status = c.waitpidSync(pid);
    const buf = new Uint8Array(4096);
    let out = "";
    for (let k; (k = c.readFd(outR, buf)) > 0;) out += new TextDecoder().decode(buf.subarray(0, k));
    return { out, err: n ? [...new Int32Array(e.buffer)] : [], code: (status >> 8) & 0xff };
  } finally {
    c.dup2(save, 1);
    c.close(save);
    c.close(outR);
    c.close(errR);
  }
}

Deno.test({
  name: "forkExec: argv, env, a new session, closeFd, execve errors",
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
      closeFd: keep,
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
