import { Quiet } from "../_util/quiet.ts";

/**
 * Joins frames into WebSocket messages. Frames are collected until the producers go quiet (see
 * {@linkcode Quiet}) and then sent as one message, joined by newlines: a burst of frames (a handler
 * yielding in a loop, credit for many calls) costs one send instead of one per frame, and a lone
 * frame waits only a few microtasks. A batch never grows past `maxBatchChars`, so the peer's
 * per-message size limit holds (a single large frame is always sent alone).
 */
export class FrameBatcher {
  #send: (text: string) => void;
  #maxBatchChars: number;
  #pending: string[] = [];
  #pendingChars = 0;
  #quiet = new Quiet(() => this.flush());
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
    this.#quiet.touch();
  }

  /** True when nothing is queued. */
  get idle(): boolean {
    return this.#pending.length === 0;
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
}
