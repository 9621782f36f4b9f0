/**
 * The middleware signature today: `(ctx, next) => Promise<void>`, where `ctx` is the call's
 * `Context` and `next()` runs the rest of the call and resolves with nothing. One file per
 * behaviour: a new rule for middleware is a new file here (compiles) or in tests/types/fail/
 * (must not).
 */
import { type Context, MicroAPI, type Middleware, RpcError, Service } from "../../../mod.ts";
import { assertType, type IsExact } from "../_assert.ts";

assertType<IsExact<Parameters<Middleware>, [ctx: Context, next: () => Promise<void>]>>();
assertType<IsExact<ReturnType<Middleware>, Promise<void>>>();

const timing: Middleware = async (ctx, next) => {
  const started = performance.now();
  const outcome = await next();
  assertType<IsExact<typeof outcome, void>>();
  ctx.trailers.set("x-duration-ms", String(performance.now() - started));
};

// A middleware may refuse a call without calling next().
const auth: Middleware = (ctx, next) => {
  if (!ctx.metadata.has("authorization")) throw new RpcError("unauthenticated", "log in first");
  return next();
};

// Returning next()'s promise.
const passThrough: Middleware = (_ctx, next) => next();

// @ts-expect-error next() takes no arguments
const withArgument: Middleware = (ctx, next) => next(ctx);

// The three places middleware goes.
const service = new Service("s", { middleware: [auth] }).use(timing).method(
  "m",
  { middleware: [passThrough] },
  () => {},
);
new MicroAPI({ services: [service], middleware: [timing] }).use(auth);
void withArgument;
