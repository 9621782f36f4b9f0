/**
 * The live members of a set that changes on every call (calls in flight), kept in an array of
 * slots with a free list: adding and removing cost no hashing and no allocation once warm, and
 * iteration visits only the live members.
 */
export class Registry<T> {
  #slots: (T | undefined)[] = [];
  #free: number[] = [];
  #size = 0;

  /** How many members are live. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds a member.
   *
   * @param value The member.
   * @returns Its slot, to pass to `delete`.
   */
  add(value: T): number {
    this.#size++;
    const slot = this.#free.pop();
    if (slot === undefined) return this.#slots.push(value) - 1;
    this.#slots[slot] = value;
    return slot;
  }

  /**
   * Removes the member in a slot.
   *
   * @param slot What `add` returned.
   */
  delete(slot: number): void {
    if (this.#slots[slot] === undefined) return;
    this.#slots[slot] = undefined;
    this.#free.push(slot);
    this.#size--;
  }

  /** The live members. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const value of this.#slots) if (value !== undefined) yield value;
  }

  /**
   * The live members with their slots (a member may be deleted while this runs).
   *
   * @returns Pairs of slot and member.
   */
  *entries(): IterableIterator<[number, T]> {
    for (let slot = 0; slot < this.#slots.length; slot++) {
      const value = this.#slots[slot];
      if (value !== undefined) yield [slot, value];
    }
  }
}
