/**
 * Whole-string glob matching for COPY/ADD sources (Go's filepath.Match) and
 * `.dockerignore` (moby's patternmatcher, with `**`), by a small NFA: time
 * linear in name × pattern. They were RegExps, which V8 backtracks: `*a*a*a*b`
 * against a 255-character file name took 3 s, `**\/**\/**\/**\/**\/x` against a
 * 100-deep path 25 s (in the daemon), and `[z-a]` threw a SyntaxError.
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";

type Test = (c: string) => boolean;
interface State {
  eps: number[];
  edges: { test: Test; to: number }[];
}

const ANY: Test = () => true;
const NOT_SLASH: Test = (c) => c !== "/";
const SLASH: Test = (c) => c === "/";

export class Glob {
  readonly #s: State[] = [{ eps: [], edges: [] }];
  #cur = 0;

  #state(): number {
    this.#s.push({ eps: [], edges: [] });
    return this.#s.length - 1;
  }
  /** One character matching `test`. */
  one(test: Test): void {
    const next = this.#state();
    this.#s[this.#cur].edges.push({ test, to: next });
    this.#cur = next;
  }
  /** Any number of characters matching `test`. */
  star(test: Test): void {
    const next = this.#state();
    this.#s[this.#cur].edges.push({ test, to: this.#cur });
    this.#s[this.#cur].eps.push(next);
    this.#cur = next;
  }
  /** `(.*\/)?`: nothing, or anything ending in "/". */
  dirs(): void {
    const inner = this.#state(), next = this.#state();
    const from = this.#s[this.#cur];
    from.eps.push(next);
    from.edges.push({ test: ANY, to: inner }, { test: SLASH, to: next });
    this.#s[inner].edges.push({ test: ANY, to: inner }, { test: SLASH, to: next });
    this.#cur = next;
  }

  #close(set: Uint8Array, s: number): void {
    const stack = [s];
    while (stack.length) {
      const x = stack.pop()!;
      if (set[x]) continue;
      set[x] = 1;
      stack.push(...this.#s[x].eps);
    }
  }

  // A lazily built DFA over the NFA's state sets: one Map lookup per character once warm
  // (a .dockerignore meets every file of the context). Bounded: past MAX_NODES it restarts.
  #nodes = new Map<string, Node>();
  #start: Node | undefined;

  #node(set: Uint8Array): Node {
    let key = "";
    for (let i = 0; i < set.length; i++) if (set[i]) key += i + ",";
    let n = this.#nodes.get(key);
    if (!n) {
      if (this.#nodes.size >= MAX_NODES) this.#nodes.clear();
      n = { set, accept: set[this.#cur] === 1, next: new Map() };
      this.#nodes.set(key, n);
    }
    return n;
  }

  #step(n: Node, c: string): Node | null {
    let to = n.next.get(c);
    if (to !== undefined) return to;
    const set = new Uint8Array(this.#s.length);
    let alive = false;
    for (let s = 0; s < set.length; s++) {
      if (!n.set[s]) continue;
      for (const e of this.#s[s].edges) {
        if (e.test(c)) {
          this.#close(set, e.to);
          alive = true;
        }
      }
    }
    to = alive ? this.#node(set) : null;
    if (n.next.size < 256) n.next.set(c, to);
    return to;
  }

  /** Does the whole of `name` match? */
  test(name: string): boolean {
    return this.#run(name, false);
  }

  /** Does `path`, or one of its parent dirs ("a", "a/b" of "a/b/c"), match? One pass. */
  testPathOrParents(path: string): boolean {
    return this.#run(path, true);
  }

  #run(name: string, parents: boolean): boolean {
    if (!this.#start || this.#nodes.size === 0) {
      const set = new Uint8Array(this.#s.length);
      this.#close(set, 0);
      this.#start = this.#node(set);
    }
    let n: Node | null = this.#start;
    for (const c of name) {
      if (parents && c === "/" && n.accept) return true;
      n = this.#step(n, c);
      if (!n) return false;
    }
    return n.accept;
  }
}

interface Node {
  set: Uint8Array;
  accept: boolean;
  next: Map<string, Node | null>;
}

const MAX_NODES = 4096;

/**
 * A bracket expression starting at cs[i] === "[": `[!…]`/`[^…]` negate, `a-z`
 * ranges (a reversed one matches nothing), `\x` a literal x. Returns the test
 * and the index of the closing "]", or undefined when there is none.
 */
function bracket(cs: string[], i: number): { test: Test; end: number } | undefined {
  let j = i + 1;
  const neg = cs[j] === "!" || cs[j] === "^";
  if (neg) j++;
  const ranges: [string, string][] = [];
  for (; j < cs.length && cs[j] !== "]"; j++) {
    let lo = cs[j];
    if (lo === "\\" && j + 1 < cs.length) lo = cs[++j];
    let hi = lo;
    if (cs[j + 1] === "-" && j + 2 < cs.length && cs[j + 2] !== "]") {
      j += 2;
      hi = cs[j] === "\\" && j + 1 < cs.length ? cs[++j] : cs[j];
    }
    ranges.push([lo, hi]);
  }
  if (j >= cs.length) return undefined;
  return { test: (c) => ranges.some(([lo, hi]) => lo <= c && c <= hi) !== neg, end: j };
}

/** Go's filepath.Match: `*` and `?` never match "/", `[...]` classes, `\` escapes. */
export function goGlob(pattern: string): Glob {
  const g = new Glob();
  const cs = Array.from(pattern);
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c === "*") g.star(NOT_SLASH);
    else if (c === "?") g.one(NOT_SLASH);
    else if (c === "[") {
      const b = bracket(cs, i);
      if (!b) throw new InvalidArgument(`syntax error in pattern ${pattern}`);
      g.one(b.test);
      i = b.end;
    } else {
      const lit = c === "\\" && i + 1 < cs.length ? cs[++i] : c;
      g.one((x) => x === lit);
    }
  }
  return g;
}

/** moby's patternmatcher: as filepath.Match, plus `**` (any depth, "/" included). */
export function ignoreGlob(pattern: string): Glob {
  const g = new Glob();
  const cs = Array.from(pattern);
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c === "*" && cs[i + 1] === "*") {
      i++;
      if (cs[i + 1] === "/") i++;
      if (i + 1 >= cs.length) g.star(ANY);
      else g.dirs();
    } else if (c === "*") g.star(NOT_SLASH);
    else if (c === "?") g.one(NOT_SLASH);
    else if (c === "[") {
      const b = bracket(cs, i);
      if (!b) throw new InvalidArgument(`syntax error in pattern: ${pattern}`);
      g.one(b.test);
      i = b.end;
    } else {
      const lit = c === "\\" && i + 1 < cs.length ? cs[++i] : c;
      g.one((x) => x === lit);
    }
  }
  return g;
}
