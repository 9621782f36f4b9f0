/**
 * The middleware signature: `(ctx, next) => Promise<Outcome> | Outcome`, where `ctx` is the
 * call's `MiddlewareContext` (a handler's `Context` plus `provide()`) and `next()` runs the rest of
 * the call and resolves with its `Outcome`, which the middleware must return. One file per
 * behaviour: a new rule for middleware is a new file here (compiles) or in tests/types/fail/
 * (must not).
 */
import {
  type Context,
  MicroAPI,
  type Middleware,
  type MiddlewareContext,
  type Next,
  type Outcome,
  RpcError,
  Service,
} from "../../../mod.ts";
import { assertType, type IsExact } from "../_assert.ts";

assertType<IsExact<Parameters<Middleware>, [ctx: MiddlewareContext, next: Next]>>();
assertType<IsExact<ReturnType<Middleware>, Promise<Outcome> | Outcome>>();
assertType<IsExact<Next, () => Promise<Outcome>>>();
// The middleware's context is the handler's, plus provide().
assertType<IsExact<Omit<MiddlewareContext, "provide">, Omit<Context, never>>>();

// Code after the rest of the call: return the outcome from inside try.
const timing: Middleware = async (ctx, next) => {
  const started = performance.now();
  try {
    const outcome = await next();
    assertType<IsExact<typeof outcome, Outcome>>();
    assertType<IsExact<typeof outcome.output, unknown>>();
    assertType<IsExact<typeof outcome.sent, number>>();
    return outcome;
  } finally {
    ctx.trailers.set("x-duration-ms", String(performance.now() - started));
  }
};

// A middleware may refuse a call without calling next().
const auth: Middleware = (ctx, next) => {
  if (!ctx.metadata.has("authorization")) throw new RpcError("unauthenticated", "log in first");
  return next();
};

// Returning next()'s promise.
const passThrough: Middleware = (_ctx, next) => next();

// Translating an error: rethrow another, return nothing else.
const translate: Middleware = async (_ctx, next) => {
  try {
    return await next();
  } catch (error) {
    throw RpcError.is(error) && error.code === "not_found"
      ? new RpcError("permission_denied", "hidden")
      : error;
  }
};

// @ts-expect-error next() takes no arguments
const withArgument: Middleware = (ctx, next) => next(ctx);

// @ts-expect-error an outcome cannot be forged: only next() makes one
const forged: Middleware = () => Promise.resolve({ output: {}, sent: 1 });

// The three places middleware goes.
const service = new Service("s", { middleware: [auth] }).use(timing).method(
  "m",
  { middleware: [passThrough, translate] },
  // Handlers see a Context: provide() is for middleware.
  // @ts-expect-error Property 'provide' does not exist on type 'Context'
  (_input, ctx) => void ctx.provide,
);
new MicroAPI({ services: [service], middleware: [timing] }).use(auth);
void withArgument;
void forged;
