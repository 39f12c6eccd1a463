/**
 * The daemon's event log: Docker's event messages (Type, Action, Actor,
 * scope, time, timeNano, plus the legacy status/id/from of container and
 * image events), kept in a bounded in-memory ring for `since` and handed to
 * live subscribers (`GET /events`).
 *
 * Like dockerd, nothing is persisted: events are a diagnostic stream, a
 * restarted dockerd has forgotten its past ones too, and a write per event
 * would put a disk write on every container start. The ring holds the last
 * {@link RING_SIZE} events (Docker keeps 256), each kept only as its JSON line
 * and time (≈ 0.3–0.6 KiB each; parsed again for a replay, which is rare).
 *
 * Services get the {@link Events} emitter in their constructors and call
 * one typed method per kind of object.
 *
 * @example
 * ```ts
 * import { Events } from "./log.ts";
 * const ev = new Events();
 * ev.volume("create", "data", { driver: "local" });
 * console.assert(ev.since(0n).length === 1);
 * ```
 * @module
 */
import { nowNs } from "../../../core/shim/protocol.ts";

/** Docker keeps 256 (moby daemon/events: eventsLimit). */
export const RING_SIZE = 256;

export type EventType = "container" | "image" | "network" | "volume" | "daemon";

/** One event as filters see it; `line` is what is sent. */
export interface EventMessage {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  timeNano: bigint;
  /** the JSON object, no trailing newline */
  line: string;
}

export type Subscriber = (e: EventMessage) => void;

/** What the container events read of a record. */
export interface ContainerLike {
  Id: string;
  Name: string;
  Config: { Image?: string; Labels?: Record<string, string> | null };
}

interface Kept {
  timeNano: bigint;
  line: string;
}

export class Events {
  #ring: (Kept | undefined)[] = new Array(RING_SIZE);
  #next = 0;
  #count = 0;
  #last = 0n;
  #subs = new Set<Subscriber>();

  /** Record and publish one event (moby's events.Log). */
  log(type: EventType, action: string, id: string, attributes: Record<string, string>): void {
    let t = nowNs();
    if (t <= this.#last) t = this.#last + 1n; // strictly increasing: since/until are exact
    this.#last = t;
    const legacy = type === "container"
      ? { status: action, id, from: attributes.image ?? "" }
      : type === "image"
      ? { status: action, id }
      : {};
    const body = JSON.stringify({
      ...legacy,
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: "local",
      time: Number(t / 1_000_000_000n),
    });
    const e: EventMessage = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: "local",
      timeNano: t,
      line: `${body.slice(0, -1)},"timeNano":${t}}`,
    };
    this.#ring[this.#next] = { timeNano: t, line: e.line };
    this.#next = (this.#next + 1) % RING_SIZE;
    this.#count = Math.min(this.#count + 1, RING_SIZE);
    for (const s of this.#subs) s(e);
  }

  /** Events of the ring with since ≤ timeNano (≤ until when given), oldest first. */
  since(since: bigint, until?: bigint): EventMessage[] {
    const out: EventMessage[] = [];
    for (let i = 0; i < this.#count; i++) {
      const k = this.#ring[(this.#next - this.#count + i + RING_SIZE) % RING_SIZE]!;
      if (k.timeNano < since) continue;
      if (until !== undefined && k.timeNano > until) continue;
      const { Type, Action, Actor, scope } = JSON.parse(k.line);
      out.push({ Type, Action, Actor, scope, timeNano: k.timeNano, line: k.line });
    }
    return out;
  }

  subscribe(fn: Subscriber): () => void {
    this.#subs.add(fn);
    return () => this.#subs.delete(fn);
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  // ---- typed emitters, one per kind of object (moby's Log*Event*) ----

  /** Container events carry the labels, `image` and `name` (+ `extra`). */
  container(action: string, c: ContainerLike, extra: Record<string, string> = {}): void {
    this.log("container", action, c.Id, {
      ...(c.Config.Labels ?? {}),
      image: c.Config.Image ?? "",
      name: c.Name.replace(/^\//, ""),
      ...extra,
    });
  }

  /**
   * Image events: `id` is the image ID or, for pull and push, the reference;
   * `name` the reference shown; the image's labels when it still exists.
   */
  image(action: string, id: string, name: string, labels: Record<string, string> = {}): void {
    this.log("image", action, id, { ...labels, ...(name ? { name } : {}) });
  }

  network(
    action: string,
    n: { id: string; name: string; type: string },
    extra: Record<string, string> = {},
  ): void {
    this.log("network", action, n.id, { ...extra, name: n.name, type: n.type });
  }

  volume(action: string, name: string, attributes: Record<string, string>): void {
    this.log("volume", action, name, attributes);
  }

  daemon(action: string, id: string, attributes: Record<string, string>): void {
    this.log("daemon", action, id, attributes);
  }
}
