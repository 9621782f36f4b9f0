import { Queue } from "./queue.ts";

/**
 * A bounded queue between a producer and a consumer in the same process: `push()` returns a
 * promise once `capacity` values wait unread, and the consumer's `next()` waits for a value.
 * Ends with `end()` (after the queued values) or `fail()` (after them too).
 */
export class Channel<T> {
  #queue = new Queue<T>();
  #capacity: number;
  #reader: PromiseWithResolvers<IteratorResult<T, undefined>> | undefined;
  #space: PromiseWithResolvers<void> | undefined;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #onTake: (() => void) | undefined;

  /**
   * Creates a channel.
   *
   * @param capacity How many values may wait unread before `push()` pushes back.
   * @param onTake Called each time the consumer takes a value.
   */
  constructor(capacity: number, onTake?: () => void) {
    this.#capacity = capacity;
    this.#onTake = onTake;
  }

  /** True after `end()` or `fail()`. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Adds a value.
   *
   * @param value The value.
   * @returns undefined when there is room for more, or a promise that resolves when there is.
   */
  push(value: T): Promise<void> | undefined {
    if (this.#ended) return undefined;
    if (this.#reader) {
      const reader = this.#reader;
      this.#reader = undefined;
      this.#onTake?.();
      reader.resolve({ done: false, value });
      return undefined;
    }
    this.#queue.push(value);
    if (this.#queue.size < this.#capacity) return undefined;
    this.#space ??= Promise.withResolvers<void>();
    return this.#space.promise;
  }

  /** No more values. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#release();
    this.#settleReader();
  }

  /**
   * Ends with an error, which the consumer gets after the queued values.
   *
   * @param error The error.
   */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#failure = { error };
    this.end();
  }

  /** A consumer waiting on an empty, ended channel gets the end or the error. */
  #settleReader(): void {
    if (!this.#reader || this.#queue.size > 0) return;
    const reader = this.#reader;
    this.#reader = undefined;
    if (this.#failure) reader.reject(this.#failure.error);
    else reader.resolve({ done: true, value: undefined });
  }

  /** Drops what is queued and ends; the producer is released. */
  clear(): void {
    this.#queue.clear();
    this.end();
  }

  /**
   * Takes the next value.
   *
   * @returns The value, or `done` once ended and drained.
   */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#queue.size > 0) {
      const value = this.#queue.take();
      this.#onTake?.();
      if (this.#queue.size < this.#capacity) this.#release();
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) {
      return this.#failure
        ? Promise.reject(this.#failure.error)
        : Promise.resolve({ done: true, value: undefined });
    }
    this.#reader = Promise.withResolvers();
    this.#release();
    return this.#reader.promise;
  }

  #release(): void {
    this.#space?.resolve();
    this.#space = undefined;
  }
}
