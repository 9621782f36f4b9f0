/**
 * A first-in, first-out queue that takes from the front in constant time (an array plus a head
 * index, reset when it empties), without holding on to values it has handed out.
 */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many values wait. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /**
   * Adds a value at the back.
   *
   * @param value The value.
   */
  push(value: T): void {
    this.#items.push(value);
  }

  /**
   * Takes the value at the front; check `size` first.
   *
   * @returns The value.
   */
  take(): T {
    const value = this.#items[this.#head] as T;
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) this.clear();
    return value;
  }

  /** Drops every value. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
