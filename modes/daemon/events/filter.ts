/**
 * Docker's event filters (moby daemon/events/filter.go): values of one key
 * are ORed, keys ANDed. `container`, `volume`, `network` and `daemon` match
 * the actor's ID or `name` by prefix, whatever the event's type; `image` matches the ID or name (image
 * events) or the container's `image`, with and without the tag; `event`
 * matches the action exactly, except that `health_status`, `exec_create` and
 * `exec_start` match by prefix; `label` wants every given key (=value).
 *
 * @example
 * ```ts
 * import { eventFilter } from "./filter.ts";
 * const f = eventFilter({ type: ["volume"] });
 * console.assert(!f({ Type: "container", Action: "start", Actor: { ID: "x", Attributes: {} }, scope: "local" }));
 * ```
 * @module
 */
import type { EventMessage } from "./log.ts";

type Matchable = Pick<EventMessage, "Type" | "Action" | "Actor" | "scope">;

const exact = (want: string[] | undefined, ...have: string[]) =>
  !want?.length || want.some((w) => have.includes(w));
const fuzzy = (want: string[] | undefined, ...have: string[]) =>
  !want?.length || want.some((w) => have.some((h) => h.startsWith(w)));

/** "busybox:1" → "busybox" (a registry port is not a tag). */
function stripTag(ref: string): string {
  const at = ref.indexOf("@");
  if (at >= 0) return ref.slice(0, at);
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(0, colon) : ref;
}

const PREFIX_ACTIONS = new Set(["health_status", "exec_create", "exec_start"]);

export function eventFilter(f: Record<string, string[]>): (e: Matchable) => boolean {
  return (e) => {
    const id = e.Actor.ID, a = e.Actor.Attributes;
    const name = a.name ?? "";
    // as moby: whatever the event's type (a container filter drops network events)
    const byName = (t: string) => fuzzy(f[t], id, name);
    if (f.event?.some((v) => PREFIX_ACTIONS.has(v))) {
      if (!fuzzy(f.event, e.Action)) return false;
    } else if (!exact(f.event, e.Action)) return false;
    if (!exact(f.type, e.Type) || !exact(f.scope, e.scope)) return false;
    if (!byName("daemon") || !byName("container") || !byName("volume") || !byName("network")) {
      return false;
    }
    if (f.image?.length) {
      const img = (e.Type === "image" ? a.name : a.image) ?? "";
      if (!exact(f.image, id, img, stripTag(id), stripTag(img))) return false;
    }
    for (const l of f.label ?? []) {
      const i = l.indexOf("=");
      if (i < 0 ? !(l in a) : a[l.slice(0, i)] !== l.slice(i + 1)) return false;
    }
    return true;
  };
}
