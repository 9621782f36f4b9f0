import { Quiet } from "../_util/quiet.ts";

/**
 * A chunk handed to a consumer that pulls while the producer is busy has at least this much. On
 * Deno each chunk is a write and a read of its own, so small chunks cost (1 156 reads for 100 000
 * messages without this, 224 with it, 40% less time); 4 KiB, not more, because Bun buffers more
 * of a response that a client does not read when its chunks are larger (24 MB at 16 KiB against
 * 6 MB at 4 KiB, for 1 KB messages).
 */
const MIN_CHUNK = 4 * 1024;

/** Options for a {@linkcode BatchedBody}. */
export interface BatchedBodyOptions {
  /**
   * How much may wait unsent before a write asks the producer to wait, in the unit of
   * `pendingSize` (characters for NDJSON, bytes for envelopes). Default 64 Ki.
   */
  highWaterMark?: number;
  /** Called once if the consumer cancels the stream (for a response: the client went away). */
  onCancel?: (reason: unknown) => void;
}

/**
 * The batching and backpressure behind every streamed body we write (NDJSON lines, Connect and
 * gRPC-Web envelopes). A subclass appends encoded messages to its own pending buffer and calls
 * {@linkcode BatchedBody.queued}; this class decides when the buffer becomes a chunk of the
 * readable side.
 *
 * Messages are joined into one chunk until the producer goes quiet (see {@linkcode Quiet}) or the
 * chunk reaches the high-water mark, so a handler yielding in a loop costs one chunk per batch
 * instead of one per message, while a lone message waits only a few microtasks. A write returns a
 * promise only when the consumer has fallen behind by more than the high-water mark: that promise
 * is the backpressure.
 */
export abstract class BatchedBody {
  /** The byte stream to use as a body. */
  readonly readable: ReadableStream<Uint8Array>;
  #highWaterMark: number;
  #pull: (() => void) | undefined;
  #drained: PromiseWithResolvers<void> | undefined;
  #closed = false;
  #failure: { error: unknown } | undefined;
  #cancelled = false;
  #onCancel: ((reason: unknown) => void) | undefined;
  #quiet = new Quiet(() => this.#wake());

  /**
   * Creates the readable side.
   *
   * @param options High-water mark and cancel callback.
   */
  constructor(options: BatchedBodyOptions = {}) {
    this.#highWaterMark = options.highWaterMark ?? 64 * 1024;
    this.#onCancel = options.onCancel;
    this.readable = new ReadableStream<Uint8Array>({
      pull: (controller) => this.#onPull(controller),
      cancel: (reason) => {
        this.#cancelled = true;
        this.dropPending();
        this.#releaseWaiters();
        this.#onCancel?.(reason);
      },
    }, { highWaterMark: 0 });
  }

  /** How much is pending, in the unit of the high-water mark. */
  protected abstract get pendingSize(): number;
  /** Hands out the pending data as one chunk and empties the buffer. */
  protected abstract takePending(): Uint8Array;
  /** Empties the buffer without sending it (the consumer is gone). */
  protected abstract dropPending(): void;

  /** True once the consumer has cancelled the stream. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** True while writes are taken: neither closed nor cancelled. */
  protected get accepting(): boolean {
    return !this.#closed && !this.#cancelled;
  }

  /**
   * Called by a subclass after it appended to its buffer: schedules the chunk and tells the
   * producer whether to wait.
   *
   * @returns undefined when more may be written at once, or a promise that resolves when the
   * consumer has caught up (or cancelled).
   */
  protected queued(): Promise<void> | undefined {
    const size = this.pendingSize;
    if (size < this.#highWaterMark) {
      this.#quiet.touch();
      if (this.#pull && size >= MIN_CHUNK) this.#wake();
      return undefined;
    }
    this.#wake();
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  /** Ends the stream once the pending data is read. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
  }

  /**
   * Ends the stream with an error after the pending data (the consumer's read fails).
   *
   * @param error The error.
   */
  error(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failure = { error };
    this.#wake();
  }

  #wake(): void {
    if (this.#pull) {
      const pull = this.#pull;
      this.#pull = undefined;
      pull();
    }
  }

  #releaseWaiters(): void {
    this.#drained?.resolve();
    this.#drained = undefined;
    this.#wake();
  }

  #onPull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> | void {
    if (this.#cancelled) return;
    // Nothing to send yet, or a small batch while the producer is still at it: wait for quiet or
    // a fuller chunk, so a fast consumer does not split a burst into many small chunks.
    const size = this.pendingSize;
    const small = size < MIN_CHUNK && this.#quiet.active;
    if ((size === 0 || small) && !this.#closed) {
      return new Promise<void>((resolve) => {
        this.#pull = resolve;
      }).then(() => this.#onPull(controller));
    }
    if (size !== 0) {
      controller.enqueue(this.takePending());
      this.#drained?.resolve();
      this.#drained = undefined;
    }
    if (this.#closed) {
      if (this.#failure) controller.error(this.#failure.error);
      else controller.close();
    }
  }
}
