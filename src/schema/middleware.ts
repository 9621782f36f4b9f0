import type { Context } from "./context.ts";

/**
 * Code that wraps calls, in onion order: app middleware outermost, then the service's, then the
 * method's, each list in the order given; the handler is at the centre.
 *
 * A middleware runs before the request message is read, so it can refuse a call cheaply: throw an
 * RpcError (`unauthenticated`, `resource_exhausted`...) instead of calling `next()`.
 * `await next()` runs the rest of the call and settles when the call is over: for a streaming
 * call, after its last message has been sent. It rejects with the RpcError the call ends with,
 * including `cancelled` and `deadline_exceeded`, so a middleware sees the final status of every
 * call. Response headers can be set before `next()` (and, for unary and client-streaming calls,
 * after it too: their response is sent once the middleware is done); trailers until the end.
 *
 * A middleware returns a promise that settles when it is done: `return next()`, or an async
 * function that awaits `next()`. The type requires a promise, so `(ctx, next) => { next(); }`
 * does not compile; at run time, a middleware whose promise settles before the one of `next()`
 * (it did not wait for the rest of the call) ends the call with `internal`.
 *
 * @example
 * ```ts
 * import type { Middleware } from "../../mod.ts";
 * const timing: Middleware = async (ctx, next) => {
 *   const started = performance.now();
 *   try {
 *     await next();
 *   } finally {
 *     ctx.trailers.set("x-duration-ms", (performance.now() - started).toFixed(1));
 *   }
 * };
 * ```
 */
export type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void>;
