import { InboundCredit, OutboundCredit } from "../protocol/credit.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { recordToHeaders } from "../protocol/stream_lines.ts";
import { type ClientFrame, encodeFrame, type HelloFrame } from "../protocol/ws_frames.ts";
import type { CallControl } from "./call_control.ts";
import type { CallOptions } from "./call_options.ts";
import { ClientCallState } from "./call_state.ts";
import type { CallFrame, LinkedCall, OpenFields } from "./ws_link.ts";

/**
 * What a call needs of the connection it runs on: a `WebSocketLink` (ws_link.ts: every call of a
 * socket), or one call's link over another transport that speaks the same frames (NATS).
 */
export interface CallLink {
  /** The server's windows (a `protocol` below 2: credit counts messages only). */
  readonly hello: Pick<
    HelloFrame,
    "protocol" | "window" | "window_bytes" | "max_window" | "max_window_bytes"
  >;
  /**
   * Opens a call, now or when a slot frees: the link asks it for its open frame's fields
   * ({@linkcode LinkedCall.opening}) and tells it its id ({@linkcode LinkedCall.started}).
   *
   * @param call The call.
   */
  open(call: LinkedCall): void;
  /**
   * A call that has ended before it opened leaves the queue of waiting calls.
   *
   * @param call The call.
   */
  leave(call: LinkedCall): void;
  /**
   * Sends a frame of the call.
   *
   * @param frame The frame.
   */
  send(frame: ClientFrame): void;
  /**
   * Sends a message frame encoded already (its length is what it counts against the byte window).
   *
   * @param text The frame's text.
   */
  sendText(text: string): void;
  /**
   * Forgets a call that has ended; its late frames are dropped.
   *
   * @param id The call's id.
   */
  finish(id: number): void;
}

/** What a WebSocket call is made of. */
export interface WebSocketClientCallInit {
  /** The open frame's fields; `input` is there when the input is not streamed. */
  open: OpenFields;
  /**
   * Messages of this call the client buffers unread (the open frame's `window`, within the
   * server's maximum).
   */
  window: number;
  /** What they may add up to, in characters of their frames (the open frame's `window_bytes`). */
  windowBytes: number;
  /** The call's cancellation. */
  control: CallControl;
  /** The caller's options. */
  options: CallOptions;
  /** Called once when the call has ended. */
  done: (call: WebSocketClientCall) => void;
}

/**
 * One call over the WebSocket, seen from the client: the wire part of a
 * {@linkcode ClientCallState}. Sends are chained in order behind the connection and the call's
 * credit (see src/protocol/credit.ts); messages received wait in the state's queue, which the
 * server's credit keeps within the window, and credit goes back as the application reads.
 */
export class WebSocketClientCall extends ClientCallState implements LinkedCall {
  #init: WebSocketClientCallInit;
  #link: CallLink | undefined;
  #id = 0;
  #tail: Promise<void> = Promise.resolve();
  #started = Promise.withResolvers<void>();
  // Set when the call opens, from the server's hello.
  #outbound = new OutboundCredit(0);
  #inbound = new InboundCredit(1);

  /**
   * Creates the call; nothing is sent until {@linkcode WebSocketClientCall.attach}.
   *
   * @param init The open frame, window, control, options, and what to do at the end.
   */
  constructor(init: WebSocketClientCallInit) {
    super({ control: init.control, options: init.options, streamedInput: !("input" in init.open) });
    this.#init = init;
    // Settled when the open frame goes out, or rejected when the call ends first.
    this.#started.promise.catch(() => {});
    this.watchSignal();
  }

  /**
   * Starts the call once the connection is there: sends its open frame, at once or once the
   * server's `max_calls` leave a slot (see {@linkcode WebSocketLink.open}).
   *
   * @param link The connection, when it is open.
   */
  attach(link: Promise<CallLink>): void {
    const ready = link.then((l) => {
      if (this.failure) throw this.failure;
      this.#link = l;
      l.open(this);
      return this.#started.promise;
    });
    ready.catch((error) => this.onFailure(RpcError.from(error)));
    this.#tail = ready;
  }

