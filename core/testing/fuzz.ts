/**
 * A small seeded mutation fuzzer for the parsers that take outside input
 * (issue 11). No coverage guidance: valid seeds are mutated (bit flips,
 * interesting bytes, dictionary tokens, splices, repeats) or replaced by
 * random bytes, inputs that parse are kept as further seeds, and each target
 * runs for a bounded time.
 *
 * The property checked for every input: `run` returns, or throws an error
 * that `expected` accepts (the parser's documented kind); it takes no more
 * than `maxInputMs` (rechecked once, so a GC pause is not a failure); the
 * heap does not grow past `maxHeapMB`. `run` adds its own checks (round
 * trips, output size) by throwing anything `expected` rejects.
 *
 * `BERTH_FUZZ_SEED` (integer) and `BERTH_FUZZ_MS` (per target, default 1500) vary a run;
 * by default the seed is fixed. A failure names the input (JSON and base64)
 * so it can be added to the target's regression list.
 *
 * @example
 * ```ts ignore
 * Deno.test("fuzz: reference", () =>
 *   fuzz({
 *     name: "reference",
 *     seeds: ["busybox", "localhost:5000/a/b:1"],
 *     expected: (e) => e instanceof InvalidArgument,
 *     run: (b) => parseReference(text(b)),
 *   }));
 * ```
 * @module
 */

export interface FuzzTarget {
  /** Names the target in messages; also mixed into the seed. */
  name: string;
  /** Valid (or nearly valid) inputs to mutate. */
  seeds: Array<Uint8Array | string>;
  /** Tokens worth inserting (keywords, delimiters, escapes). */
  dictionary?: Array<Uint8Array | string>;
  /** Inputs found by earlier runs: each must pass before fuzzing starts. */
  regressions?: Array<Uint8Array | string>;
  /** The documented error kinds of the parser. */
  expected: (e: unknown) => boolean;
  /** Parse one input and check what came out; may be async. */
  run: (input: Uint8Array) => unknown;
  /** Longest generated input (default 4096). */
  maxLen?: number;
  /** Time for this target (default BERTH_FUZZ_MS or 1500). */
  ms?: number;
  /** Longest time one input may take (default 250 ms). */
  maxInputMs?: number;
  /** Heap use that counts as absurd (default 768 MB). */
  maxHeapMB?: number;
}

export interface FuzzStats {
  inputs: number;
  accepted: number;
  rejected: number;
  seed: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Input bytes as text (invalid UTF-8 becomes U+FFFD), for string parsers. */
export function text(b: Uint8Array): string {
  return dec.decode(b);
}

const bytesOf = (x: Uint8Array | string) => typeof x === "string" ? enc.encode(x) : x;

/** mulberry32: small, fast, good enough to drive mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function envInt(name: string): number | undefined {
  const v = Deno.env.get(name);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, not ${v}`);
  return n;
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x0d, 0x2f, 0x25, 0x5c, 0x22, 0x3a, 0x30];
const NUMBERS = ["-1", "0", "4294967296", "99999999999999999999", "1e309", "NaN", "0x10", "077"];

/** Mutation engine (exported for the helper's own test). */
export class Mutator {
  readonly #rand: () => number;
  readonly #dict: Uint8Array[];
  readonly #maxLen: number;
  constructor(rand: () => number, dict: Uint8Array[], maxLen: number) {
    this.#rand = rand;
    this.#dict = [...dict, ...NUMBERS.map((n) => enc.encode(n))];
    this.#maxLen = maxLen;
  }

