import { Queue } from "../_util/queue.ts";
import { InboundCredit, OutboundCredit } from "../protocol/credit.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { headersToRecord } from "../protocol/stream_lines.ts";
import { encodeFrame, type ServerFrame } from "../protocol/ws_frames.ts";
import type { AdmittedCall, CallSink, MessageSource } from "./call.ts";
import { EMPTY_HEADERS } from "./call_context.ts";

const DONE: IteratorResult<unknown, undefined> = { done: true, value: undefined };

/**
 * One call on a WebSocket, seen from the server: the pipeline reads the client's messages from it
 * (a {@linkcode MessageSource}) and writes the response into it (a {@linkcode CallSink}).
 *
 * Flow control, both directions, in messages and in bytes (the accounting is
 * src/protocol/credit.ts; a message's size is the length of its frame's text, measured where the
 * frame is encoded or split from its WebSocket message anyway):
 * - Inbound: the client may send `window` messages, adding up to `window_bytes` (the hello's),
 *   before its first credit. As the handler takes messages, credit is returned in batches of half
 *   a window, so the queue here never holds more than a window (plus the message that crossed the
 *   byte window); a client that sends beyond its credit fails the call.
 * - Outbound: the client's `open` says how much it will buffer (within the server's maximum); each
 *   sent message uses its credit, and with none left `send()` returns a promise that resolves when
 *   the client grants more. A slow reader therefore pauses the handler inside `yield`.
 * - The socket: while it is full (the client reads slower than the server writes, whatever the
 *   credit), `send()` also waits, until the socket drains (see WebSocketSession).
 */
export class WebSocketServerCall implements MessageSource, CallSink {
  /** The call id, chosen by the client. */
  readonly id: number;
  #admitted: AdmittedCall | undefined;
  #cancelled: { reason: unknown } | undefined;
  #peer: { abort(reason?: unknown): void } | undefined;
  #send: (frame: ServerFrame) => void;
  #sendText: (text: string) => void;
  #creditsEvery: number | undefined;
  #ready: () => Promise<void> | undefined;
  #onEnded: () => void;
  #queue = new Queue<unknown>();
  #halfClosed = false;
  #waiter: PromiseWithResolvers<IteratorResult<unknown, undefined>> | undefined;
  #inbound: InboundCredit;
  #outbound: OutboundCredit;
  #ended = false;

