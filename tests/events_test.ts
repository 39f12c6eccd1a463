/**
 * `GET /events` through real clients (issue 13): the docker CLI's `events`
 * with --since/--until replays the ring and ends, filters as Docker's,
 * the live stream delivers each event as it happens, docker-py's
 * `events(decode=True)` gets real events, and the berth client prints them
 * as the docker CLI does. Old code: `page not found` (docker-py: `[]`).
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, eventually, expectCode } from "./containers_helpers.ts";
import { hasPyDocker, py } from "./fixtures/pydocker.ts";
import { startTestRegistry } from "../modes/registry/testutil.ts";

const nowSec = () => (Date.now() / 1000).toFixed(3);

Deno.test("events: lifecycle, filters, live stream, docker-py, berth events", async (t) => {
  const d = await containerDaemon();
  const k = (args: string[], stdin?: string) =>
    d.docker(args, { timeoutMs: 60000, stdin, env: { DOCKER_BUILDKIT: "0" } });
  /** `docker events` over [since, now], one line per event in `fmt`. */
  const past = async (since: string, filters: string[] = [], fmt = "{{.Type}} {{.Action}}") => {
    const r = expectCode(
      await k([
        "events",
        "--since",
        since,
        "--until",
        nowSec(),
        "--format",
        fmt,
        ...filters.flatMap((f) => ["--filter", f]),
      ]),
      0,
      "events",
    );
    return r.stdout.split("\n").filter(Boolean);
  };
  const reg = await startTestRegistry();
  try {
    const t0 = nowSec();
    await t.step("container lifecycle, in Docker's order and shape", async () => {
      expectCode(
        await k([
          "run",
          "-d",
          "--name",
          "ev1",
          "--label",
          "app=ev",
          "-v",
          "evvol:/data",
          "busybox",
          "sleep",
          "60",
        ]),
        0,
      );
      expectCode(await k(["exec", "ev1", "true"]), 0);
      expectCode(await k(["pause", "ev1"]), 0);
      expectCode(await k(["unpause", "ev1"]), 0);
      expectCode(await k(["kill", "-s", "USR1", "ev1"]), 0);
      expectCode(await k(["rename", "ev1", "ev2"]), 0);
      expectCode(await k(["stop", "-t", "1", "ev2"]), 0);
      expectCode(await k(["rm", "ev2"]), 0);
      const lines = await past(t0, ["label=app=ev"]);
      assertEquals(lines, [
        "container create",
        "container start",
        "container exec_create: true ",
        "container exec_start: true ",
        "container exec_die",
        "container pause",
        "container unpause",
        "container kill",
        "container rename",
        "container kill", // SIGTERM: sleep as pid 1 ignores it
        "container kill", // SIGKILL after the 1 s
        "container die",
        "container stop",
        "container destroy",
      ]);
      const json = (await past(t0, ["container=ev2", "event=die"], "{{json .}}")).map((l) =>
        JSON.parse(l)
      );
      assertEquals(json.length, 1);
      const e = json[0];
      assertEquals(e.Type, "container");
      assertEquals(e.status, "die");
      assertEquals(e.from, "busybox");
      assertEquals(e.id, e.Actor.ID);
      assertEquals(e.scope, "local");
      assertEquals(e.Actor.Attributes.exitCode, "137");
      assertEquals(e.Actor.Attributes.name, "ev2");
      assertEquals(e.Actor.Attributes.image, "busybox");
      assertEquals(e.Actor.Attributes.app, "ev");
      assertEquals(Math.floor(e.timeNano / 1e9), e.time);
      const kills = await past(t0, ["label=app=ev", "event=kill"], "{{.Actor.Attributes.signal}}");
      assertEquals(kills, ["10", "15", "9"]);
      const renamed = await past(t0, ["event=rename"], "{{.Actor.Attributes.oldName}}");
      assertEquals(renamed, ["ev1"]);
      // exec_create matches by prefix; the volume and network events of ev1
      assertEquals((await past(t0, ["event=exec_start", "container=ev"])).length, 1);
      assertEquals(await past(t0, ["type=volume", "volume=evvol"]), [
        "volume create",
        "volume mount",
        "volume unmount",
      ]);
      assertEquals(await past(t0, ["type=network", "network=bridge"]), [
        "network connect",
        "network disconnect",
      ]);
    });

    await t.step("image, network and volume events", async () => {
      const t1 = nowSec();
      const ref = `${reg.host}/ev/bb:1`;
      expectCode(await k(["tag", "busybox", ref]), 0);
      expectCode(await k(["push", ref]), 0);
      expectCode(await k(["rmi", ref]), 0);
      expectCode(await k(["pull", ref]), 0);
      const tar = `${d.base}/ev.tar`;
      expectCode(await k(["save", "-o", tar, ref]), 0);
      expectCode(await k(["rmi", ref]), 0);
      expectCode(await k(["load", "-i", tar]), 0);
      expectCode(await k(["import", tar, "evimp:1"]), 0);
      expectCode(await k(["rmi", "evimp:1"]), 0);
      expectCode(await k(["network", "create", "evnet"]), 0);
      expectCode(await k(["create", "--name", "evc", "busybox", "true"]), 0);
      expectCode(await k(["network", "connect", "evnet", "evc"]), 0);
      expectCode(await k(["network", "disconnect", "evnet", "evc"]), 0);
      expectCode(await k(["network", "rm", "evnet"]), 0);
      expectCode(await k(["volume", "create", "evv2"]), 0);
      expectCode(await k(["volume", "rm", "evv2"]), 0);
      expectCode(await k(["rm", "evc"]), 0);
      const images = await past(t1, ["type=image"], "{{.Action}} {{.Actor.Attributes.name}}");
      const id = expectCode(await k(["image", "inspect", "-f", "{{.Id}}", "busybox"]), 0).stdout
        .trim();
      assertEquals(images.slice(0, 7), [
        `tag ${ref.replace(/:1$/, ":1")}`,
        `push ${reg.host}/ev/bb`,
        `untag ${id}`,
        `pull ${reg.host}/ev/bb`,
        `save ${id}`,
        `untag ${id}`,
        `load ${id}`,
      ]);
      assertEquals(images.slice(7).map((l) => l.split(" ")[0]), ["import", "untag", "delete"]);
      // image= matches an image's name without its tag, and containers made from it
      assert((await past(t1, [`image=${reg.host}/ev/bb`])).includes("image pull"));
      assertEquals(await past(t1, ["type=network", "network=evnet"]), [
        "network create",
        "network connect",
        "network disconnect",
        "network destroy",
      ]);
      assertEquals(await past(t1, ["volume=evv2"]), ["volume create", "volume destroy"]);
      assertEquals(await past(t1, ["type=container", "event=create"]), ["container create"]);
    });

    await t.step("live stream: each event arrives as it happens; until ends it", async () => {
      const p = new Deno.Command("docker", {
        args: [
          "events",
          "--filter",
          "type=container",
          "--format",
          "{{.Action}} {{.Actor.Attributes.name}}",
        ],
        env: { DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.base}/docker-config` },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const lines: string[] = [];
      const reader = (async () => {
        let buf = "";
        for await (const c of p.stdout.pipeThrough(new TextDecoderStream())) {
          buf += c;
          lines.push(...buf.split("\n").slice(0, -1));
          buf = buf.slice(buf.lastIndexOf("\n") + 1);
        }
      })();
      try {
        await new Promise((r) => setTimeout(r, 500)); // the CLI has subscribed
        expectCode(await k(["create", "--name", "live1", "busybox", "true"]), 0);
        // seen while the stream is open, before anything else happens
        await eventually(
          () => Promise.resolve(lines.includes("create live1")),
          5000,
          "live create",
        );
        expectCode(await k(["rm", "live1"]), 0);
        await eventually(
          () => Promise.resolve(lines.includes("destroy live1")),
          5000,
          "live destroy",
        );
      } finally {
        p.kill("SIGTERM");
        await p.status;
        await reader.catch(() => {});
      }
      // an until in the future ends the stream then (with no since, moby replays
      // everything up to until first)
      const t2 = Date.now();
      const r = expectCode(
        await k([
          "events",
          "--since",
          nowSec(),
          "--until",
          ((Date.now() + 1500) / 1000).toFixed(3),
        ]),
        0,
      );
      assertEquals(r.stdout, "");
      assert(Date.now() - t2 >= 1000, "ended before until");
      const bad = await k(["events", "--since", "100", "--until", "50"]);
      assertEquals(bad.code, 1);
      assertStringIncludes(bad.stderr, "cannot be after `until` time");
    });

    await t.step("daemon reload on SIGHUP", async () => {
      const t3 = nowSec();
      Deno.kill(d.proc.pid, "SIGHUP");
      await eventually(async () => (await past(t3, ["type=daemon"])).length > 0, 5000, "reload");
      const [e] = (await past(t3, ["type=daemon"], "{{json .}}")).map((l) => JSON.parse(l));
      assertEquals(e.Action, "reload");
      assertEquals(e.Actor.ID, "berth");
      assertEquals(e.status, undefined); // no legacy fields outside containers and images
    });

    await t.step("docker-py events(decode=True): past and live", async () => {
      if (!(await hasPyDocker())) {
        console.error("SKIP docker-py events: python3-docker not installed");
        return;
      }
      const r = await py(
        d,
        `
import time, threading
since = time.time() - 3600
past = list(client.events(since=since, until=time.time(), decode=True, filters={"type": "container"}))
print("past", len(past) > 5, past[0]["Type"], sorted(past[0].keys()))
stream = client.events(decode=True, filters={"event": "create"})
def later():
    time.sleep(0.5)
    hi.containers.create("busybox", "true", name="pylive")
threading.Thread(target=later).start()
for ev in stream:
    print("live", ev["Action"], ev["Actor"]["Attributes"]["name"])
    break
stream.close()
`,
      );
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(
        r.stdout,
        "past True container ['Action', 'Actor', 'Type', 'from', 'id', 'scope', 'status', 'time', 'timeNano']",
      );
      assertStringIncludes(r.stdout, "live create pylive");
    });

    await t.step("berth events prints as the docker CLI", async () => {
      const r = expectCode(
        await d.berth(["events", "--since", "1h", "--until", "0s", "--filter", "container=pylive"]),
        0,
      );
      const lines = r.stdout.split("\n").filter(Boolean);
      if (await hasPyDocker()) {
        assertEquals(lines.length, 1, r.stdout);
        assert(
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container create [0-9a-f]{64} \(image=busybox, name=pylive\)$/
            .test(lines[0]),
          lines[0],
        );
      }
      // a flag error before any request, as the docker CLI (20.10 and 28: exit 125)
      const f = await d.berth(["events", "--filter", "nokey"]);
      assertEquals(f.code, 125);
      assertStringIncludes(
        f.stderr,
        'invalid argument "nokey" for "-f, --filter" flag: bad format of filter (expected name=value)',
      );
    });
  } finally {
    await reg.close();
    await d.stop();
  }
});
