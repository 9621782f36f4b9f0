import type { DependencyMap } from "../schema/dependency.ts";
import type { Middleware } from "../schema/middleware.ts";
import type { MethodDefinition } from "../schema/service.ts";
import type { RpcError } from "../protocol/rpc_error.ts";

/**
 * The neutral shape of a call, between a transport and the pipeline. A transport turns bytes into
 * an {@linkcode IncomingCall} and implements a {@linkcode CallSink}; everything else (validation,
 * the handler, errors, cancellation, deadlines) happens in the pipeline, the same for every
 * transport.
 */

/** A method as registered in an app, with the service it belongs to. */
export interface MethodEntry {
  /** The service's name. */
  readonly service: string;
  /** The service's version. */
  readonly version: number | undefined;
  /** The method. */
  readonly method: MethodDefinition;
  /** Deprecation of the method or, failing that, of its service. */
  readonly deprecated: boolean | string;
  /** The service's middleware (the live list: `service.use()` adds to it). */
  readonly serviceMiddleware: readonly Middleware[];
  /** The service's dependencies. */
  readonly serviceDeps: Readonly<DependencyMap>;
  /** True when the service or the method declares dependencies. */
  readonly declaresDeps: boolean;
}

/**
 * Messages from the peer, decoded but not yet validated. `next()` is called only when the handler
 * wants another message, so a transport that reads lazily gets backpressure for free.
 */
export interface MessageSource {
  /**
   * Reads the next message.
   *
   * @returns The message, or `done` when the peer has sent everything.
   * @throws {RpcError} When the input is malformed, oversize, or the peer went away.
   */
  next(): Promise<IteratorResult<unknown, undefined>>;
  /** Stops reading; the rest of the input is discarded. */
  cancel(): void;
}

/** A call as a transport hands it to the pipeline. */
export interface IncomingCall {
  /** The method being called. */
  readonly entry: MethodEntry;
  /** `"http"`, `"websocket"`, `"memory"`. */
  readonly transport: string;
  /** Request metadata. */
  readonly metadata: Headers;
  /**
   * The client's timeout, in milliseconds, as `readTimeout()` (src/protocol/timeout.ts) reads it:
   * at most `MAX_TIMEOUT_MS`.
   */
  readonly timeoutMs: number | undefined;
  /**
   * Aborts when the peer cancels or disconnects. If its reason is an RpcError, the call ends with
   * that error (a transport uses this for a call that broke the protocol); otherwise it ends as
   * `cancelled`.
   */
  readonly signal: AbortSignal | undefined;
  /**
   * For a disconnect that is costly to watch (on Deno, listening on `request.signal` has a price
   * on every request): called once, only if the handler reads `ctx.signal`, to start watching;
   * the transport calls `abort` if the peer goes away. A handler that never looks at its signal
   * cannot act on a disconnect anyway.
   */
  readonly watchPeer?: (abort: () => void) => void;
  /** The messages the client sends: exactly one (or none) for unary and server streaming. */
  readonly messages: MessageSource;
}

/** Where the pipeline sends the response. Calls come in order: open, send*, close. */
export interface CallSink {
  /**
   * The response headers are final. Called once, before the first message or the close.
   *
   * @param headers The response headers (do not keep a reference past the call).
   */
  open(headers: Headers): void;
  /**
   * Sends one validated message.
   *
   * @param message The message.
   * @returns undefined when more can be sent at once, or a promise that resolves when the
   * transport can take more (backpressure).
   */
  send(message: unknown): Promise<void> | undefined;
  /**
   * Ends the call with its final status.
   *
   * @param error The error, or undefined for `ok`.
   * @param trailers The trailers.
   */
  close(error: RpcError | undefined, trailers: Headers): void;
}
