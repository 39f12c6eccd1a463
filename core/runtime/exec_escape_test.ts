/**
 * Issue 11 item 2: a process in the container that holds CAP_SYS_PTRACE
 * (`--cap-add SYS_PTRACE`, or `--privileged` with its own namespaces) scans
 * /proc while the caller runs `exec` again and again. Whatever the runtime
 * shows in the container's pid namespace during an exec must hold nothing of
 * the host: no host root or cwd, no host fds, no writable host executable, no
 * host environment. Built-in runtime and runc.
 *   deno test -A core/runtime/exec_escape_test.ts
 */

import { assert, assertEquals } from "../testing/assert.ts";
import type { OciRuntime } from "./runtime.ts";
import { BuiltinRuntime } from "./builtin.ts";
import { ExternalRuntime } from "./external.ts";
import { CGROUP_PARENT, hasRunc, makeBusyboxRootfs, readAll, writeBundle } from "./testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";
import { hostCapabilities, isAlive } from "./proc.ts";
import { layout } from "./cgroups.ts";
import type { HostConfigInput } from "../oci/runtime_spec.ts";

const root = Deno.uid() === 0;
const EXECS = 30;
const JOINS = 15;
/**
 * runc (1.1.5 here) forks runc init into a joined pid namespace before it
 * pivots: a process there with CAP_SYS_PTRACE sees it with the host's root
 * (this test finds it). Not berth's to fix: that variant is skipped.
 */
const RUNC_JOIN_EXPOSED = true;
if (RUNC_JOIN_EXPOSED && hasRunc) {
  console.log(
    "exec_escape_test: runc's --pid container: variant skipped: runc init is visible in the " +
      "joined pid namespace before pivot_root (a runc weakness, found by this test)",
  );
}

/**
 * The scanner (busybox sh, shell builtins where it can: a fork is slower than
 * the window it looks for). For every other pid N it tries:
 *   /proc/N/root/M, /proc/N/cwd/../…/M         read the host-only marker file M
 *   /proc/N/root/W                              create a file that does not land in our own /
 *   /proc/N/fd/K/../…/M, /proc/N/fd/K (path)    a host directory or file held open
 *   /proc/N/exe                                 opened for writing (the host's binary)
 *   /proc/N/environ                             the host's environment marker
 *   /proc/N/mem                                 readable at the stack (ptrace access to memory)
 * and prints one "HIT …" line per finding; "SCANS n" at the end.
 */
function scanner(marker: string, writeName: string, envMarker: string): string {
  const up = "../../../../../../../../../../..";
  return `
M=${marker}; W=${writeName}; E=${envMarker}; n=0; seen=0
while [ ! -e /tmp/stop ]; do
  n=$((n+1))
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    [ "$p" = "$$" ] && continue
    [ -e $d/exe ] && seen=$((seen+1))
    [ -e $d/root/$M ] && echo "HIT root $p"
    [ -e $d/cwd/${up}/$M ] && echo "HIT cwd $p"
    if ( : > $d/root/$W ) 2>/dev/null; then
      [ -e /$W ] && rm -f /$W || echo "HIT write-root $p"
    fi
    for f in $d/fd/*; do
      [ -e $f/${up}/$M ] && echo "HIT fd-dir $p $f"
      l=$(readlink $f 2>/dev/null) || continue
      case "$l" in /*) [ -e "$l" ] || echo "HIT fd-host-file $p $f $l";; esac
    done
    if ( : >> $d/exe ) 2>/dev/null; then echo "HIT exe-writable $p $(readlink $d/exe)"; fi
    grep -qF "$E" $d/environ 2>/dev/null && echo "HIT environ $p"
    s=""
    while read -r r x; do case "$r $x" in *"[stack]") s=$r;; esac; done 2>/dev/null < $d/maps
    if [ -n "$s" ]; then
      e=$((0x\${s#*-})); b=$(( (e - 32768) / 4096 ))
      dd if=$d/mem bs=4096 skip=$b count=8 2>/dev/null | grep -qF "$E" && echo "HIT mem $p"
    fi
  done
done
echo "SCANS $n SEEN $seen"
`;
}

