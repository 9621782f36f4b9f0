/**
 * Credit-based flow control of one call, the same on each side of a connection that carries
 * many calls (the WebSocket protocol, docs/protocol.md "Flow control"; NATS later). A sender may
 * send as many messages as it holds credit for; a receiver grants credit as its application
 * consumes messages, so neither side ever buffers more than a window of one call, however slow
 * the other end is.
 *
 * The window counts messages and, when given a byte window, their size too, so that large
 * messages cannot defeat it. A message's size is whatever the transport measures where it has
 * the encoded message anyway (the WebSocket protocol: the length of the frame's JSON text); both
 * halves must measure the same way. A credit grant names messages only: granting `n` returns the
 * room of the `n` oldest messages not yet granted back, their bytes included. So the sender
 * learns the bytes from what it sent, exactly, and a peer cannot grant room for more than it was
 * sent. With a byte window, a message may be sent while any byte credit is left, so the bytes in
 * flight stay under the window plus one message, and a message larger than the window still
 * goes, alone.
 */

/** The byte half of a window. */
export interface CreditOptions {
  /**
   * The byte window: how much the messages in flight may add up to, in the transport's measure
   * (the WebSocket protocol: characters of the frames' JSON text). Default: not counted.
   */
  bytes?: number;
}

/**
 * The sending half: credit the peer has granted for one call. Take one credit per message sent;
 * with none left, wait for {@linkcode OutboundCredit.ready}.
 *
 * Without a byte window, credit only counts messages and every grant adds to it. With one, the
 * credit is a window: a grant returns the room of messages taken, and never more than was taken.
 */
export class OutboundCredit {
  #credit: number;
  #bytes: number;
  #sizes: Sizes | undefined;
  #outstanding = 0;
  #waiter: PromiseWithResolvers<void> | undefined;
  #released = false;

  /**
   * Starts with the credit the peer grants before its first credit frame.
   *
   * @param initial The peer's window, in messages.
   * @param options `bytes`: the peer's byte window, when it counts bytes.
   */
  constructor(initial: number, options: CreditOptions = {}) {
    this.#credit = initial;
    this.#bytes = options.bytes ?? Infinity;
    if (options.bytes !== undefined) this.#sizes = new Sizes();
  }

  /** How many messages may be sent now (if the byte credit allows). */
  get available(): number {
    return this.#credit;
  }

  /**
   * The byte credit left: negative after a message larger than what was left; Infinity when
   * bytes are not counted.
   */
  get availableBytes(): number {
    return this.#bytes;
  }

  /** Messages taken and not yet granted back. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /**
   * Takes the credit for one message, if there is any.
   *
   * @param bytes The message's size, for a byte window (default 0).
   * @returns True when the message may be sent now; false when it must wait.
   */
  take(bytes = 0): boolean {
    if (this.#credit <= 0 || this.#bytes <= 0) return false;
    this.#credit--;
    this.#outstanding++;
    if (this.#sizes) {
      this.#bytes -= bytes;
      this.#sizes.push(bytes);
    }
    return true;
  }

  /**
   * The peer grants more credit: it has consumed `n` more messages.
   *
   * @param n How many more messages may be sent. With a byte window, the bytes of the `n` oldest
   * messages taken come back too, and a grant beyond what was taken counts only what was.
   */
  grant(n: number): void {
    if (this.#sizes) {
      n = Math.min(n, this.#outstanding);
      for (let i = 0; i < n; i++) this.#bytes += this.#sizes.take();
    }
    this.#outstanding = Math.max(0, this.#outstanding - n);
    this.#credit += n;
    this.#wake();
  }

  /**
   * Waits for credit.
   *
   * @returns Resolves when credit arrives or the call ends ({@linkcode OutboundCredit.release}),
   * at once if either has happened; check {@linkcode OutboundCredit.take} again after it.
   */
  ready(): Promise<void> {
    if ((this.#credit > 0 && this.#bytes > 0) || this.#released) return Promise.resolve();
    this.#waiter ??= Promise.withResolvers<void>();
    return this.#waiter.promise;
  }

  /** The call has ended: whoever waits for credit stops waiting, now and later. */
  release(): void {
    this.#released = true;
    this.#wake();
  }

  #wake(): void {
    this.#waiter?.resolve();
    this.#waiter = undefined;
  }
}

/**
 * The receiving half: credit granted to the peer for one call. The peer may send `window`
 * messages (and, with a byte window, `windowBytes`, plus the one message that crosses it) before
 * the first grant; as the application consumes messages, credit goes back in batches of half a
 * window (one credit frame per half window of messages or of bytes, not one per message).
 */
export class InboundCredit {
  /** The window: messages the peer may send before it hears from us. */
  readonly window: number;
  /** The byte window; Infinity when bytes are not counted. */
  readonly windowBytes: number;
  #pending = 0;
  #pendingBytes = 0;
  #consumed = 0;
  #consumedBytes = 0;
  #received = 0;
  #sizes: Sizes | undefined;

  /**
   * Starts with a full window granted.
   *
   * @param window How many messages the peer may send before the first grant.
   * @param options `bytes`: the byte window, to count bytes too.
   */
  constructor(window: number, options: CreditOptions = {}) {
    this.window = window;
    this.windowBytes = options.bytes ?? Infinity;
    if (options.bytes !== undefined) this.#sizes = new Sizes();
  }

  /** How many messages have arrived and been counted. */
  get received(): number {
    return this.#received;
  }

  /**
   * A message arrived.
   *
   * @param bytes Its size, for a byte window (default 0).
   * @returns False when the peer sent it without credit (it broke the protocol); the message
   * was not counted.
   */
  receive(bytes = 0): boolean {
    if (this.#pending >= this.window || this.#pendingBytes >= this.windowBytes) return false;
    this.#pending++;
    this.#received++;
    if (this.#sizes) {
      this.#pendingBytes += bytes;
      this.#sizes.push(bytes);
    }
    return true;
  }

  /**
   * The application consumed a message (the oldest one received).
   *
   * @returns The credit to grant the peer now (a credit frame to send), or 0 for none yet.
   */
  consume(): number {
    this.#consumed++;
    if (this.#sizes && this.#sizes.size > 0) this.#consumedBytes += this.#sizes.take();
    if (this.#consumed * 2 < this.window && this.#consumedBytes * 2 < this.windowBytes) return 0;
    const n = this.#consumed;
    this.#pending -= n;
    this.#pendingBytes -= this.#consumedBytes;
    this.#consumed = 0;
    this.#consumedBytes = 0;
    return n;
  }
}

/** Sizes of the messages in flight, oldest first: an array and a head index, compacted. */
class Sizes {
  #items: number[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(size: number): void {
    this.#items.push(size);
  }

  /** Takes the oldest; check `size` first. */
  take(): number {
    const size = this.#items[this.#head++]!;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return size;
  }
}
