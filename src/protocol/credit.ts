/**
 * Credit-based flow control of one call, the same on each side of a connection that carries
 * many calls (the WebSocket protocol, docs/protocol.md "Flow control"; NATS later). A sender may
 * send as many messages as it holds credit for; a receiver grants credit as its application
 * consumes messages, so neither side ever buffers more than a window of one call, however slow
 * the other end is.
 *
 * Both halves count messages. When a byte limit joins the count, it is added here, to
 * {@linkcode OutboundCredit.take}, {@linkcode InboundCredit.receive} and
 * {@linkcode InboundCredit.consume}, and every transport gets it.
 */

/**
 * The sending half: credit the peer has granted for one call. Take one credit per message sent;
 * with none left, wait for {@linkcode OutboundCredit.ready}.
 */
export class OutboundCredit {
  #credit: number;
  #waiter: PromiseWithResolvers<void> | undefined;
  #released = false;

  /**
   * Starts with the credit the peer grants before its first credit frame.
   *
   * @param initial The peer's window.
   */
  constructor(initial: number) {
    this.#credit = initial;
  }

  /** How many messages may be sent now. */
  get available(): number {
    return this.#credit;
  }

  /**
   * Takes the credit for one message, if there is any.
   *
   * @returns True when the message may be sent now; false when it must wait.
   */
  take(): boolean {
    if (this.#credit === 0) return false;
    this.#credit--;
    return true;
  }

  /**
   * The peer grants more credit.
   *
   * @param n How many more messages may be sent.
   */
  grant(n: number): void {
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
    if (this.#credit > 0 || this.#released) return Promise.resolve();
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
 * messages before the first grant; as the application consumes messages, credit goes back in
 * batches of half a window (one credit frame per half window, not one per message).
 */
export class InboundCredit {
  /** The window: messages the peer may send before it hears from us. */
  readonly window: number;
  #allowed: number;
  #received = 0;
  #consumed = 0;

  /**
   * Starts with a full window granted.
   *
   * @param window How many messages the peer may send before the first grant.
   */
  constructor(window: number) {
    this.window = window;
    this.#allowed = window;
  }

  /** How many messages have arrived and been counted. */
  get received(): number {
    return this.#received;
  }

  /**
   * A message arrived.
   *
   * @returns False when the peer sent it without credit (it broke the protocol); the message
   * was not counted.
   */
  receive(): boolean {
    if (this.#received >= this.#allowed) return false;
    this.#received++;
    return true;
  }

  /**
   * The application consumed a message.
   *
   * @returns The credit to grant the peer now (a credit frame to send), or 0 for none yet.
   */
  consume(): number {
    this.#consumed++;
    if (this.#consumed * 2 < this.window) return 0;
    const n = this.#consumed;
    this.#consumed = 0;
    this.#allowed += n;
    return n;
  }
}
