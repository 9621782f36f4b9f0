import { Queue } from "../_util/queue.ts";
import { StreamClosedError } from "./stream_closed_error.ts";

export { StreamClosedError };

/** Hooks that let a transport feed a {@linkcode Stream} on demand. */
export interface StreamOptions {
  /**
   * Called when the reader waits on an empty stream: the producer should push (or end, or fail)
   * once. This is how a transport reads from the network only as fast as the handler consumes.
   */
  onPull?: () => void;
  /** Called once when the reader stops before the end (breaks out of `for await`). */
  onCancel?: () => void;
}

/**
 * An async iterable of messages: what a client-streaming or bidi handler receives as its input.
 *
 * - Iterating yields each message once, in order, as it arrives (already validated).
 * - `closed` becomes true once the stream has been fully consumed, or the reader stopped early.
 * - Iterating a closed stream yields nothing.
 * - `push()` after `end()`, or after the reader stopped, throws {@linkcode StreamClosedError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Stream } from "./stream.ts";
 * const numbers = new Stream<number>();
 * numbers.push(1);
 * numbers.push(2);
 * numbers.end();
 * let sum = 0;
 * for await (const n of numbers) sum += n;
 * assert.equal(sum, 3);
 * assert.equal(numbers.closed, true);
 * ```
 */
export class Stream<T> implements AsyncIterableIterator<T> {
  #queue = new Queue<T>();
  #ended = false;
  #failure: { error: unknown } | undefined;
  #closed = false;
  #waiters: PromiseWithResolvers<IteratorResult<T, undefined>>[] = [];
  #received = 0;
  #onPull: (() => void) | undefined;
  #onCancel: (() => void) | undefined;

  /**
   * Creates an empty, open stream.
   *
   * @param options Hooks for producers that feed the stream on demand.
   */
  constructor(options: StreamOptions = {}) {
    this.#onPull = options.onPull;
    this.#onCancel = options.onCancel;
  }

  /**
   * Creates a stream holding every value of an iterable, then ended.
   *
   * @param values The values.
   * @returns A stream that yields them.
   */
  static from<T>(values: Iterable<T> | AsyncIterable<T>): Stream<T> {
    const iterator = Symbol.asyncIterator in values
      ? values[Symbol.asyncIterator]()
      : (values as Iterable<T>)[Symbol.iterator]();
    const result: Stream<T> = new Stream<T>({
      onPull: () => {
        Promise.resolve(iterator.next()).then(
          (step) => step.done ? result.end() : result.push(step.value),
          (error) => result.fail(error),
        );
      },
      onCancel: () => void iterator.return?.(),
    });
    return result;
  }

  /** True once every message has been read, or the reader stopped early. */
  get closed(): boolean {
    return this.#closed;
  }

  /** How many messages the reader has taken so far. */
  get received(): number {
    return this.#received;
  }

  /**
   * Adds a message.
   *
   * @param value The message.
   * @throws {StreamClosedError} When the stream has ended or its reader has stopped.
   */
  push(value: T): void {
    if (this.#ended || this.#closed) {
      throw new StreamClosedError(
        this.#closed ? "Cannot push into a closed stream" : "Cannot push into an ended stream",
      );
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#received++;
      waiter.resolve({ value, done: false });
    } else {
      this.#queue.push(value);
    }
  }

  /** Marks the end: the reader finishes after the queued messages. Ending twice is harmless. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#settleWaiters();
  }

  /**
   * Ends the stream with an error, which the reader gets after the queued messages.
   *
   * @param error The error the reader's next read throws.
   */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = { error };
    this.#settleWaiters();
  }

  /**
   * Reads the next message.
   *
   * @returns The next message, or `done` at the end.
   */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#queue.size > 0) {
      const value = this.#queue.take();
      this.#received++;
      return Promise.resolve({ done: false, value });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#ended) return this.#finish();
    const waiter = Promise.withResolvers<IteratorResult<T, undefined>>();
    this.#waiters.push(waiter);
    this.#onPull?.();
    return waiter.promise;
  }

  /**
   * Stops reading: queued messages are dropped and the producer is told.
   *
   * @returns `done`.
   */
  return(): Promise<IteratorResult<T, undefined>> {
    const stoppedEarly = !this.#ended;
    this.#closed = true;
    this.#ended = true;
    this.#queue.clear();
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    if (stoppedEarly) this.#onCancel?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Reads every remaining message.
   *
   * @returns The messages, in order.
   */
  async toArray(): Promise<T[]> {
    const values: T[] = [];
    for await (const value of this) values.push(value);
    return values;
  }

  /**
   * The stream is its own iterator.
   *
   * @returns This stream.
   */
  [Symbol.asyncIterator](): this {
    return this;
  }

  #finish(): Promise<IteratorResult<T, undefined>> {
    this.#closed = true;
    const failure = this.#failure;
    this.#failure = undefined;
    return failure
      ? Promise.reject(failure.error)
      : Promise.resolve({ value: undefined, done: true });
  }

  #settleWaiters(): void {
    const [first, ...rest] = this.#waiters.splice(0);
    if (!first) return;
    // Only the first waiting read can see the error; the others see the end.
    this.#finish().then(first.resolve, first.reject);
    for (const waiter of rest) waiter.resolve({ value: undefined, done: true });
  }
}
