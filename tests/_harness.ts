/**
 * One test API for both runtimes: test files call `test()` and run unchanged under `deno test`
 * (with its resource and op sanitizers on) and `bun test`.
 */

/** A test body. */
export type TestFn = () => void | Promise<void>;

interface BunTest {
  test(name: string, fn: TestFn, timeoutMs?: number): void;
  afterAll(fn: TestFn): void;
}

const bunTestModule = "bun:test";
const bun: BunTest | undefined = "Bun" in globalThis
  ? await import(bunTestModule) as BunTest
  : undefined;

/** Which runtime the tests run on. */
export const runtime: "deno" | "bun" = bun ? "bun" : "deno";

/**
 * Registers a test.
 *
 * @param name Starts with the thing under test: `"NdjsonReader rejects a line over the limit"`.
 * @param fn The test body.
 * @param options `timeoutMs`: how long Bun lets the test run (default 30 s; Deno has no limit),
 * for a test that waits on a slow child process such as `deno check`.
 */
export function test(name: string, fn: TestFn, options: { timeoutMs?: number } = {}): void {
  if (bun) bun.test(name, fn, options.timeoutMs ?? 30_000);
  else Deno.test({ name, fn });
}

/**
 * Registers a clean-up that runs once the test file's tests are done (for something the tests of
 * a file share, such as a compiled binary).
 *
 * @param fn The clean-up.
 */
export function afterAll(fn: TestFn): void {
  if (bun) bun.afterAll(fn);
  else Deno.test.afterAll(fn);
}

/**
 * Waits.
 *
 * @param ms Milliseconds.
 * @returns Resolves after `ms`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until a condition holds, checking every few milliseconds.
 *
 * @param condition The condition.
 * @param what Described in the error if it never holds.
 * @param timeoutMs How long to wait. Default 5 s.
 */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Runs a promise that must settle in time; a hang becomes a failed test instead of a stuck run.
 *
 * @param promise The promise.
 * @param ms The bound.
 * @param what Named in the error.
 * @returns The promise's value.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Captures what a promise rejects with.
 *
 * @param promise A promise expected to reject.
 * @returns The rejection reason.
 * @throws {Error} When the promise resolves.
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("Expected the promise to reject, but it resolved");
}

/**
 * The JavaScript heap in use, in bytes.
 *
 * @returns `heapUsed` from the runtime's memory usage.
 */
export function heapUsed(): number {
  if (bun) {
    return (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number } } }).process
      .memoryUsage().heapUsed;
  }
  return Deno.memoryUsage().heapUsed;
}
