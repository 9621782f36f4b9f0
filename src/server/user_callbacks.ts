import type { Context } from "../schema/context.ts";
import { routeLabel } from "../protocol/route.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { errorResponse } from "./http_handler.ts";

/**
 * The app's callbacks that are not part of a call's pipeline (onError, the fallback), made safe to
 * call: whatever they throw, reject or return, the server keeps serving and nothing becomes an
 * unhandled rejection.
 */

/**
 * The default onError: prints the error with the call it happened in.
 *
 * @param error The error.
 * @param ctx The call.
 */
export function defaultOnError(error: unknown, ctx: Context): void {
  // deno-lint-ignore no-console
  console.error(`[microapi] ${routeLabel(ctx)} failed:`, error);
}

/**
 * Prints an error that no onError can take: it belongs to no call, or onError itself failed.
 *
 * @param what What failed.
 * @param error The error.
 */
export function logUncaught(what: string, error: unknown): void {
  // deno-lint-ignore no-console
  console.error(`[microapi] ${what}:`, error);
}

/**
 * The app's onError, made safe to call from anywhere in a call: one that throws, or returns a
 * promise that rejects, neither disturbs the call nor becomes an unhandled rejection.
 *
 * @param onError The app's onError.
 * @returns The safe version.
 */
export function safeOnError(
  onError: (error: unknown, ctx: Context) => unknown,
): (error: unknown, ctx: Context) => void {
  return (error, ctx) => {
    const failed = (failure: unknown) => {
      logUncaught(`onError failed while reporting an error of ${routeLabel(ctx)}`, failure);
      logUncaught(`${routeLabel(ctx)} failed`, error);
    };
    try {
      const result = onError(error, ctx);
      if (isThenable(result)) Promise.resolve(result).catch(failed);
    } catch (failure) {
      failed(failure);
    }
  };
}

/**
 * The app's fallback, answering `500 internal` when it throws, rejects or returns something that
 * is not a Response, instead of leaving the host runtime to deal with it.
 *
 * @param fallback The app's fallback.
 * @returns The safe version.
 */
export function safeFallback(
  fallback: (request: Request) => Response | Promise<Response>,
): (request: Request) => Response | Promise<Response> {
  const failed = (error: unknown): Response => {
    logUncaught("The fallback failed", error);
    return errorResponse(new RpcError("internal", "internal error"));
  };
  const checked = (response: unknown): Response =>
    response instanceof Response
      ? response
      : failed(new TypeError(`The fallback must return a Response, got ${typeof response}`));
  return (request) => {
    try {
      const result: unknown = fallback(request);
      return isThenable(result) ? Promise.resolve(result).then(checked, failed) : checked(result);
    } catch (error) {
      return failed(error);
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}