  int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  random(): Uint8Array {
    const out = new Uint8Array(this.int(Math.min(this.#maxLen, 512) + 1));
    for (let i = 0; i < out.length; i++) out[i] = this.int(256);
    return out;
  }

  /** 1–4 stacked mutations of `b`; `other` is a splice partner. */
  mutate(b: Uint8Array, other: Uint8Array): Uint8Array {
    let x = b;
    for (let k = 1 + this.int(4); k > 0; k--) x = this.#one(x, other);
    return x.length > this.#maxLen ? x.subarray(0, this.#maxLen) : x;
  }

  #one(b: Uint8Array, other: Uint8Array): Uint8Array {
    const n = b.length;
    const at = this.int(n + 1);
    const ins = (what: Uint8Array, pos = at, del = 0) => {
      const out = new Uint8Array(n - del + what.length);
      out.set(b.subarray(0, pos));
      out.set(what, pos);
      out.set(b.subarray(pos + del), pos + what.length);
      return out;
    };
    const token = () => this.#dict.length ? this.#dict[this.int(this.#dict.length)] : this.random();
    switch (this.int(n ? 11 : 3)) {
      case 0:
        return ins(token());
      case 1:
        return ins(Uint8Array.of(...Array.from({ length: 1 + this.int(8) }, () => this.int(256))));
      case 2: { // splice with another input
        const cut = this.int(other.length + 1);
        const out = new Uint8Array(at + other.length - cut);
        out.set(b.subarray(0, at));
        out.set(other.subarray(cut), at);
        return out;
      }
      case 3: {
        const c = b.slice();
        c[this.int(n)] ^= 1 << this.int(8);
        return c;
      }
      case 4: {
        const c = b.slice();
        c[this.int(n)] = INTERESTING[this.int(INTERESTING.length)];
        return c;
      }
      case 5: {
        const c = b.slice();
        c[this.int(n)] = this.int(256);
        return c;
      }
      case 6: { // delete a range
        const pos = this.int(n);
        return ins(new Uint8Array(0), pos, 1 + this.int(Math.min(n - pos, 32)));
      }
      case 7: { // duplicate a range elsewhere
        const pos = this.int(n), len = 1 + this.int(Math.min(n - pos, 64));
        return ins(b.slice(pos, pos + len));
      }
      case 8: { // repeat a range many times (long tokens, deep nesting)
        const pos = this.int(n), len = 1 + this.int(Math.min(n - pos, 8));
        const times = 2 + this.int(Math.max(1, Math.floor((this.#maxLen - n) / len)));
        const r = new Uint8Array(len * Math.min(times, 1 << 16));
        for (let i = 0; i < r.length; i += len) r.set(b.subarray(pos, pos + len), i);
        return ins(r);
      }
      case 9: { // overwrite with a token
        const t = token();
        const pos = this.int(n);
        return ins(t, pos, Math.min(t.length, n - pos));
      }
      default:
        return b.subarray(0, this.int(n));
    }
  }
}

function describe(b: Uint8Array): string {
  const s = dec.decode(b);
  const show = s.length > 400
    ? `${JSON.stringify(s.slice(0, 400))}… (${b.length} bytes)`
    : JSON.stringify(s);
  const b64 = b.length <= 4096 ? btoa(String.fromCharCode(...b)) : "(too long for base64 here)";
  return `input ${show}\n  base64 ${b64}`;
}

function errText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e);
}

/** Run `t` for its time budget; throws on the first input that breaks the property. */
export async function fuzz(t: FuzzTarget): Promise<FuzzStats> {
  const base = envInt("BERTH_FUZZ_SEED") ?? 0x0be27;
  const seed = (base ^ hash(t.name)) >>> 0;
  const ms = envInt("BERTH_FUZZ_MS") ?? t.ms ?? 1500;
  const maxInputMs = t.maxInputMs ?? 250;
  const maxHeap = (t.maxHeapMB ?? 768) * 1024 * 1024;
  const rand = prng(seed);
  const mut = new Mutator(rand, (t.dictionary ?? []).map(bytesOf), t.maxLen ?? 4096);
  const seeds = t.seeds.map(bytesOf);
  const pool: Uint8Array[] = [...seeds];
  const stats: FuzzStats = { inputs: 0, accepted: 0, rejected: 0, seed: base };
  const where = () => `fuzz ${t.name} (BERTH_FUZZ_SEED=${base}, input #${stats.inputs})`;

  const once = async (input: Uint8Array): Promise<{ ok: boolean; ms: number }> => {
    const t0 = performance.now();
    try {
      await t.run(input);
      return { ok: true, ms: performance.now() - t0 };
    } catch (e) {
      const took = performance.now() - t0;
      if (t.expected(e)) return { ok: false, ms: took };
      throw new Error(`${where()}: unexpected error\n  ${describe(input)}\n  ${errText(e)}`);
    }
  };
  const check = async (input: Uint8Array): Promise<boolean> => {
    let r = await once(input);
    if (r.ms > maxInputMs) r = await once(input); // a GC pause or a busy machine: measure again
    if (r.ms > maxInputMs) {
      throw new Error(
        `${where()}: one input took ${r.ms.toFixed(0)} ms (limit ${maxInputMs})\n  ${
          describe(input)
        }`,
      );
    }
    return r.ok;
  };

  for (const r of t.regressions ?? []) await check(bytesOf(r));
  for (const s of seeds) await check(s);
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) {
      const input = mut.int(20) === 0
        ? mut.random()
        : mut.mutate(pool[mut.int(pool.length)], pool[mut.int(pool.length)]);
      stats.inputs++;
      if (await check(input)) {
        stats.accepted++;
        if (pool.length < 256) pool.push(input);
        else pool[seeds.length + mut.int(256 - seeds.length)] = input;
      } else stats.rejected++;
    }
    const heap = Deno.memoryUsage().heapUsed;
    if (heap > maxHeap) {
      throw new Error(`${where()}: heap at ${(heap / 2 ** 20).toFixed(0)} MB`);
    }
  }
  console.log(
    `fuzz ${t.name}: ${stats.inputs} inputs (${stats.accepted} parsed) in ${ms} ms, seed ${base}`,
  );
  return stats;
}

/** Throw when a parser's output is out of proportion to its input. */
export function assertProportional(outLen: number, inLen: number, factor = 64): void {
  if (outLen > factor * inLen + 65536) {
    throw new Error(`output of ${outLen} bytes from ${inLen} bytes of input`);
  }
}
