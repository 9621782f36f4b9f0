/**
 * Joins frames into WebSocket messages. Frames are collected until the producers go quiet, that
 * is, until a few turns of the microtask queue pass without a new frame, and then sent as one
 * message, joined by newlines. A burst of frames (a handler yielding in a loop, credit for many
 * calls) costs one send instead of one per frame, and a lone frame waits only those few
 * microtasks, not a timer: timers are clamped to milliseconds and would make every round trip of
 * flow control slow. A batch never grows past `maxBatchChars`, so the peer's per-message size
 * limit holds (a single large frame is always sent alone).
 */
export class FrameBatcher {
  #send: (text: string) => void;
  #maxBatchChars: number;
  #pending: string[] = [];
  #pendingChars = 0;
  #scheduled = false;
  #fresh = false;
  #quietTurns = 0;
  #disposed = false;

  /**
   * Creates a batcher.
   *
   * @param send Sends one WebSocket message.
   * @param maxBatchChars The largest batch, in characters. Default 64 Ki.
   */
  constructor(send: (text: string) => void, maxBatchChars = 64 * 1024) {
    this.#send = send;
    this.#maxBatchChars = maxBatchChars;
  }

  /**
   * Queues one frame's text.
   *
   * @param frame The encoded frame (no newlines inside).
   */
  push(frame: string): void {
    if (this.#disposed) return;
    if (this.#pendingChars + frame.length > this.#maxBatchChars) this.flush();
    this.#pending.push(frame);
    this.#pendingChars += frame.length + 1;
    this.#fresh = true;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#quietTurns = 0;
      queueMicrotask(this.#tick);
    }
  }

  /** Sends whatever is queued now. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join("\n");
    this.#pending = [];
    this.#pendingChars = 0;
    this.#send(text);
  }

  /** Drops whatever is queued (the socket is gone). */
  dispose(): void {
    this.#disposed = true;
    this.#pending = [];
    this.#pendingChars = 0;
  }

  #tick = (): void => {
    if (this.#fresh) {
      this.#fresh = false;
      this.#quietTurns = 0;
    } else if (++this.#quietTurns >= QUIET_TURNS) {
      this.#scheduled = false;
      this.flush();
      return;
    }
    queueMicrotask(this.#tick);
  };
}

/**
 * How many microtask turns without a new frame count as quiet. A handler's next `yield` reaches
 * the sink within about six turns (the generator's own awaits and the pipeline's), so sixteen
 * keeps a running loop in one batch.
 */
const QUIET_TURNS = 16;
