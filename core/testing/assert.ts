/**
 * Tiny assertion helpers over node:assert/strict (JSR's @std/assert is not
 * reachable here). Shapes mirror @std/assert so tests read the same.
 * @module
 */
import assert from "node:assert/strict";

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assert.deepStrictEqual(actual, expected, msg);
}
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  assert.notDeepStrictEqual(actual, expected, msg);
}
export function assert_(cond: unknown, msg?: string): asserts cond {
  assert.ok(cond, msg);
}
export { assert_ as assert };
export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  assert.match(actual, re, msg);
}
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    throw new assert.AssertionError({
      message: msg ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
      actual,
      expected,
    });
  }
}
// deno-lint-ignore no-explicit-any
type Ctor = new (...args: any[]) => Error;
export function assertThrows(fn: () => unknown, cls?: Ctor, includes?: string): Error {
  try {
    fn();
  } catch (e) {
    if (cls && !(e instanceof cls)) {
      throw new assert.AssertionError({ message: `wrong error class: ${e}` });
    }
    if (includes && !(e as Error).message.includes(includes)) {
      throw new assert.AssertionError({
        message: `error ${JSON.stringify((e as Error).message)} lacks ${JSON.stringify(includes)}`,
      });
    }
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected function to throw" });
}
export async function assertRejects(
  fn: () => Promise<unknown>,
  cls?: Ctor,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (cls && !(e instanceof cls)) {
      throw new assert.AssertionError({ message: `wrong error class: ${e}` });
    }
    if (includes && !(e as Error).message.includes(includes)) {
      throw new assert.AssertionError({
        message: `error ${JSON.stringify((e as Error).message)} lacks ${JSON.stringify(includes)}`,
      });
    }
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected promise to reject" });
}