function suite(name: string, make: (base: string) => OciRuntime, ignore: boolean) {
  for (
    const [mode, host, join] of [
      ["SYS_PTRACE", { CapAdd: ["SYS_PTRACE"] }, false],
      ["privileged", { Privileged: true }, false],
      ["SYS_PTRACE, joined by new containers (--pid container:)", { CapAdd: ["SYS_PTRACE"] }, true],
    ] as [string, HostConfigInput, boolean][]
  ) {
    Deno.test({
      name: `exec escape ${name} ${mode}: a scanner in the container finds nothing of the host`,
      ignore: ignore || (join && name === "runc" && RUNC_JOIN_EXPOSED),
      sanitizeOps: false,
      sanitizeResources: false,
      async fn() {
        setSubreaper();
        const base = await Deno.makeTempDir({ prefix: `berth-esc-${name}-` });
        const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
        const marker = `berth-escape-marker-${tag}`;
        const writeName = `berth-escape-written-${tag}`;
        const envMarker = `berth-escape-env-${tag}`;
        // on the host's / only; the caller's environment carries the env marker
        Deno.writeTextFileSync(`/${marker}`, "host\n");
        Deno.env.set("BERTH_ESCAPE_TEST", envMarker);
        const rt = make(base);
        const id = `esc${Date.now().toString(36)}`;
        let pid = 0;
        try {
          await makeBusyboxRootfs(`${base}/rootfs`);
          await writeBundle(`${base}/b`, id, `${base}/rootfs`, {
            cmd: ["sh", "-c", scanner(marker, writeName, envMarker)],
            host,
            hostCaps: hostCapabilities(),
          });
          const spec = JSON.parse(Deno.readTextFileSync(`${base}/b/config.json`));
          const p = await rt.create(id, `${base}/b`, { stdio: { kind: "pipes", stdin: false } });
          pid = p.pid;
          const out = readAll(p.stdout), err = readAll(p.stderr);
          await rt.start(id);
          for (let i = 0; join && i < JOINS; i++) {
            // another container created into the scanner's pid namespace, as --pid container:
            const jid = `${id}j${i}`;
            await writeBundle(`${base}/j${i}`, jid, `${base}/rootfs`, {
              cmd: ["sleep", "0.1"],
              edit: (s) => {
                s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
                  n.type === "pid" ? { type: "pid", path: `/proc/${pid}/ns/pid` } : n
                );
              },
            });
            try {
              const j = await rt.create(jid, `${base}/j${i}`, { stdio: { kind: "null" } });
              await rt.start(jid);
              assertEquals((await j.status).code, 0);
            } finally {
              await rt.delete(jid, true).catch(() => {});
            }
          }
          for (let i = 0; !join && i < EXECS; i++) {
            // long enough to be scanned itself: it must not inherit anything of the host either
            const e = await rt.exec(id, {
              ...spec.process,
              args: ["sleep", "0.1"],
              terminal: false,
            }, {
              stdio: { kind: "pipes", stdin: false },
            });
            await Promise.all([readAll(e.stdout), readAll(e.stderr)]);
            assertEquals((await e.status).code, 0);
          }
          const stop = await rt.exec(id, { ...spec.process, args: ["touch", "/tmp/stop"] }, {
            stdio: { kind: "null" },
          });
          await stop.status;
          const st = await p.status;
          const text = await out;
          console.log(`${name} ${mode}: ${text.match(/SCANS .*/)?.[0]}`);
          assertEquals(await err, "");
          assertEquals(st.code, 0);
          // it did look at other processes (the execs) while they ran
          assert(/SCANS [1-9]\d* SEEN [1-9]/.test(text), text);
          assertEquals(text.split("\n").filter((l) => l.startsWith("HIT")), []);
          let written = false;
          try {
            Deno.lstatSync(`/${writeName}`);
            written = true;
          } catch { /* not written: good */ }
          assert(!written, "the container created a file on the host's /");
        } finally {
          if (pid && isAlive(pid)) await rt.kill(id, 9).catch(() => {});
          await rt.delete(id, true).catch(() => {});
          Deno.env.delete("BERTH_ESCAPE_TEST");
          for (const f of [marker, writeName]) await Deno.remove(`/${f}`).catch(() => {});
          for (const h of layout().hierarchies) {
            await Deno.remove(`${h.mountpoint}${CGROUP_PARENT}`).catch(() => {});
          }
          await Deno.remove(base, { recursive: true }).catch(() => {});
        }
      },
    });
  }
}

suite("berth", (base) => new BuiltinRuntime({ root: `${base}/state` }), !root);
suite(
  "runc",
  (base) => new ExternalRuntime({ name: "runc", root: `${base}/runc` }),
  !root || !hasRunc,
);
