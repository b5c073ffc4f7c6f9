// Minimal assertion helpers on node:assert (JSR's @std/assert is unreachable from our build machines).
import nodeAssert from "node:assert";

/** Fails when `cond` is falsy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Deep, strict inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Identity (`Object.is`). */
export function assertStrictEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.strictEqual(actual, expected, msg);
}

/** `actual` matches `re`. */
export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  if (!re.test(actual)) throw new Error(msg ?? `expected ${JSON.stringify(actual)} to match ${re}`);
}

/** `actual` contains `part`. */
export function assertStringIncludes(actual: string, part: string, msg?: string): void {
  if (!actual.includes(part)) {
    throw new Error(msg ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(part)}`);
  }
}

/** `fn` throws; returns the error. With `msgIncludes`, its message must contain the text. */
export function assertThrows(fn: () => unknown, msgIncludes?: string): Error {
  try {
    fn();
  } catch (e) {
    const err = e as Error;
    if (msgIncludes !== undefined && !String(err?.message).includes(msgIncludes)) {
      throw new Error(
        `error ${JSON.stringify(err?.message)} does not include ${JSON.stringify(msgIncludes)}`,
      );
    }
    return err;
  }
  throw new Error("expected function to throw");
}

/** `fn` rejects; returns the error. With `msgIncludes`, its message must contain the text. */
export async function assertRejects(fn: () => Promise<unknown>, msgIncludes?: string): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const err = e as Error;
    if (msgIncludes !== undefined && !String(err?.message).includes(msgIncludes)) {
      throw new Error(
        `error ${JSON.stringify(err?.message)} does not include ${JSON.stringify(msgIncludes)}`,
      );
    }
    return err;
  }
  throw new Error("expected promise to reject");
}

/** Unconditional failure. */
export function fail(msg: string): never {
  throw new Error(msg);
}
