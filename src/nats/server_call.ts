import type { RpcError } from "../protocol/rpc_error.ts";
import type { ClientFrame, ServerFrame } from "../protocol/ws_frames.ts";
import type { AdmittedCall, CallSink, MessageSource } from "../server/call.ts";
import { WebSocketServerCall } from "../server/ws_call.ts";
import { FrameIn, type FrameOut } from "./wire.ts";

/** What a NATS server call is made of. */
export interface NatsServerCallInit {
  /** The call's outgoing frames, to the client's subject. */
  readonly out: FrameOut;
  /** Messages the client may send before it gets more credit. */
  readonly inboundWindow: number;
  /** Messages the client buffers (its open frame's `window`). */
  readonly outboundWindow: number;
  /** For calls whose input is not streamed: the one input (`value` undefined for none). */
  readonly input?: { value: unknown };
  /** The client's heartbeat interval. */
  readonly heartbeatMs: number;
  /** Called once when the final status has gone out. */
  readonly onEnded: (error: RpcError | undefined) => void;
}

/**
 * One call over NATS, seen from the server: the WebSocket protocol's per-call state (its credit
 * in both directions, its input queue and half-close rules: {@linkcode WebSocketServerCall}), on
 * NATS subjects instead of a socket. What NATS adds is here: frames are numbered and checked
 * (src/nats/wire.ts), the client's heartbeats are watched, and a message NATS would refuse (over
 * `max_payload`) fails the call with `resource_exhausted` instead of vanishing.
 */
export class NatsServerCall implements MessageSource, CallSink {
  /** The frames and credit of the call. */
  readonly frames: WebSocketServerCall;
  /** Outgoing frames. */
  readonly out: FrameOut;
  /** Incoming frames: sequence numbers from 2 (the open frame was 1), and the last heard. */
  readonly in: FrameIn = new FrameIn(2);
  /** The client's heartbeat interval. */
  readonly heartbeatMs: number;
  #oversize: RpcError | undefined;
  #onEnded: (error: RpcError | undefined) => void;

  /**
   * Creates the call.
   *
   * @param init Frames out, windows, input, heartbeat, end.
   */
  constructor(init: NatsServerCallInit) {
    this.out = init.out;
    this.heartbeatMs = init.heartbeatMs;
    this.#onEnded = init.onEnded;
    this.frames = new WebSocketServerCall(0, {
      send: (frame) => this.#emit(frame),
      sendText: (text) => this.#emitText(text),
      // Credit counts messages only over NATS (docs/scale-out.md): each is bounded by max_payload.
      inbound: { messages: init.inboundWindow },
      outbound: { messages: init.outboundWindow },
      input: init.input,
      onEnded: () => {},
    });
  }

  /** Ends the call when the client cancels, goes away, or breaks the protocol. */
  get peer(): { abort(reason?: unknown): void } {
    return this.frames.peer;
  }

  /**
   * Runs the call through the pipeline, with this call as its messages and sink.
   *
   * @param admitted What admission let in.
   * @returns When the call has ended.
   */
  run(admitted: AdmittedCall): Promise<void> {
    return this.frames.run(admitted, this);
  }

  /**
   * A frame from the client, in order (the sequence was checked).
   *
   * @param frame The frame.
   */
  receive(frame: Exclude<ClientFrame, { type: "open" | "ping" | "pong" }>): void {
    switch (frame.type) {
      case "message":
        return this.frames.onMessage(frame.data, 0);
      case "half_close":
        return this.frames.onHalfClose();
      case "cancel":
        return this.frames.peer.abort();
      case "credit":
        return this.frames.onCredit(frame.n);
    }
  }

  // ---- MessageSource ----

  next(): Promise<IteratorResult<unknown, undefined>> {
    return this.frames.next();
  }

  cancel(): void {
    this.frames.cancel();
  }

  // ---- CallSink ----

  open(headers: Headers): void {
    this.frames.open(headers);
  }

  send(message: unknown): Promise<void> | undefined {
    const accepted = this.frames.send(message);
    // An output over max_payload fails the call; the pipeline ends it with this error.
    if (this.#oversize) return Promise.reject(this.#oversize);
    return accepted;
  }

  close(error: RpcError | undefined, trailers: Headers): void {
    if (this.frames.ended) return;
    const status = error ?? this.#oversize;
    this.frames.close(status, trailers);
    // The last frames of a call go out now, not at the end of the turn.
    this.out.flush();
    this.#onEnded(status);
  }

  /** The call is over for this side (the client is gone): nothing more goes out. */
  dispose(): void {
    this.out.close();
  }

  #emitText(text: string): void {
    const problem = this.out.pushText(text, "response message");
    if (!problem) return;
    this.#oversize ??= problem;
    this.frames.peer.abort(problem);
  }

  #emit(frame: ServerFrame): void {
    const problem = this.out.push(frame, "response message");
    if (!problem) return;
    if (frame.type === "end") {
      // An end frame too large to send (huge error details or trailers): the code still goes.
      this.out.push({ type: "end", id: 0, ...problem.toBody() });
      return;
    }
    this.#oversize ??= problem;
    this.frames.peer.abort(problem);
  }
}
