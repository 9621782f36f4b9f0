import { Registry } from "../_util/registry.ts";
import { RpcError } from "../protocol/rpc_error.ts";

/** Something a {@linkcode BodyWatch} looks at on every tick. */
export interface Watched {
  /**
   * Called on every tick while watched.
   *
   * @param now The watch's clock, in ticks.
   * @returns `true` to stop being watched (it has expired, or is done).
   */
  tick(now: number): boolean;
}

/**
 * Times request bodies that arrive too slowly (a body trickled at a byte a second holds a call, a
 * connection and its buffers for as long as the client likes) without a timer per request: one
 * coarse clock for the whole app ticks while the app serves, and each read in progress is an entry
 * in a registry (no allocation once warm), looked at on every tick. A read is failed with
 * `deadline_exceeded` between `timeoutMs` and `timeoutMs` plus two ticks after it began; a tick is
 * a quarter of the timeout, at least 10 ms and at most a second.
 *
 * Unary and JSON-array bodies are timed from when the server starts reading them
 * ({@linkcode BodyWatch.guard}); a streamed body's messages each from their first byte, while the
 * server is waiting for the rest (the stream's own entry does that, with `watch`).
 */
export class BodyWatch {
  /** How long a body may take; 0 for no limit. */
  readonly timeoutMs: number;
  /** Ticks an entry may live for before it has certainly lasted `timeoutMs`. */
  readonly limitTicks: number;
  #tickMs: number;
  #now = 0;
  #entries = new Registry<Watched>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #serving = 0;

  /**
   * Creates the watch; it ticks only between `start()` and `stop()`.
   *
   * @param timeoutMs How long a body may take; 0 for no limit.
   */
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    this.#tickMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4)));
    // An entry made during tick t has lasted at least (now - t - 1) ticks.
    this.limitTicks = Math.ceil(timeoutMs / this.#tickMs) + 1;
  }

  /** True while the watch is ticking: reads are timed. */
  get active(): boolean {
    return this.#timer !== undefined;
  }

  /** The clock, in ticks. */
  get now(): number {
    return this.#now;
  }

  /** A server started serving the app: the clock ticks (once for any number of servers). */
  start(): void {
    if (this.#serving++ > 0 || this.timeoutMs === 0) return;
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
  }

  /** A server stopped serving the app; the last one stops the clock. */
  stop(): void {
    if (this.#serving === 0 || --this.#serving > 0) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Looks at an entry on every tick until it says it is done.
   *
   * @param entry The entry.
   * @returns Its slot, for {@linkcode BodyWatch.unwatch}.
   */
  watch(entry: Watched): number {
    return this.#entries.add(entry);
  }

  /**
   * Stops looking at an entry.
   *
   * @param slot What `watch` returned.
   */
  unwatch(slot: number): void {
    this.#entries.delete(slot);
  }

  /**
   * Times one read of a whole body: the promise it returns settles as `reading` does, or rejects
   * with `deadline_exceeded` if that takes longer than the timeout. While the watch is not
   * ticking, `reading` itself is returned.
   *
   * @param reading The read.
   * @param what What is being read, for the error message (`"request body"`).
   * @returns The read, timed.
   */
  guard<T>(reading: Promise<T>, what: string): Promise<T> {
    if (this.#timer === undefined) return reading;
    return new Guard(this, reading, what).promise;
  }

  #tick(): void {
    const now = ++this.#now;
    for (const [slot, entry] of this.#entries.entries()) {
      if (entry.tick(now)) this.#entries.delete(slot);
    }
  }
}

/**
 * The error for a body, or one message of it, that took too long.
 *
 * @param what What was late (`"request body"`, `"message at index 3 of the request body"`).
 * @param timeoutMs The timeout.
 * @returns A `deadline_exceeded` error with the timeout in its details.
 */
export function bodyTimeout(what: string, timeoutMs: number): RpcError {
  return new RpcError(
    "deadline_exceeded",
    `The ${what} took longer than ${timeoutMs} ms to arrive; send it without pausing`,
    { details: { timeout_ms: timeoutMs } },
  );
}

/** One timed read of a whole body. */
class Guard<T> implements Watched {
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;
  #watch: BodyWatch;
  #what: string;
  #since: number;
  #slot: number;
  #settled = false;

  constructor(watch: BodyWatch, reading: Promise<T>, what: string) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#watch = watch;
    this.#what = what;
    this.#since = watch.now;
    this.#slot = watch.watch(this);
    reading.then(
      (value) => this.#settle() && this.#resolve(value),
      (error) => this.#settle() && this.#reject(error),
    );
  }

  tick(now: number): boolean {
    if (now - this.#since < this.#watch.limitTicks) return false;
    this.#settled = true;
    this.#reject(bodyTimeout(this.#what, this.#watch.timeoutMs));
    return true;
  }

  /** The read settled: stop watching; false if it had timed out already. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#watch.unwatch(this.#slot);
    return true;
  }
}
