import { Connection } from "./connection.ts";

/** Per-call options, accepted by every call on every transport. */
export interface CallOptions {
  /** Cancels the call: the client stops, and the server's handler sees its signal abort. */
  signal?: AbortSignal;
  /**
   * The deadline, in milliseconds from now. The server's handler sees it as `ctx.deadline`; when it
   * passes, the call fails with `deadline_exceeded` on both sides.
   */
  timeoutMs?: number;
  /** Request metadata (sent as headers), added to the connection's. */
  metadata?: HeadersInit;
  /** Receives the response headers when they arrive. */
  onHeaders?: (headers: Headers) => void;
  /** Receives the trailers when the call ends (also when it fails). */
  onTrailers?: (trailers: Headers) => void;
}

/**
 * The options every function and class of a generated client takes: `signal`, `timeoutMs`,
 * `metadata`, `onHeaders` and `onTrailers` (see {@linkcode CallOptions}), and the `connection` to
 * call through. Without `connection` a call uses {@linkcode Connection.default}, and fails with
 * "No default connection" when none is set (a unary call rejects, it does not throw).
 */
export interface ClientCallOptions extends CallOptions {
  /** The connection to call through; default {@linkcode Connection.default}. */
  connection?: Connection;
}

/**
 * The connection a call with these options goes through: `options.connection`, else
 * {@linkcode Connection.default}. Generated clients call this; the lookup happens at call time, so
 * a default set after the client was imported is used.
 *
 * @param options The call's options, if any.
 * @returns The connection to call through.
 * @throws {Error} When the options name no connection and there is no default.
 */
export function connectionOf(options: ClientCallOptions | undefined): Connection {
  return options?.connection ?? Connection.default;
}