  // ---- from the link ----

  opening(): OpenFields | undefined {
    if (this.finished) return undefined;
    // A call that waited for a slot gives the server what is left of its deadline.
    const timeout = this.control.remainingMs();
    if (timeout === 0) {
      this.cancel(
        new RpcError(
          "deadline_exceeded",
          `The deadline of ${this.control.timeoutMs} ms expired before the call could start`,
        ),
      );
      return undefined;
    }
    const hello = this.#link!.hello;
    const window = Math.min(this.#init.window, hello.max_window ?? Infinity);
    const timed = timeout === undefined ? {} : { timeout_ms: timeout };
    if (hello.protocol < 2) {
      // A server that counts credit in messages only: so does this call, both ways.
      this.#outbound = new OutboundCredit(hello.window);
      this.#inbound = new InboundCredit(window);
      return { ...this.#init.open, window, ...timed };
    }
    const windowBytes = Math.min(this.#init.windowBytes, hello.max_window_bytes ?? Infinity);
    this.#outbound = new OutboundCredit(hello.window, {
      bytes: hello.window_bytes ?? Infinity,
    });
    this.#inbound = new InboundCredit(window, { bytes: windowBytes });
    return { ...this.#init.open, window, window_bytes: windowBytes, ...timed };
  }

  started(id: number): void {
    this.#id = id;
    this.#started.resolve();
  }

  frame(frame: CallFrame, size: number): void {
    switch (frame.type) {
      case "headers":
        return this.onHeaders(recordToHeaders(frame.metadata));
      case "message":
        if (!this.#inbound.receive(size)) {
          const { window, windowBytes } = this.#inbound;
          return this.cancel(
            new RpcError(
              "resource_exhausted",
              `The server sent more than this call's credit allows (window ${window} messages, ` +
                `${windowBytes} bytes)`,
            ),
          );
        }
        return this.onMessage(frame.data);
      case "credit":
        return this.#outbound.grant(frame.n);
      case "end":
        return this.onEnd(
          frame.code === "ok" ? undefined : RpcError.fromBody(frame),
          recordToHeaders(frame.trailers),
        );
    }
  }

  lost(error: RpcError): void {
    this.onFailure(error);
  }

  // ---- the wire part ----

  protected writeMessage(message: unknown): Promise<void> {
    const step = this.#tail.then(async () => {
      // Encoded once: its length is what it counts against the server's byte window.
      const text = encodeFrame({
        type: "message",
        id: this.#id,
        data: message === undefined ? null : message,
      });
      for (;;) {
        this.assertOpen();
        if (this.#outbound.take(text.length)) break;
        await this.#outbound.ready();
      }
      this.#link!.sendText(text);
    });
    this.#tail = step.catch(() => {});
    return step;
  }

  protected writeEnd(): void {
    // A connection that fails reaches the caller through the call's state, not through this chain.
    this.#tail = this.#tail.then(() => {
      if (!this.failure && !this.finished) this.#link!.send({ type: "half_close", id: this.#id });
    }).catch(() => {});
  }

  protected override writeCancel(): void {
    if (!this.#link || this.#id === 0) return;
    this.#link.send({ type: "cancel", id: this.#id });
    this.#link.finish(this.#id);
  }

  /** The application read a message: return credit in batches of half a window. */
  protected override consumed(): void {
    if (this.finished || !this.#link) return;
    const n = this.#inbound.consume();
    if (n > 0) this.#link.send({ type: "credit", id: this.#id, n });
  }

  protected override release(failure: RpcError | undefined): void {
    this.#outbound.release();
    // A call still waiting for a slot leaves the queue, and whatever waits for its start stops.
    this.#link?.leave(this);
    this.#started.reject(failure ?? new RpcError("cancelled", "The call ended before it started"));
    this.#init.done(this);
  }
}
