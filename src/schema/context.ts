import type { Dependency } from "./dependency.ts";
import type { Pattern } from "./pattern.ts";

/**
 * The app's shared state, typed by augmenting this interface from your code:
 *
 * ```ts ignore
 * // Not run by `deno test --doc`, which wraps examples in a function: augmentation is top level.
 * declare module "@microapi/core" {
 *   interface AppState {
 *     db: Database;
 *   }
 * }
 * ```
 *
 * Fill it in the app's `lifespan` (or `state` option); handlers, middleware and dependencies read
 * it as `ctx.state`.
 */
// deno-lint-ignore no-empty-interface
export interface AppState {}

/**
 * What a handler knows about its call. The same object on every transport.
 *
 * Response headers can be changed until the first message is sent (for unary calls: until the
 * handler returns); after that they are on the wire and changing them throws a TypeError. Trailers
 * can be changed until the call ends.
 */
export interface Context {
  /** The service's name. */
  readonly service: string;
  /** The method's name. */
  readonly method: string;
  /** The service version, or undefined for an unversioned service. */
  readonly version: number | undefined;
  /** The call's pattern. */
  readonly pattern: Pattern;
  /** The transport the call came over: `"http"`, `"websocket"` or `"memory"`. */
  readonly transport: string;
  /**
   * Aborts when the call is over for the handler: the client cancelled or disconnected, the
   * deadline passed, or the server is shutting down. `signal.reason` is an RpcError saying which.
   * Pass it to anything long-running (`fetch(url, { signal: ctx.signal })`).
   */
  readonly signal: AbortSignal;
  /** When the call's deadline passes, in milliseconds since the epoch; undefined for none. */
  readonly deadline: number | undefined;
  /** The request metadata (for HTTP: the request headers). */
  readonly metadata: Headers;
  /** Response headers, sent before the first message. */
  readonly responseHeaders: Headers;
  /** Trailers, sent with the final status. */
  readonly trailers: Headers;
  /** The app's shared state. */
  readonly state: AppState;
  /**
   * The value of a dependency for this call: made on first use, then shared by everything in the
   * call that asks for it.
   *
   * @param dependency The dependency.
   * @returns Its value.
   * @throws {RpcError} Whatever the dependency threw, or `internal` for a circular dependency.
   */
  get<T>(dependency: Dependency<T>): Promise<T>;
  /** The values of the dependencies the method declared in `deps`, resolved before it ran. */
  readonly deps: Readonly<Record<string, unknown>>;
}
