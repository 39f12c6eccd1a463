import { assert, assertEquals } from "../../../core/testing/assert.ts";
import { Events, RING_SIZE } from "./log.ts";
import { eventFilter } from "./filter.ts";

const c = (id: string, name: string, labels: Record<string, string> = {}) => ({
  Id: id,
  Name: `/${name}`,
  Config: { Image: "busybox:1", Labels: labels },
});

Deno.test("events ring: bounded, ordered, strictly increasing time, Docker's shape", () => {
  const ev = new Events();
  for (let i = 0; i < RING_SIZE + 44; i++) ev.volume("create", `v${i}`, { driver: "local" });
  const all = ev.since(0n);
  assertEquals(all.length, RING_SIZE);
  assertEquals(all[0].Actor.ID, "v44");
  assertEquals(all.at(-1)!.Actor.ID, `v${RING_SIZE + 43}`);
  for (let i = 1; i < all.length; i++) assert(all[i].timeNano > all[i - 1].timeNano);
  assertEquals(ev.since(all[10].timeNano, all[12].timeNano).map((e) => e.Actor.ID), [
    "v54",
    "v55",
    "v56",
  ]);
  ev.container("die", c("abc", "web", { app: "x" }), { exitCode: "3" });
  const line = ev.since(0n).at(-1)!.line;
  const j = JSON.parse(line);
  assertEquals(Object.keys(j), [
    "status",
    "id",
    "from",
    "Type",
    "Action",
    "Actor",
    "scope",
    "time",
    "timeNano",
  ]);
  assertEquals(j.from, "busybox:1");
  assertEquals(j.Actor.Attributes, { app: "x", image: "busybox:1", name: "web", exitCode: "3" });
  // timeNano is exact in the text (beyond a double's precision)
  assertEquals(/"timeNano":(\d+)/.exec(line)![1], String(ev.since(0n).at(-1)!.timeNano));
  ev.network("create", { id: "n1", name: "net", type: "bridge" });
  assertEquals(JSON.parse(ev.since(0n).at(-1)!.line).status, undefined);
});

Deno.test("events filter: moby's rules", () => {
  const ev = new Events();
  ev.container("start", c("abc123", "web", { app: "x", tier: "1" }));
  ev.container("health_status: healthy", c("abc123", "web"));
  ev.image("tag", "sha256:feed", "busybox:2");
  ev.network("connect", { id: "n1", name: "net" + "1", type: "bridge" }, { container: "abc123" });
  ev.volume("mount", "data", { container: "abc123" });
  const pick = (f: Record<string, string[]>) =>
    ev.since(0n).filter(eventFilter(f)).map((e) => `${e.Type} ${e.Action}`);
  assertEquals(pick({ container: ["ab"] }), [
    "container start",
    "container health_status: healthy",
  ]);
  assertEquals(pick({ container: ["web"], event: ["start"] }), ["container start"]);
  assertEquals(pick({ event: ["health_status"] }), ["container health_status: healthy"]);
  // an image's name without its tag, and the containers made from it
  assertEquals(pick({ image: ["busybox"] }), [
    "container start",
    "container health_status: healthy",
    "image tag",
  ]);
  assertEquals(pick({ image: ["busybox:2"] }), ["image tag"]);
  assertEquals(pick({ label: ["app=x", "tier"] }), ["container start"]);
  assertEquals(pick({ label: ["app=y"] }), []);
  assertEquals(pick({ type: ["network", "volume"] }), ["network connect", "volume mount"]);
  assertEquals(pick({ network: ["net1"] }), ["network connect"]);
  assertEquals(pick({ volume: ["data"] }), ["volume mount"]);
});
