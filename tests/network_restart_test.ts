/**
 * The daemon dies (SIGKILL) and comes back: running containers keep their
 * connections through published ports, keep resolving names (the embedded
 * DNS sockets are re-created in their namespaces), their ports stay
 * reserved; what the crash left (a container that died meanwhile, a
 * half-made veth, a lease without owner) is cleaned up at start.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import {
  fakeUpstream,
  freePort,
  httpdCmd,
  leases,
  logsShow,
  netDaemon,
  ourLinks,
  ourRules,
  probeCmd,
  until,
} from "./network_helpers.ts";

async function echo(conn: Deno.TcpConn, text: string): Promise<string> {
  await conn.write(new TextEncoder().encode(text + "\n"));
  const buf = new Uint8Array(256);
  let got = "";
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, 5000);
  try {
    while (!got.includes("\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    /* closed by the timer */
  } finally {
    clearTimeout(timer);
  }
  return got.trim();
}

Deno.test("network: daemon crash and restart keep connections and names; leftovers go", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const up = await fakeUpstream();
  const d = await netDaemon();
  let conn: Deno.TcpConn | undefined;
  try {
    await d.ok(["network", "create", "rnet"]);
    const hp = freePort();
    await d.ok([
      "run",
      "-d",
      "--name",
      "echo",
      "--network",
      "rnet",
      "-p",
      `${hp}:7`,
      "busybox",
      "nc",
      "-ll",
      "-p",
      "7",
      "-e",
      "cat",
    ]);
    await d.ok([
      "run",
      "-d",
      "--name",
      "web",
      "--network",
      "rnet",
      "--network-alias",
      "w",
      "busybox",
      ...httpdCmd("web"),
    ]);
    await d.ok([
      "run",
      "-d",
      "--name",
      "probe",
      "--network",
      "rnet",
      "busybox",
      ...probeCmd("p", ["w", "late"]),
    ]);
    await d.ok(["run", "-d", "--name", "doomed", "--network", "rnet", "busybox", "sleep", "600"]);
    assert(await logsShow(d, "probe", "w=web"));
    console.log("step: containers up");
    conn = await until(async () => {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: hp });
        if (await echo(c, "a") === "a") return c;
        c.close();
      } catch { /* not yet */ }
      return undefined;
    });
    assert(conn, "echo server reachable");
    const doomedPid = JSON.parse(await d.ok(["inspect", "doomed"]))[0].State.Pid;
    const ipamFile = `${d.root}/networks/ipam`;

    console.log("step: echo ok, killing the daemon");
    await d.kill9();
    assertEquals(await echo(conn, "b"), "b", "connection works while the daemon is down");
    // what a crash leaves: a container that dies meanwhile, a half-made veth, a stray lease
    Deno.kill(doomedPid, "SIGKILL");
    const strayId = "f".repeat(64);
    const strayVeth = `vethdead${d.tag || "00"}`.slice(0, 15);
    await new Deno.Command("ip", {
      args: [
        "link",
        "add",
        strayVeth,
        "type",
        "veth",
        "peer",
        "name",
        `${strayVeth}p`.slice(0, 15),
      ],
    }).output();
    await new Deno.Command("ip", {
      args: ["link", "set", strayVeth, "alias", `berth:${d.tag || "0"}:c:${strayId}`],
    }).output();
    for await (const e of Deno.readDir(ipamFile)) {
      const f = JSON.parse(await Deno.readTextFile(`${ipamFile}/${e.name}`));
      if (f.subnet.startsWith("10.214.")) {
        f.leases[f.subnet.replace(/\.0\/\d+$/, ".200")] = strayId;
        await Deno.writeTextFile(`${ipamFile}/${e.name}`, JSON.stringify(f));
      }
    }

    console.log("step: restarting");
    await d.restart();
    assertEquals(await echo(conn, "c"), "c", "connection survives the restart");
    // names: a container started now is seen by one from before, and the other way round
    await d.ok([
      "run",
      "-d",
      "--name",
      "late",
      "--network",
      "rnet",
      "busybox",
      ...httpdCmd("late"),
    ]);
    assert(await logsShow(d, "probe", "late=late"), "old container resolves a new one");
    const fromNew = await d.berth([
      "run",
      "--rm",
      "--network",
      "rnet",
      "busybox",
      "wget",
      "-qO-",
      "http://w/",
    ]);
    assertEquals(fromNew.stdout.trim(), "web", fromNew.stderr);
    // the published port is still held
    const dup = await d.berth(["run", "-d", "-p", `${hp}:80`, "busybox", "sleep", "5"]);
    assertStringIncludes(dup.stderr, "already allocated");
    const fresh = await Deno.connect({ hostname: "127.0.0.1", port: hp });
    assertEquals(await echo(fresh, "d"), "d");
    fresh.close();
    // leftovers are gone
    assertEquals((await ourLinks(d.tag)).some((l) => l.name === strayVeth), false, "stray veth");
    const st = JSON.parse(await d.ok(["inspect", "doomed"]))[0].State;
    assertEquals(st.Running, false);
    assertEquals(
      JSON.parse(await d.ok(["network", "inspect", "rnet"]))[0].Containers[strayId],
      undefined,
    );
    assertEquals(await leases(d.root), 4, "echo, web, probe, late");

    conn.close();
    conn = undefined;
    await d.berth(["rm", "-f", "echo", "web", "probe", "late", "doomed"]);
    assertEquals(await leases(d.root), 0);
    assertEquals((await ourLinks(d.tag)).filter((l) => l.alias.includes(":c:")), []);
    await d.ok(["network", "rm", "rnet"]);
    await d.stopDaemon();
    assertEquals(await ourLinks(d.tag), []);
    assertEquals(await ourRules(d.tag), []);
  } finally {
    conn?.close();
    up.close();
    await d.done();
  }
});
