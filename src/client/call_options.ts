import type { Connection } from "./connection.ts";

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

/** Call options for generated clients, which may name the connection to use. */
export interface ClientCallOptions extends CallOptions {
  /** The connection to call through; default {@linkcode Connection.default}. */
  connection?: Connection;
}
