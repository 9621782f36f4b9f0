import type { DependencyMap } from "../schema/dependency.ts";
import type { Middleware } from "../schema/middleware.ts";
import type { Pattern } from "../schema/pattern.ts";
import type { MethodDefinition } from "../schema/service.ts";
import type { Route } from "../protocol/route.ts";
import type { RpcError } from "../protocol/rpc_error.ts";

/**
 * The neutral shape of a call, between a transport and the app. A transport turns bytes into an
 * {@linkcode IncomingCall} for admission, and the admitted call's messages into a
 * {@linkcode MessageSource}, and implements a {@linkcode CallSink}; everything else (lookup,
 * draining, timeouts, validation, the handler, errors, cancellation, deadlines) happens in
 * admission and the pipeline, the same for every transport.
 *
 * Unstable: these are for transport authors, and may change between minor versions.
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

/**
 * A call as a transport announces it to admission, before any message is read: what it is for
 * and how it was asked for, as the wire says. Admission ({@linkcode AdmittedCall}, from
 * `app.admission.admit()`) checks it and answers with the call to run, or the error to answer with.
 */
export interface IncomingCall {
  /**
   * The method: a route, or its path (`/users/get_user`, `/v2/users/get_user`, without the app's
   * base path).
   */
  readonly route: Route | string;
  /**
   * The pattern the client calls the method with, when the wire says (a call with another
   * pattern than the method's fails with `unimplemented`); undefined for not checked.
   */
  readonly pattern?: Pattern | undefined;
  /** `"http"`, `"websocket"`, `"memory"`: what handlers read as `ctx.transport`. */
  readonly transport: string;
  /**
   * Request metadata: Headers, or the record a frame carries (made into Headers only when the
   * call reads them), or undefined for none.
   */
  readonly metadata: Headers | Record<string, string> | undefined;
  /**
   * The client's timeout as the wire carries it, unchecked: the header's text, or a frame's
   * value; undefined or null for none. Admission reads it with `readTimeout()`
   * (src/protocol/timeout.ts), the same check and cap for every transport.
   */
  readonly timeout?: unknown;
  /** What form `timeout` has: `"header"` (digits as text) or `"frame"` (a JSON number). */
  readonly timeoutSource?: "header" | "frame";
  /** What to call the timeout in an error message; default MicroAPI's name for the source. */
  readonly timeoutName?: string;
}

/** How a transport runs an admitted call, besides its messages and sink. */
export interface RunOptions {
  /**
   * Aborts when the peer cancels or disconnects. If its reason is an RpcError, the call ends with
   * that error (a transport uses this for a call that broke the protocol); otherwise it ends as
   * `cancelled`.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * For a disconnect that is costly to watch (on Deno, listening on `request.signal` has a price
   * on every request): called once, only if the handler reads `ctx.signal`, to start watching;
   * the transport calls `abort` if the peer goes away. A handler that never looks at its signal
   * cannot act on a disconnect anyway.
   */
  readonly watchPeer?: ((abort: () => void) => void) | undefined;
}

/**
 * A call that admission let in: the method it is for, and how to run it. A transport reads what
 * it needs to decode the input (the method's pattern and input schema: the HTTP transport picks
 * the body format from them), then calls {@linkcode AdmittedCall.run} once. A call that is never
 * run (the transport refused it after all, say for its content type) needs no release.
 */
export interface AdmittedCall {
  /** The method being called. */
  readonly entry: MethodEntry;
  /** The client's timeout in milliseconds, checked and capped; undefined for none. */
  readonly timeoutMs: number | undefined;
  /**
   * Runs the call through the app's pipeline (middleware, dependencies, validation, the handler,
   * errors, deadlines), exactly as every transport's calls run, and counts it in flight until it
   * has ended (what a graceful shutdown waits for). If shutdown began since admission, the call
   * ends at once with `unavailable`. Never rejects for anything the call does: every outcome ends
   * in `sink.close()`.
   *
   * @param messages The client's messages: exactly one, or none, for unary and server streaming
   * (none means `{}` for a method with an input schema, as an empty HTTP body does).
   * @param sink Where the response goes.
   * @param options The peer's signal, and a costly disconnect watch.
   * @returns When the call has ended and its dependencies are cleaned up.
   * @throws {TypeError} (as a rejection) When the call was run already.
   */
  run(messages: MessageSource, sink: CallSink, options?: RunOptions): Promise<void>;
  /**
   * Ends the call from the transport's side, as aborting `RunOptions.signal` does, without the
   * cost of an AbortSignal per call (a transport that multiplexes calls on a connection ends one
   * on a cancel frame). With an RpcError the call ends with that error (the call broke the
   * protocol); with anything else it ends as `cancelled`. Before `run()`, the call ends as soon as
   * it runs; after the call has ended, it does nothing.
   *
   * @param reason Why.
   */
  cancel(reason?: unknown): void;
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
