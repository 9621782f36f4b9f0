/**
 * Calls back once producers go quiet: when a number of turns of the microtask queue pass without
 * `touch()`. Batching on this, rather than on a timer, costs a lone message only a few microtasks
 * (timers are clamped to milliseconds), while a producer running in a loop, an async generator
 * yielding message after message, keeps touching and so keeps its output in one batch.
 */
export class Quiet {
  #callback: () => void;
  #scheduled = false;
  #fresh = false;
  #quietTurns = 0;

  /**
   * Creates the detector.
   *
   * @param callback Called once per quiet period that follows a `touch()`.
   */
  constructor(callback: () => void) {
    this.#callback = callback;
  }

  /** True from a `touch()` until the callback that follows it: the producer is active. */
  get active(): boolean {
    return this.#scheduled;
  }

  /** Notes activity; the callback comes once things are quiet again. */
  touch(): void {
    this.#fresh = true;
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#quietTurns = 0;
    queueMicrotask(this.#tick);
  }

  #tick = (): void => {
    if (this.#fresh) {
      this.#fresh = false;
      this.#quietTurns = 0;
    } else if (++this.#quietTurns >= QUIET_TURNS) {
      this.#scheduled = false;
      this.#callback();
      return;
    }
    queueMicrotask(this.#tick);
  };
}

/**
 * How many microtask turns without activity count as quiet. A handler's next `yield` reaches the
 * sink within about six turns (the generator's own awaits and the pipeline's), so sixteen keeps a
 * running loop in one batch.
 */
const QUIET_TURNS = 16;
