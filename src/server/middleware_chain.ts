import type { Middleware, MiddlewareContext, Next, Outcome } from "../schema/middleware.ts";

/**
 * Runs middleware in onion order around the core of a call; each `next()` may be called once and
 * resolves with the call's one {@linkcode Outcome}, which every middleware must resolve with.
 *
 * A middleware that resolves with anything else has ended its part of the call without the rest
 * of it (`(ctx, next) => { void next(); }` in plain JavaScript), dropped the outcome, or swallowed
 * an error; that is a bug, and its level rejects with what `misuse()` makes. The outcome is
 * checked by identity, so neither an object of the right shape nor another call's outcome passes.
 * The promise of every `next()` is observed here, so whatever it rejects with later is never an
 * unhandled rejection, whether or not the middleware looks at it.
 *
 * @param chain The middleware, outermost first (at least one).
 * @param ctx The call's context.
 * @param core Runs the rest of the call; resolves with its outcome.
 * @param misuse Makes (and reports) the error for a middleware that resolved with something else.
 * @returns The outcome, once the outermost middleware resolved with it.
 */
export function runChain(
  chain: readonly Middleware[],
  ctx: MiddlewareContext,
  core: () => Promise<Outcome>,
  misuse: () => Error,
): Promise<Outcome> {
  let outcome: Outcome | undefined;
  const dispatch = (index: number): Promise<Outcome> => {
    if (index === chain.length) return core().then((made) => (outcome = made));
    let called = false;
    const next: Next = () => {
      if (called) return Promise.reject(new TypeError("A middleware called next() twice"));
      called = true;
      const inner = dispatch(index + 1);
      inner.catch(() => {});
      return inner;
    };
    let result: unknown;
    try {
      result = chain[index]!(ctx, next);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(result).then((value) => {
      if (outcome === undefined || value !== outcome) throw misuse();
      return outcome;
    });
  };
  return dispatch(0);
}
