/**
 * Middleware that must not compile, checked by tests/schema/middleware_types_test.ts: `deno check`
 * on this file must fail with exactly the errors marked `// error` below, and no others. (The
 * `.mts` extension keeps it out of `deno task check`, which checks `tests/**\/*.ts`.)
 */
import type { Middleware } from "../../../mod.ts";

// Return next()'s promise, await it, or refuse the call by throwing: all fine.
const _returns: Middleware = (_ctx, next) => next();
const _awaits: Middleware = async (_ctx, next) => {
  await next();
};
const _refuses: Middleware = () => {
  throw new Error("refused");
};

// A middleware that does not return next()'s promise would end the call before it is over.
const _voided: Middleware = (_ctx, next) => { // error
  void next();
};
const _dropped: Middleware = (_ctx, next) => { // error
  next();
};

export {};
