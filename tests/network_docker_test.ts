/**
 * The same flows through the stock docker CLI (DOCKER_HOST=unix://…):
 * `docker network create/ls/inspect/connect/disconnect/rm/prune`,
 * `docker run -p`, `docker port`, `docker ps`, name resolution.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../core/testing/assert.ts";
import {
  curl,
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
import type { NetDaemon } from "./network_helpers.ts";

async function docker(d: NetDaemon, args: string[]): Promise<string> {
  const r = await d.docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

Deno.test("network: docker CLI — networks, run -p, port, ps, connect", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const up = await fakeUpstream();
  const d = await netDaemon();
  try {
    const id = (await docker(d, [
      "network",
      "create",
      "--subnet",
      "10.232.5.0/24",
      "--gateway",
      "10.232.5.254",
      "--label",
      "app=demo",
      "dnet",
    ])).trim();
    assertMatch(id, /^[0-9a-f]{64}$/);
    const dup = await d.docker(["network", "create", "dnet"]);
    assertEquals(dup.code, 1);
    assertStringIncludes(dup.stderr, "already exists");
    await docker(d, ["network", "create", "other"]);
    const ls = await docker(d, ["network", "ls"]);
    assertMatch(ls, /NETWORK ID\s+NAME\s+DRIVER\s+SCOPE/);
    assertMatch(ls, new RegExp(`${id.slice(0, 12)}\\s+dnet\\s+bridge\\s+local`));
    assertEquals(
      (await docker(d, ["network", "ls", "--filter", "label=app=demo", "--format", "{{.Name}}"]))
        .trim(),
      "dnet",
    );
    const insp = JSON.parse(await docker(d, ["network", "inspect", "dnet"]))[0];
    assertEquals(insp.IPAM.Config, [{ Subnet: "10.232.5.0/24", Gateway: "10.232.5.254" }]);
    assertEquals(insp.Labels, { app: "demo" });

    const hp = freePort();
    await docker(d, [
      "run",
      "-d",
      "--name",
      "web",
      "--network",
      "dnet",
      "--network-alias",
      "site",
      "--ip",
      "10.232.5.9",
      "-p",
      `${hp}:80`,
      "busybox",
      ...httpdCmd("docker-web"),
    ]);
    assertEquals((await until(() => curl(`http://127.0.0.1:${hp}/`))).trim(), "docker-web");
    assertEquals((await docker(d, ["port", "web"])).trim(), `80/tcp -> 0.0.0.0:${hp}`);
    assertEquals((await docker(d, ["port", "web", "80/tcp"])).trim(), `0.0.0.0:${hp}`);
    assertStringIncludes(await docker(d, ["ps"]), `0.0.0.0:${hp}->80/tcp`);
    assertEquals(
      (await docker(d, ["inspect", "-f", "{{.NetworkSettings.Networks.dnet.IPAddress}}", "web"]))
        .trim(),
      "10.232.5.9",
    );
    const viaName = await d.docker([
      "run",
      "--rm",
      "--network",
      "dnet",
      "busybox",
      "sh",
      "-c",
      "wget -qO- http://web/ && wget -qO- http://site/",
    ]);
    assertEquals(viaName.stdout.trim().split("\n"), ["docker-web", "docker-web"], viaName.stderr);
    // a container on "other" cannot, until connected
    await docker(d, [
      "run",
      "-d",
      "--name",
      "cli",
      "--network",
      "other",
      "busybox",
      ...probeCmd("x", ["web"]),
    ]);
    assert(await logsShow(d, "cli", "web="), "cli tried");
    await docker(d, ["network", "connect", "dnet", "cli"]);
    assert(await logsShow(d, "cli", "web=docker-web"), "after connect");
    const withCli = JSON.parse(await docker(d, ["network", "inspect", "dnet"]))[0];
    assertEquals(
      Object.values(withCli.Containers).map((c) => (c as { Name: string }).Name).sort(),
      ["cli", "web"],
    );
    await docker(d, ["network", "disconnect", "dnet", "cli"]);
    const rmBusy = await d.docker(["network", "rm", "dnet"]);
    assertEquals(rmBusy.code, 1);
    assertStringIncludes(rmBusy.stderr, "active endpoints");
    await docker(d, ["rm", "-f", "web", "cli"]);
    assertEquals((await docker(d, ["network", "rm", "dnet"])).trim(), "dnet");
    assertStringIncludes(await docker(d, ["network", "prune", "-f"]), "other");
    const left = await docker(d, ["network", "ls", "--format", "{{.Name}}"]);
    assertEquals(left.trim().split("\n").sort(), ["bridge", "host", "none"]);
    const missing = await d.docker(["network", "inspect", "nope"]);
    assertEquals(missing.code, 1);
    assertEquals(await leases(d.root), 0);
    await d.stopDaemon();
    assertEquals(await ourLinks(d.tag), []);
    assertEquals(await ourRules(d.tag), []);
  } finally {
    up.close();
    await d.done();
  }
});
