/**
 * The CRI's records on disk: one directory per pod sandbox or container
 * below `<root>/cri/{sandboxes,containers}/<id>/`, its record in
 * `record.json`, written atomically (core/store/atomic.ts), all read once
 * when the CRI loads, so a restarted daemon lists what it had.
 * @module
 */
import { readJson, removeStaleTemps, writeJsonAtomic } from "../../../core/store/atomic.ts";
import { NotFound } from "../../../core/errdefs/mod.ts";

export class RecordDir<T extends { id: string }> {
  readonly base: string;
  readonly #kind: string;
  #recs = new Map<string, T>();

  constructor(base: string, kind: string) {
    this.base = base;
    this.#kind = kind;
  }

  async load(): Promise<void> {
    await Deno.mkdir(this.base, { recursive: true, mode: 0o700 });
    for await (const e of Deno.readDir(this.base)) {
      if (!e.isDirectory) continue;
      await removeStaleTemps(`${this.base}/${e.name}`);
      const r = await readJson<T | null>(`${this.base}/${e.name}/record.json`, null);
      // A directory without a record is a create that never finished: drop it.
      if (r) this.#recs.set(r.id, r);
      else await Deno.remove(`${this.base}/${e.name}`, { recursive: true });
    }
  }

  dirOf(id: string): string {
    return `${this.base}/${id}`;
  }

  list(): T[] {
    return [...this.#recs.values()];
  }

  get(id: string): T | undefined {
    return this.#recs.get(id);
  }

  /** By full id or unique prefix, as crictl passes them. */
  resolve(ref: string): T {
    const r = this.tryResolve(ref);
    if (!r) throw new NotFound(`${this.#kind} "${ref}" not found`);
    return r;
  }

  tryResolve(ref: string): T | undefined {
    if (!ref) return undefined;
    const exact = this.#recs.get(ref);
    if (exact) return exact;
    const hits = [...this.#recs.keys()].filter((k) => k.startsWith(ref));
    return hits.length === 1 ? this.#recs.get(hits[0]) : undefined;
  }

  async save(r: T): Promise<void> {
    await Deno.mkdir(this.dirOf(r.id), { recursive: true, mode: 0o700 });
    await writeJsonAtomic(`${this.dirOf(r.id)}/record.json`, r);
    this.#recs.set(r.id, r);
  }

  async remove(id: string): Promise<void> {
    // the record first: a crash half way leaves a dir the next load drops
    await Deno.remove(`${this.dirOf(id)}/record.json`).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    this.#recs.delete(id);
    await Deno.remove(this.dirOf(id), { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

/** Run `fn` after every earlier call for the same key (per-id serialisation). */
export class KeyedSerial {
  #tails = new Map<string, Promise<unknown>>();
  run<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const p = prev.then(fn, fn);
    const tail = p.catch(() => {/* the caller gets the error */});
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return p;
  }
}
