/**
 * Container tests against the real kernel (root needed), run with the
 * built-in runtime AND runc: the same bundles, the same expectations.
 *   deno test -A core/runtime/runtime_test.ts
 */

import { cgroupControllersMissing, skipUnless } from "../testing/host.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../testing/assert.ts";
import type { OciRuntime, RuntimeStdio } from "./runtime.ts";
import { RuntimeError } from "./runtime.ts";
import { BuiltinRuntime, defaultInitArgv } from "./builtin.ts";
import { prewarmInit } from "./warm_init.ts";
import { ExternalRuntime } from "./external.ts";
import {
  berthArgv,
  type BundleOptions,
  CGROUP_PARENT,
  hasRunc,
  makeBusyboxRootfs,
  readAll,
  writeBundle,
} from "./testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";
import { fdReadable, openPty } from "../sys/libc_pty.ts";
import { close } from "../sys/libc_proc.ts";
import { hostCapabilities, isAlive } from "./proc.ts";
import { CAPABILITIES } from "../oci/caps.ts";
import { layout } from "./cgroups.ts";

const root = Deno.uid() === 0;

interface Ctx {
  base: string;
  rootfs: string;
  rt: OciRuntime;
  n: number;
  pids: number[];
}

async function runIn(
  ctx: Ctx,
  o: BundleOptions & { stdio?: RuntimeStdio; during?: (id: string, pid: number) => Promise<void> },
) {
  const id = `t${Date.now().toString(36)}${ctx.n++}`;
  const bundle = `${ctx.base}/b-${id}`;
  await writeBundle(bundle, id, ctx.rootfs, o);
  try {
    const p = await ctx.rt.create(id, bundle, {
      stdio: o.stdio ?? { kind: "pipes", stdin: false },
    });
    ctx.pids.push(p.pid);
    const out = readAll(p.stdout), err = readAll(p.stderr);
    await ctx.rt.start(id);
    if (o.during) await o.during(id, p.pid);
    // never hang the suite on a container that does not exit
    let timer: ReturnType<typeof setTimeout> | undefined;
    const st = await Promise.race([
      p.status,
      new Promise<never>((_, rej) =>
        timer = setTimeout(() => {
          ctx.rt.kill(id, 9).catch(() => {});
          rej(new Error(`container ${id} did not exit within 20 s`));
        }, 20_000)
      ),
    ]).finally(() => clearTimeout(timer));
    const state = await ctx.rt.state(id);
    return { ...st, out: await out, err: await err, state, id, pid: p.pid };
  } finally {
    await ctx.rt.delete(id, true).catch(() => {});
  }
}

const sh = (script: string) => ["sh", "-c", script];

/**
 * Wait until `pid` catches or blocks `sig` (tini blocks and sigwaits): before
 * that, pid 1 of a pid namespace ignores it.
 */
