import { InboundCredit, OutboundCredit } from "../protocol/credit.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { recordToHeaders } from "../protocol/stream_lines.ts";
import type { CallControl } from "./call_control.ts";
import type { CallOptions } from "./call_options.ts";
import { ClientCallState } from "./call_state.ts";
import type { ClientFrame } from "../protocol/ws_frames.ts";
import type { CallFrame, LinkedCall, OpenFields } from "./ws_link.ts";

/**
 * What a call needs of the connection it runs on: a `WebSocketLink` (ws_link.ts: every call of a
 * socket), or one call's link over another transport that speaks the same frames (NATS).
 */
export interface CallLink {
  /** `window`: messages the call may send before its first credit frame. */
  readonly hello: { readonly window: number };
  /**
   * Registers a call and sends its open frame.
   *
   * @param call Where the call's frames go.
   * @param open The open frame's fields.
   * @returns The call's id.
   */
  start(call: LinkedCall, open: OpenFields): number;
  /**
   * Sends a frame of the call.
   *
   * @param frame The frame.
   */
  send(frame: ClientFrame): void;
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
  /** Messages of this call the client buffers unread (sent as the open frame's `window`). */
  window: number;
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
  #outbound = new OutboundCredit(0);
  #inbound: InboundCredit;

  /**
   * Creates the call; nothing is sent until {@linkcode WebSocketClientCall.attach}.
   *
   * @param init The open frame, window, control, options, and what to do at the end.
   */
  constructor(init: WebSocketClientCallInit) {
    super({ control: init.control, options: init.options, streamedInput: !("input" in init.open) });
    this.#init = init;
    this.#inbound = new InboundCredit(init.window);
    this.watchSignal();
  }

  /**
   * Starts the call once the connection is there: sends its open frame.
   *
   * @param link The connection, when it is open.
   */
  attach(link: Promise<CallLink>): void {
    const ready = link.then((l) => {
      if (this.failure) throw this.failure;
      this.#link = l;
      this.#outbound.grant(l.hello.window);
      const timeout = this.control.timeoutMs;
      this.#id = l.start(this, {
        ...this.#init.open,
        ...(timeout === undefined ? {} : { timeout_ms: timeout }),
      });
    });
    ready.catch((error) => this.onFailure(RpcError.from(error)));
    this.#tail = ready;
  }

  // ---- from the link ----

  frame(frame: CallFrame): void {
    switch (frame.type) {
      case "headers":
        return this.onHeaders(recordToHeaders(frame.metadata));
      case "message":
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
      for (;;) {
        this.assertOpen();
        if (this.#outbound.take()) break;
        await this.#outbound.ready();
      }
      this.#link!.send({
        type: "message",
        id: this.#id,
        data: message === undefined ? null : message,
      });
    });
    this.#tail = step.catch(() => {});
    return step;
  }

  protected writeEnd(): void {
    this.#tail = this.#tail.then(() => {
      if (!this.failure && !this.finished) this.#link!.send({ type: "half_close", id: this.#id });
    });
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

  protected override release(): void {
    this.#outbound.release();
    this.#init.done(this);
  }
}