  /**
   * Creates the call's state.
   *
   * @param id The call id.
   * @param options How to send frames (`sendText` for one encoded already), whether the socket
   * can take more now (undefined, or a promise for when it can), the two windows, what to do at
   * the end, and for calls whose input is not streamed, the input from the open frame (`value`
   * undefined for none). `outbound.creditsEvery`, for a client that counts credit in messages only
   * (protocol 1): how many messages it consumes before it returns credit.
   */
  constructor(id: number, options: {
    send: (frame: ServerFrame) => void;
    sendText: (text: string) => void;
    ready?: () => Promise<void> | undefined;
    inbound: { messages: number; bytes?: number };
    outbound: { messages: number; bytes?: number; creditsEvery?: number };
    input?: { value: unknown };
    onEnded: () => void;
  }) {
    this.id = id;
    this.#send = options.send;
    this.#sendText = options.sendText;
    this.#ready = options.ready ?? (() => undefined);
    this.#onEnded = options.onEnded;
    this.#inbound = new InboundCredit(options.inbound.messages, { bytes: options.inbound.bytes });
    this.#outbound = new OutboundCredit(options.outbound.messages, {
      bytes: options.outbound.bytes,
    });
    this.#creditsEvery = options.outbound.creditsEvery;
    if (options.input) {
      // Unary and server streaming: the one input came with the open frame; nothing follows.
      if (options.input.value !== undefined) this.#queue.push(options.input.value);
      this.#halfClosed = true;
    }
  }

  /**
   * Ends the call from the transport's side (cancel, protocol error, socket closed): `abort()` with
   * an RpcError ends it with that error, with anything else as `cancelled` (AdmittedCall.cancel:
   * no AbortSignal per call, and this handle is made only for a call that is ended this way).
   */
  get peer(): { abort(reason?: unknown): void } {
    return this.#peer ??= {
      abort: (reason) => {
        if (this.#admitted) this.#admitted.cancel(reason);
        else this.#cancelled ??= { reason };
      },
    };
  }

  /**
   * Runs the call through the pipeline, with this call as its messages and its sink.
   *
   * @param admitted What admission let in.
   * @param through The messages and sink the pipeline sees, when a wrapper stands in front of
   *   this call (a NATS call); this call by default.
   * @returns When the call has ended.
   */
  run(admitted: AdmittedCall, through: MessageSource & CallSink = this): Promise<void> {
    this.#admitted = admitted;
    if (this.#cancelled) admitted.cancel(this.#cancelled.reason);
    return admitted.run(through, through);
  }

  /** True once the final status has been sent. */
  get ended(): boolean {
    return this.#ended;
  }

  /** How many messages the client has sent on this call so far (the next one's index). */
  get received(): number {
    return this.#inbound.received;
  }

  // ---- frames from the client ----

  /**
   * A message frame arrived.
   *
   * @param data The message.
   * @param size The length of its frame's text.
   */
  onMessage(data: unknown, size: number): void {
    if (this.#ended) return;
    if (this.#halfClosed) {
      return this.#violation("invalid_argument", "A message arrived after half_close");
    }
    if (!this.#inbound.receive(size)) {
      const { window, windowBytes } = this.#inbound;
      return this.#violation(
        "resource_exhausted",
        `The client sent more than its credit allows (window ${window} messages, ` +
          `${windowBytes} bytes)`,
      );
    }
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      this.#taken();
      waiter.resolve({ done: false, value: data });
    } else {
      this.#queue.push(data);
    }
  }

  /** The client has sent its last message. */
  onHalfClose(): void {
    if (this.#ended || this.#halfClosed) return;
    this.#halfClosed = true;
    this.#waiter?.resolve(DONE);
    this.#waiter = undefined;
  }

  /**
   * The client grants credit.
   *
   * @param n How many more messages may be sent.
   */
  onCredit(n: number): void {
    this.#outbound.grant(n);
  }

  /**
   * Fails the call because of something the client did wrong on it.
   *
   * @param code The status.
   * @param message What was wrong.
   */
  #violation(code: "invalid_argument" | "resource_exhausted", message: string): void {
    this.peer.abort(new RpcError(code, message));
  }

  // ---- MessageSource: what the pipeline reads ----

  next(): Promise<IteratorResult<unknown, undefined>> {
    if (this.#queue.size > 0) {
      const value = this.#queue.take();
      this.#taken();
      return Promise.resolve({ done: false, value });
    }
    if (this.#halfClosed || this.#ended) return Promise.resolve(DONE);
    this.#waiter = Promise.withResolvers();
    return this.#waiter.promise;
  }

  cancel(): void {
    this.#queue.clear();
    this.#waiter?.resolve(DONE);
    this.#waiter = undefined;
  }

  /** The handler took a message: return credit in batches of half a window. */
  #taken(): void {
    if (this.#halfClosed) return;
    const n = this.#inbound.consume();
    if (n > 0) this.#send({ type: "credit", id: this.id, n });
  }

  // ---- CallSink: what the pipeline writes ----

  open(headers: Headers): void {
    const metadata = headers === EMPTY_HEADERS ? undefined : headersToRecord(headers);
    if (metadata) this.#send({ type: "headers", id: this.id, metadata });
  }

  send(message: unknown): Promise<void> | undefined {
    if (this.#ended) return undefined;
    return this.#offer(encodeFrame({ type: "message", id: this.id, data: message }));
  }

  /** Sends an encoded message frame once its credit allows. */
  #offer(text: string): Promise<void> | undefined {
    if (this.#ended) return undefined;
    const full = this.#ready();
    if (full) return full.then(() => this.#offer(text));
    if (this.#outbound.take(text.length)) {
      this.#sendText(text);
      return undefined;
    }
    const every = this.#creditsEvery;
    if (every !== undefined && this.#outbound.outstanding < every) {
      // A client that counts credit in messages only returns it after `every` messages, which
      // the window stops short of: waiting would hang the call.
      this.#violation(
        "resource_exhausted",
        `The server may send ${this.#outbound.outstanding} messages of this call (its window, ` +
          `in messages and bytes) before the client returns credit, but the client returns it ` +
          `only every ${every} messages: it counts credit in messages only (protocol 1, no ` +
          `"window_bytes" in its open frame). Update the client, or ask for a smaller window`,
      );
      return undefined;
    }
    return this.#outbound.ready().then(() => this.#offer(text));
  }

  close(error: RpcError | undefined, trailers: Headers): void {
    if (this.#ended) return;
    this.#ended = true;
    const record = trailers === EMPTY_HEADERS ? undefined : headersToRecord(trailers);
    this.#send(
      !error && !record ? { type: "end", id: this.id, code: "ok" } : {
        type: "end",
        id: this.id,
        ...(error ? error.toBody() : { code: "ok" }),
        ...(record ? { trailers: record } : {}),
      },
    );
    this.#outbound.release();
    this.#onEnded();
  }
}
