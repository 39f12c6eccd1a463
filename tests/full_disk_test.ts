/**
 * A full disk (issue 11 item 6): the daemon's root on a 40 MB tmpfs, filled.
 * `stop` and `kill` still stop the container and `pause` still pauses (the
 * signal goes first; a record that cannot be written is logged and retried,
 * and the state is recomputed from the shim at the next start); a create
 * that fails leaves nothing behind — no record, no directory, no mount, no
 * anonymous volume.
 * @module
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import { busyboxArchive } from "./fixtures/busybox.ts";
import { startDaemon, type TestDaemon } from "./fixtures/daemon.ts";
import { entries, expectCode, mountsUnder } from "./containers_helpers.ts";

async function sh(cmd: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
}

const alive = (pid: number) => {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    // a zombie is gone as far as the container is concerned
    const st = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
    if (!st || st.split(") ")[1]?.startsWith("Z")) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

Deno.test({
  name: "a full disk: stop and kill still work, a failed create leaves nothing",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const img = await busyboxArchive();
    let tmpfs = "";
    const d: TestDaemon = await startDaemon({
      args: ["--add-runtime", "runc=/usr/bin/runc"],
      beforeStart: async ({ root }) => {
        await Deno.mkdir(root, { recursive: true });
        const m = await sh(["mount", "-t", "tmpfs", "-o", "size=40m,mode=0711", "tmpfs", root]);
        if (!m.success) throw new Error(`mount tmpfs: ${new TextDecoder().decode(m.stderr)}`);
        tmpfs = root;
      },
    });
    const filler = `${d.root}/filler`;
    try {
      expectCode(await d.berth(["load", "-i", img.path]), 0, "load");
      const pidOf = async (name: string) =>
        Number((await d.berth(["inspect", "-f", "{{.State.Pid}}", name])).stdout.trim());
      const start = async (name: string, rt: string, extra: string[] = []) => {
        expectCode(
          await d.berth([
            "run",
            "-d",
            "--name",
            name,
            "--runtime",
            rt,
            ...extra,
            "busybox",
            "sleep",
            "1000",
          ]),
          0,
          `run ${name}`,
        );
        return await pidOf(name);
      };
      const pids: Record<string, number> = {
        stopB: await start("stopB", "berth"),
        killB: await start("killB", "berth", ["--restart", "unless-stopped"]),
        stopR: await start("stopR", "runc"),
        killR: await start("killR", "runc"),
      };
      // made while there is room, started when there is none
      const rmme = expectCode(
        await d.berth(["create", "--rm", "--name", "rmme", "busybox", "true"]),
        0,
        "create rmme",
      ).stdout.trim();
      // fill the disk to the last block (again before each step: removing
      // a container's network records frees a little)
      const fill = async () => {
        await sh(["dd", "if=/dev/zero", `of=${filler}`, "bs=4k", "oflag=append", "conv=notrunc"]);
        const probe = await Deno.writeTextFile(`${d.root}/probe`, "x".repeat(8192)).then(
          () => "written",
          (e) => String(e),
        );
        assertStringIncludes(probe, "No space left on device");
      };
      await fill();

      await t.step("pause and unpause work (the record catches up later)", async () => {
        expectCode(await d.berth(["pause", "stopB"]), 0, "pause");
        expectCode(await d.berth(["unpause", "stopB"]), 0, "unpause");
      });

      await t.step("stop and kill stop the container", async () => {
        for (const rt of ["B", "R"]) {
          const s = await d.berth(["stop", "-t", "1", `stop${rt}`], { timeoutMs: 60000 });
          expectCode(s, 0, `stop${rt}`);
          assert(await waitGone(pids[`stop${rt}`], 10000), `stop${rt}'s process still runs`);
          const k = await d.berth(["kill", `kill${rt}`], { timeoutMs: 60000 });
          expectCode(k, 0, `kill${rt}`);
          assert(await waitGone(pids[`kill${rt}`], 10000), `kill${rt}'s process still runs`);
        }
        const ps = await d.berth(["ps", "-q"]);
        assertEquals(
          ps.stdout,
          "",
          "nothing runs (killB, --restart unless-stopped, is not restarted)",
        );
      });

      await t.step("a failed create or run --rm leaves nothing", async () => {
        await fill();
        const before = (await entries(`${d.root}/containers`)).sort();
        const mountsBefore = (await mountsUnder(d.base)).sort();
        const volsBefore = (await d.berth(["volume", "ls", "-q"])).stdout;
        const volDirs = (await entries(`${d.root}/volumes`)).sort();
        const c = await d.berth(["create", "-v", "/anon", "busybox", "true"]);
        assertEquals(c.code, 125, `create: ${c.stdout}${c.stderr}`);
        assertMatch(c.stderr, /no space left on device/i);
        const p = await d.berth(["create", "busybox", "true"]);
        assertEquals(p.code, 125, `create: ${p.stdout}${p.stderr}`);
        const r = await d.berth(["run", "--rm", "busybox", "true"]);
        assertEquals(r.code, 125, `run --rm: ${r.stdout}${r.stderr}`);
        // a --rm container whose start fails goes (moby's containerStart cleanup)
        const st = await d.berth(["start", "rmme"]);
        assert(st.code !== 0, `start rmme: ${st.stdout}${st.stderr}`);
        // its record could not be written either: the caller hears of it, not only the log
        assertMatch(st.stderr, /could not be saved: .*no space left on device/i);
        const names = (await d.berth(["ps", "-a", "--format", "{{.Names}}"])).stdout.split("\n")
          .filter(Boolean).sort();
        assertEquals(names, ["killB", "killR", "stopB", "stopR"]);
        assertEquals(
          (await entries(`${d.root}/containers`)).sort(),
          before.filter((e) => e !== rmme),
        );
        assertEquals((await mountsUnder(d.base)).sort(), mountsBefore);
        assertEquals((await d.berth(["volume", "ls", "-q"])).stdout, volsBefore);
        assertEquals((await entries(`${d.root}/volumes`)).sort(), volDirs);
      });

      await t.step("after a restart with room again, the state is the truth", async () => {
        await Deno.remove(filler);
        await d.stopDaemon();
        await d.restart();
        const st = await d.berth([
          "ps",
          "-a",
          "--format",
          "{{.Names}} {{.State}}",
        ]);
        assertEquals(st.stdout.split("\n").filter(Boolean).sort(), [
          "killB exited",
          "killR exited",
          "stopB exited",
          "stopR exited",
        ]);
        // and it works again
        const ok = await d.berth(["run", "--rm", "busybox", "echo", "hi"]);
        expectCode(ok, 0, "run after");
        assertEquals(ok.stdout, "hi\n");
      });
    } finally {
      await Deno.remove(filler).catch(() => {});
      await d.stop();
      if (tmpfs) await sh(["umount", "-l", tmpfs]);
    }
  },
});
