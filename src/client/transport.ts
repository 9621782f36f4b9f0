import type { Pattern } from "../schema/pattern.ts";
import type { Route } from "../protocol/route.ts";
import type { CallOptions } from "./call_options.ts";

/**
 * What a client transport provides. The call classes ({@linkcode ClientStream},
 * {@linkcode BidiStream}, ...) are written against this and never see the network, so every
 * transport (HTTP, WebSocket, in-memory) gets every feature.
 */
export interface ClientTransport {
  /**
   * Makes a unary call.
   *
   * @param route The method.
   * @param input The request message.
   * @param options Per-call options.
   * @returns The response message.
   * @throws {RpcError} With the server's code, or `unavailable` / `cancelled` /
   * `deadline_exceeded` from the client side.
   */
  unary(route: Route, input: unknown, options: CallOptions): Promise<unknown>;
  /**
   * Opens a streaming call.
   *
   * @param route The method.
   * @param pattern Server, client or bidi streaming.
   * @param options Per-call options.
   * @param input For server streaming, the one request message.
   * @returns The open call.
   */
  open(route: Route, pattern: Pattern, options: CallOptions, input?: unknown): ClientCall;
  /** Cancels every call in flight and releases the transport's resources. */
  close(): Promise<void>;
}

/** One open call, as seen by the client. */
export interface ClientCall {
  /**
   * Sends one message.
   *
   * @param message The message.
   * @returns Resolves when the transport can take another (backpressure).
   * @throws {RpcError} When the call has failed; {@linkcode StreamClosedError} after `end()`.
   */
  send(message: unknown): Promise<void>;
  /** Says that no more messages will be sent (half-close). */
  end(): void;
  /**
   * Reads the next message from the server.
   *
   * @returns The message, or `done` when the call ended successfully.
   * @throws {RpcError} When the call failed.
   */
  receive(): Promise<IteratorResult<unknown, undefined>>;
  /**
   * Cancels the call; the server's handler sees its signal abort.
   *
   * @param reason Why; default `cancelled`.
   */
  cancel(reason?: unknown): void;
}