async function handles(pid: number, sig: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const st = await Deno.readTextFile(`/proc/${pid}/status`);
    const bits = ["SigCgt", "SigBlk"].map((k) =>
      new RegExp(`^${k}:\\s*([0-9a-f]+)$`, "m").exec(st)
    );
    if (bits.some((m) => m && (BigInt("0x" + m[1]) & (1n << BigInt(sig - 1))))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} never installed a handler for signal ${sig}`);
}

function suite(
  name: string,
  make: (base: string) => OciRuntime,
  ignore: boolean,
  only?: string[],
) {
  Deno.test({
    name: `runtime ${name}`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      setSubreaper();
      const base = await Deno.makeTempDir({ prefix: `berth-rt-${name}-` });
      const ctx: Ctx = { base, rootfs: `${base}/rootfs`, rt: make(base), n: 0, pids: [] };
      await makeBusyboxRootfs(ctx.rootfs);
      // `missing`: why the host cannot run this step (it is then skipped, the reason printed).
      const step = (n: string, f: () => Promise<void>, missing?: string) =>
        !only || only.includes(n)
          ? t.step({ name: n, ignore: skipUnless(`runtime ${name}: ${n}`, missing), fn: f })
          : Promise.resolve(true);
      try {
        await step("exit codes", async () => {
          assertEquals((await runIn(ctx, { cmd: ["true"] })).code, 0);
          assertEquals((await runIn(ctx, { cmd: ["false"] })).code, 1);
          assertEquals((await runIn(ctx, { cmd: sh("exit 7") })).code, 7);
        });
        await step("run: foreground, exit status, output, forgotten after the exit", async () => {
          for (const [cmd, code] of [[sh("echo out; echo err >&2; exit 3"), 3], [["true"], 0]]) {
            const id = `run${ctx.n++}`;
            await writeBundle(`${base}/b-${id}`, id, ctx.rootfs, { cmd: cmd as string[] });
            try {
              const p = await ctx.rt.run(id, `${base}/b-${id}`, {
                stdio: { kind: "pipes", stdin: false },
              });
              const [out, err, st] = await Promise.all([
                readAll(p.stdout),
                readAll(p.stderr),
                p.status,
              ]);
              assertEquals(st.code, code);
              if (code === 3) assertEquals([out, err], ["out\n", "err\n"]);
              await assertRejects(() => ctx.rt.state(id)); // forgotten
            } finally {
              await ctx.rt.delete(id, true).catch(() => {/* forgotten already */});
            }
          }
          // killed while it runs: the status says so
          const id = `runk${ctx.n++}`;
          await writeBundle(`${base}/b-${id}`, id, ctx.rootfs, { cmd: ["sleep", "60"] });
          try {
            const p = await ctx.rt.run(id, `${base}/b-${id}`, { stdio: { kind: "null" } });
            // an external runtime's `run` may not have started it yet
            for (let i = 0; (await ctx.rt.state(id).catch(() => null))?.status !== "running"; i++) {
              if (i === 250) throw new Error("never running");
              await new Promise((r) => setTimeout(r, 20));
            }
            await ctx.rt.kill(id, 9, true);
            assertEquals((await p.status).code, 137);
          } finally {
            await ctx.rt.delete(id, true).catch(() => {/* forgotten already */});
          }
        });
        await step("stdout/stderr through pipes, pid 1, hostname, env", async () => {
          const r = await runIn(ctx, {
            cmd: sh("echo hello; echo oops >&2; echo pid=$$; hostname; echo home=$HOME"),
            hostname: "box1",
          });
          assertEquals(r.out, "hello\npid=1\nbox1\nhome=/\n");
          assertEquals(r.err, "oops\n");
          assertEquals(r.state.status, "stopped");
        });
        await step("stdin pipe", async () => {
          const id = `stdin${ctx.n++}`;
          await writeBundle(`${base}/b-${id}`, id, ctx.rootfs, { cmd: ["cat"] });
          const p = await ctx.rt.create(id, `${base}/b-${id}`, { stdio: { kind: "pipes" } });
          try {
            const out = readAll(p.stdout);
            await ctx.rt.start(id);
            const w = p.stdin!.getWriter();
            await w.write(new TextEncoder().encode("ping\n"));
            await w.close();
            assertEquals(await out, "ping\n");
            assertEquals((await p.status).code, 0);
          } finally {
            await ctx.rt.delete(id, true).catch(() => {});
          }
        });
        await step("/proc is the container's, masked and read-only paths", async () => {
          const r = await runIn(ctx, {
            cmd: sh(
              "ls /proc | grep -c '^[0-9]'; wc -c < /proc/keys; echo x 2>&1 > /proc/sys/kernel/hostname; " +
                "grep CapEff /proc/self/status; wc -c < /proc/interrupts",
            ),
          });
          const lines = r.out.trim().split("\n");
          assert(Number(lines[0]) <= 3, `sees host processes: ${lines[0]}`);
          assertEquals(lines[1].trim(), "0");
          assertMatch(lines[2], /Read-only file system/);
          assertEquals(lines[3], "CapEff:\t00000000a80425fb");
          // masked though not in the recorded default list (runtime_spec.ts EXTRA_MASKED_PATHS)
          assertEquals(lines[4].trim(), "0");
        });
        await step("read-only root", async () => {
          const r = await runIn(ctx, { cmd: sh("touch /x"), host: { ReadonlyRootfs: true } });
          assertEquals(r.code, 1);
          assertMatch(r.err, /Read-only file system/);
        });
        await step("user, groups and dropped capabilities", async () => {
          const r = await runIn(ctx, {
            cmd: sh("id; grep CapEff /proc/self/status"),
            user: { uid: 1000, gid: 1000, additionalGids: [10, 29], home: "/home/user" },
          });
          assertEquals(
            r.out,
            // The primary group is among the supplementary ones (moby since 20.10.18).
            "uid=1000(user) gid=1000(user) groups=10(wheel),29(audio),1000(user)\nCapEff:\t0000000000000000\n",
          );
        });
        await step("rlimits", async () => {
          const r = await runIn(ctx, {
            cmd: sh("ulimit -n; ulimit -Hn"),
            host: { Ulimits: [{ Name: "nofile", Soft: 1000, Hard: 2000 }] },
          });
          assertEquals(r.out, "1000\n2000\n");
        });
        await step("cgroup limits: memory, pids, cpu", async () => {
          const mem = layout().kind === "v2" ? "memory.max" : "memory/memory.limit_in_bytes";
          const pids = layout().kind === "v2" ? "pids.max" : "pids/pids.max";
          const r = await runIn(ctx, {
            cmd: sh(
              `cat /sys/fs/cgroup/${mem} /sys/fs/cgroup/${pids}; cat /proc/self/cgroup | grep memory`,
            ),
            host: { Memory: 64 << 20, PidsLimit: 50, CpuShares: 512 },
          });
          const lines = r.out.trim().split("\n");
          assertEquals(lines.slice(0, 2), ["67108864", "50"]);
        }, cgroupControllersMissing(["memory", "pids", "cpu"]));
        await step("OOM kill is reported", async () => {
          const r = await runIn(ctx, {
            cmd: ["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"],
            host: { Memory: 16 << 20, MemorySwap: 16 << 20 },
          });
          assertEquals(r.code, 137);
          assertEquals(r.signal, 9);
          assert(r.state.oomKilled, "oomKilled");
        }, cgroupControllersMissing(["memory"]));
        await step("pause, resume, kill with a signal", async () => {
          const r = await runIn(ctx, {
            cmd: sh("trap 'exit 3' TERM; while :; do sleep 0.05; done"),
            during: async (id, pid) => {
              await handles(pid, 15);
              await ctx.rt.pause(id);
              assertEquals((await ctx.rt.state(id)).status, "paused");
              await assertRejects(() =>
                ctx.rt.exec(id, { args: ["true"], cwd: "/", user: { uid: 0, gid: 0 } }, {
                  stdio: { kind: "null" },
                })
              );
              await ctx.rt.resume(id);
              assertEquals((await ctx.rt.state(id)).status, "running");
              assert((await ctx.rt.pids(id)).length >= 1);
              await ctx.rt.kill(id, 15);
            },
          });
          assertEquals(r.code, 3);
          const k = await runIn(ctx, {
            cmd: ["sleep", "30"],
            during: async (id) => {
              await ctx.rt.pause(id);
              await ctx.rt.kill(id, 9); // SIGKILL reaches a paused container
            },
          });
          assertEquals([k.code, k.signal], [137, 9]);
        });
        await step("missing and non-executable commands fail create cleanly", async () => {
          for (
            const [cmd, code, re] of [
              [["nonexistent"], 127, /executable file not found in \$PATH/],
              [["/etc/noexec"], 126, /permission denied/],
            ] as const
          ) {
            const e = await assertRejects(() => runIn(ctx, { cmd: [...cmd] }));
            assertMatch((e as Error).message, re);
            assertEquals((e as RuntimeError).exitCode, code);
          }
        });
        await step("exec into a running container", async () => {
          const r = await runIn(ctx, {
            cmd: ["sleep", "30"],
            hostname: "ex1",
            during: async (id, pid) => {
              const e = await ctx.rt.exec(id, {
                args: [
                  "sh",
                  "-c",
                  "echo $$; hostname; cat /proc/1/cmdline; echo; grep CapEff /proc/self/status",
                ],
                env: ["PATH=/bin"],
                cwd: "/tmp",
                user: { uid: 0, gid: 0 },
                capabilities: {
                  bounding: ["CAP_KILL"],
                  effective: ["CAP_KILL"],
                  permitted: ["CAP_KILL"],
                },
              }, { stdio: { kind: "pipes", stdin: false } });
              const out = await readAll(e.stdout);
              assertEquals((await e.status).code, 0);
              const [p, h, cmdline, cap] = out.trim().split("\n");
              assert(Number(p) > 1, p);
              assertEquals(h, "ex1");
              assertEquals(cmdline.replaceAll("\0", " ").trim(), "sleep 30");
              assertEquals(cap, "CapEff:\t0000000000000020");
              const bad = await assertRejects(() =>
                ctx.rt.exec(id, {
                  args: ["nope"],
                  cwd: "/",
                  user: { uid: 0, gid: 0 },
                  env: ["PATH=/bin"],
                }, {
                  stdio: { kind: "null" },
                })
              );
              assertEquals((bad as RuntimeError).exitCode, 127);
              assert(isAlive(pid));
              await ctx.rt.kill(id, 9);
            },
          });
          assertEquals(r.code, 137);
        });
        await step(
          "tty (caller's pty, or the runtime's via console socket), exec -t",
          async () => {
            const modes = name.startsWith("berth") ? ["caller", "runtime"] : ["runtime"];
            for (const mode of modes) {
              const pty = mode === "caller" ? openPty() : undefined;
              const id = `tty${ctx.n++}`;
              await writeBundle(`${base}/b-${id}`, id, ctx.rootfs, {
                cmd: sh("test -t 0 && test -t 1 && echo ISTTY; tty; stty size; sleep 30"),
                tty: true,
                edit: (s) => (s.process.consoleSize = { height: 30, width: 100 }),
              });
              try {
                const p = await ctx.rt.create(id, `${base}/b-${id}`, {
                  stdio: { kind: "tty", ttyPath: pty?.slavePath },
                });
                const master = pty?.master ?? p.ptyMaster!;
                assert(master !== undefined, "no pty master");
                const out = readAll(fdReadable(master));
                await ctx.rt.start(id);
                const e = await ctx.rt.exec(id, {
                  args: ["sh", "-c", "tty; echo EXEC-ISTTY"],
                  env: ["PATH=/bin"],
                  cwd: "/",
                  terminal: true,
                  user: { uid: 0, gid: 0 },
                }, { stdio: { kind: "tty" } });
                assert(e.ptyMaster !== undefined, "no exec pty master");
                const eout = (await readAll(fdReadable(e.ptyMaster, true))).replaceAll("\r", "");
                assertEquals((await e.status).code, 0);
                assertMatch(eout, /^\/dev\/pts\/\d+\nEXEC-ISTTY\n/);
                await ctx.rt.kill(id, 9);
                assertEquals((await p.status).code, 137);
                close(master);
                const text = (await out).replaceAll("\r", "");
                assertStringIncludes(text, "ISTTY");
                assertStringIncludes(text, "30 100");
                if (mode === "runtime") assertStringIncludes(text, "/dev/pts/0");
              } finally {
                await ctx.rt.delete(id, true).catch(() => {});
              }
            }
          },
        );
        await step("no host fds, cwd, bind and tmpfs mounts, /proc/1/exe", async () => {
          await Deno.mkdir(`${base}/vol`, { recursive: true });
          await Deno.writeTextFile(`${base}/vol/f`, "from-host\n");
          const r = await runIn(ctx, {
            cmd: sh(
              "ls /proc/self/fd | tr '\\n' ' '; echo; pwd; cat /data/f; touch /data/x 2>&1; " +
                "grep -c ' /scratch tmpfs' /proc/mounts; readlink /proc/1/exe",
            ),
            mounts: [
              { type: "bind", source: `${base}/vol`, destination: "/data", readOnly: true },
              { type: "tmpfs", destination: "/scratch", options: ["size=1m"] },
            ],
            edit: (s) => (s.process.cwd = "/tmp"),
          });
          const lines = r.out.trim().split("\n");
          assertEquals(lines[0].trim(), "0 1 2 3");
          assertEquals(lines[1], "/tmp");
          assertEquals(lines[2], "from-host");
          assertMatch(lines[3], /Read-only file system/);
          assertEquals(lines[4], "1");
          assertEquals(lines[5], "/bin/busybox");
        });
        await step(
          "privileged lifts masks and grants every capability the host has",
          async () => {
            const r = await runIn(ctx, {
              cmd: sh(
                "grep CapEff /proc/self/status; grep ' /sys ' /proc/mounts | grep -c rw,; grep -c keys /proc/mounts",
              ),
              host: { Privileged: true },
              hostCaps: name.startsWith("berth") ? undefined : hostCapabilities(),
            });
            const want = hostCapabilities().reduce(
              (m, c) => m | (1n << BigInt(CAPABILITIES.indexOf(c))),
              0n,
            );
            assertEquals(r.out.split("\n")[0], `CapEff:\t${want.toString(16).padStart(16, "0")}`);
            assertEquals(r.out.trim().split("\n").slice(1), ["1", "0"]);
          },
        );
        await step(
          "--init: tini is pid 1, reaps, forwards signals, passes the exit code",
          async () => {
            const r = await runIn(ctx, {
              cmd: sh("echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; exit 5"),
              init: "/usr/bin/tini-static",
            });
            const [pid, cmdline] = r.out.split("\n");
            assert(Number(pid) > 1, pid);
            assertMatch(cmdline, /^\/sbin\/docker-init -- sh -c/);
            assertEquals(r.code, 5);
            const k = await runIn(ctx, {
              cmd: ["sleep", "30"],
              init: "/usr/bin/tini-static",
              during: async (id) => {
                // tini blocks signals before it starts the child (sigtimedwait hides it in SigBlk)
                for (let i = 0; i < 500 && (await ctx.rt.pids(id)).length < 2; i++) {
                  await new Promise((r) => setTimeout(r, 10));
                }
                await ctx.rt.kill(id, 15);
              },
            });
            assertEquals(k.code, 143);
          },
        );
        await step("nothing left behind", async () => {
          const mounts = await Deno.readTextFile("/proc/self/mountinfo");
          assert(!mounts.includes(ctx.rootfs), "rootfs mount leaked");
          for (const h of layout().hierarchies) {
            const dirs = [...Deno.readDirSync(`${h.mountpoint}${CGROUP_PARENT}`)].filter((e) =>
              e.isDirectory
            );
            assertEquals(dirs.map((d) => d.name), [], `${h.mountpoint}${CGROUP_PARENT}`);
          }
        });
      } finally {
        for (const pid of ctx.pids) {
          try {
            if (isAlive(pid)) Deno.kill(pid, "SIGKILL");
          } catch { /* gone */ }
        }
        for (const h of layout().hierarchies) {
          await Deno.remove(`${h.mountpoint}${CGROUP_PARENT}`).catch(() => {});
        }
        await Deno.remove(base, { recursive: true }).catch(() => {});
      }
    },
  });
}

suite("berth", (base) => new BuiltinRuntime({ root: `${base}/state` }), !root);
// every create() takes a pre-booted init, as a warm shim's does
suite("berth warm init", (base) => {
  const rt = new BuiltinRuntime({ root: `${base}/state` });
  const create = rt.create.bind(rt);
  let n = 0;
  rt.create = (id, bundle, opts) => {
    rt.offerWarmInit(prewarmInit(defaultInitArgv(), `${base}/warm${n++}.sock`));
    const p = create(id, bundle, opts);
    if (rt.warmInitsUsed !== n) throw new Error("the warm init was not used");
    return p;
  };
  return rt;
}, !root);
suite(
  "berth via main.ts",
  (base) => new BuiltinRuntime({ root: `${base}/state`, berthArgv: berthArgv() }),
  !root,
  ["exit codes", "exec into a running container", "nothing left behind"],
);
suite(
  "runc",
  (base) => new ExternalRuntime({ name: "runc", root: `${base}/runc` }),
  !root || !hasRunc,
);
