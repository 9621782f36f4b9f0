/**
 * **Unstable.** For authors of transports (a NATS or Connect transport, say), not for
 * applications: these names may change in any release, minor ones included, until 1.0.
 * Applications use `@microapi/core` (define and serve) and `@microapi/core/client` (call).
 *
 * A server-side transport turns its bytes into an {@linkcode IncomingCall} with a
 * {@linkcode MessageSource} of decoded messages, and writes the pipeline's answer from a
 * {@linkcode CallSink}; `app.admission` does the rest: `admit()` finds the method and checks the
 * call, `run()` runs it through the pipeline (docs/architecture.md, "Adding a transport"). A client-side transport implements
 * `ClientTransport`; its calls extend {@linkcode ClientCallState} with their wire part only.
 * Transports that carry many calls over one connection can reuse the WebSocket protocol's frame
 * codec, its credit window ({@linkcode OutboundCredit}, {@linkcode InboundCredit}) and the
 * {@linkcode FrameBatcher}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeServerFrame, encodeFrame, OutboundCredit } from "./mod.ts";
 *
 * const text = encodeFrame({ type: "credit", id: 1, n: 128 });
 * const decoded = decodeServerFrame(text);
 * assert.ok(decoded.ok && decoded.frame.type === "credit");
 * const credit = new OutboundCredit(0);
 * credit.grant(decoded.frame.n);
 * assert.equal(credit.take(), true);
 * ```
 *
 * @module
 */

// ---- Server side: the neutral call between a transport and the pipeline ----

// The one step before the pipeline, shared by every transport: `app.admission`.
export type { Admission } from "../server/admission.ts";
// A call as a transport hands it to `admit()`, and what admit() returns to run it with.
export type { AdmittedCall, IncomingCall, RunOptions } from "../server/call.ts";
// A method as registered in an app: what admission finds.
export type { MethodEntry } from "../server/call.ts";
// The client's messages, decoded but not validated, read as the handler asks for them.
export type { MessageSource } from "../server/call.ts";
// Where the pipeline writes the answer: open, send (with backpressure), close.
export type { CallSink } from "../server/call.ts";
// A wire protocol served next to MicroAPI's own on the app's HTTP handler (MicroAPIOptions
// `protocols`), what the app gives it, and its request handler.
export type { Protocol, ProtocolEnv, ProtocolHandler } from "../server/protocol.ts";
// What a runtime adapter offers a request handler (lifting idle timeouts for streams).
export type { RequestHooks } from "../server/adapters/types.ts";

// ---- Client side: one call's state, the transport adds the wire ----

// The state machine every client call shares; a transport's call extends it.
export { ClientCallState } from "../client/call_state.ts";
// What a ClientCallState is made of.
export type { ClientCallStateInit } from "../client/call_state.ts";
// A unary call as open(), one receive() for the response, one for the end.
export { unaryOverOpen } from "../client/call_state.ts";
// A call's metadata: the connection's with the call's own on top.
export { mergeMetadata } from "../client/call_state.ts";
// One call's cancellation: the caller's signal and the deadline as one signal.
export { CallControl } from "../client/call_control.ts";
// What a client transport provides, and one of its calls.
export type { ClientCall, ClientTransport } from "../client/transport.ts";

// ---- Wire pieces to reuse ----

// Credit-based flow control of one call, sending and receiving halves, in messages and bytes.
export { InboundCredit, OutboundCredit } from "../protocol/credit.ts";
// The byte window of a credit half.
export type { CreditOptions } from "../protocol/credit.ts";
// Joins the frames of one turn into one message.
export { FrameBatcher } from "../protocol/frame_batcher.ts";
// The WebSocket protocol's frame codec (docs/protocol.md, "WebSocket").
export {
  CloseCode,
  decodeClientFrame,
  decodeServerFrame,
  encodeFrame,
  splitFrames,
  WS_PATH,
  WS_PROTOCOL,
} from "../protocol/ws_frames.ts";
// The frames, and what decoding returns.
export type {
  CancelFrame,
  ClientFrame,
  CreditFrame,
  Decoded,
  EndFrame,
  FrameProblem,
  HalfCloseFrame,
  HeadersFrame,
  HelloFrame,
  MessageFrame,
  OpenFrame,
  PingFrame,
  PongFrame,
  ServerFrame,
} from "../protocol/ws_frames.ts";
// A client's timeout as a transport reads it, validated and capped at what a timer can wait.
export { MAX_TIMEOUT_MS, readTimeout } from "../protocol/timeout.ts";
// Where a timeout was read from, for the error message.
export type { TimeoutSource } from "../protocol/timeout.ts";
