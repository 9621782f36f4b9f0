import type { Context } from "./context.ts";
import type { Dependency } from "./dependency.ts";

/**
 * Brands the outcome of a call. The public entry exports it as a type only, so code outside the
 * library cannot write an object that passes for an {@linkcode Outcome}.
 */
export const OUTCOME: unique symbol = Symbol("microapi.outcome");

/**
 * What `next()` resolves to: the outcome of the rest of the call, which a middleware returns. Only
 * `next()` makes one, so a middleware that lets the call through must return what `next()` gave
 * it (`return next()`, or `return await next()` inside `try`).
 */
export interface Outcome {
  /** The brand: an object literal is not an outcome. */
  readonly [OUTCOME]: true;
  /**
   * Unary and client streaming: the response message, validated against the output schema
   * (`null` for a method without output). Server and bidi streaming: undefined.
   */
  readonly output: unknown;
  /**
   * How many messages the call sends: 1 for unary and client streaming (sent once the middleware
   * is done), the number sent for server and bidi streaming.
   */
  readonly sent: number;
}

/**
 * Makes the outcome of a call. For the pipeline (src/server/pipeline.ts): a middleware that
 * resolves with an outcome made here rather than the one its `next()` gave still fails the call.
 *
 * @param output The response message (unary, client streaming) or undefined (streams).
 * @param sent How many messages the call sends.
 * @returns The outcome.
 */
export function createOutcome(output: unknown, sent: number): Outcome {
  return { [OUTCOME]: true, output, sent };
}

/** Runs the rest of the call: the inner middleware, the dependencies, the handler. */
export type Next = () => Promise<Outcome>;

/**
 * What a middleware knows about its call: the handler's {@linkcode Context}, plus
 * {@linkcode MiddlewareContext.provide} to hand typed values to the handler and dependencies.
 */
export interface MiddlewareContext extends Context {
  /**
   * Sets the value a dependency has in this call, so its resolver does not run (nor an
   * `app.override()` of it): handlers read it as `ctx.deps.<name>` (declared in `deps`) or
   * `await ctx.get(dependency)`, and other dependencies with `ctx.get(dependency)`, typed as the
   * dependency's. Call it before `next()`. A dependency that only middleware should provide
   * (the signed-in user, say) is declared with a resolver that throws.
   *
   * @param dependency The dependency.
   * @param value Its value for this call.
   * @throws {TypeError} When the dependency already has a value in this call (provided, or
   * resolved), or the call has passed its middleware (the handler is running).
   */
  provide<T>(dependency: Dependency<T>, value: NoInfer<T>): void;
}

/**
 * Code that wraps calls, in onion order: app middleware outermost, then the service's, then the
 * method's, each list in the order given; the handler is at the centre.
 *
 * A middleware runs before the request message is read, so it can refuse a call cheaply: throw an
 * RpcError (`unauthenticated`, `resource_exhausted`...) instead of calling `next()`. To let the
 * call through it returns what `next()` gives: `return next()`, or `return await next()` to run
 * code after the rest of the call (in `finally`, to run it however the call ends). `next()`
 * resolves when the call is over (for a stream, after its last message) with the call's
 * {@linkcode Outcome}, in which a unary or client-streaming middleware sees the response; it
 * rejects with the RpcError the call ends with, including `cancelled` and `deadline_exceeded`.
 *
 * The type requires returning the outcome, so neither `(ctx, next) => { void next(); }` nor
 * `async (ctx, next) => { await next(); }` compiles; at run time, a middleware that resolves with
 * anything but the outcome its `next()` gave (plain JavaScript, a cast) ends the call with
 * `internal`, reported to `onError`.
 *
 * Response headers can be set until the first response message is ready: before `next()`, or in
 * the handler; once `next()` has resolved they have been sent, for every pattern. Trailers can be
 * set until the outermost middleware is done. Values for the handler go through dependencies:
 * {@linkcode MiddlewareContext.provide}.
 *
 * @example
 * ```ts
 * import type { Middleware } from "../../mod.ts";
 * const timing: Middleware = async (ctx, next) => {
 *   const started = performance.now();
 *   try {
 *     return await next();
 *   } finally {
 *     ctx.trailers.set("x-duration-ms", (performance.now() - started).toFixed(1));
 *   }
 * };
 * ```
 */
export type Middleware = (
  ctx: MiddlewareContext,
  next: Next,
) => Promise<Outcome> | Outcome;
