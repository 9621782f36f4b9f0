import type { Route } from "../protocol/route.ts";

/**
 * The NATS subjects MicroAPI uses (docs/scale-out.md, "Subjects"). A method is served on
 * `<prefix>.<service>.<method>`, or `<prefix>.v<N>.<service>.<method>` for version N of a
 * service; every process serving it subscribes there in one queue group, so NATS gives each call
 * to one of them. Service and method names are valid subject tokens as they are (letters, digits,
 * `_` and `-`).
 */

/** The default subject prefix. */
export const DEFAULT_PREFIX = "microapi";
/** The default queue group. */
export const DEFAULT_QUEUE = "microapi";

const TOKENS = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * Checks a subject prefix: dot-separated tokens of letters, digits, `_` and `-`.
 *
 * @param prefix The prefix.
 * @returns The prefix.
 * @throws {TypeError} For anything else (wildcards, spaces, empty tokens).
 */
export function checkPrefix(prefix: string): string {
  if (!TOKENS.test(prefix)) {
    throw new TypeError(
      `Invalid subject prefix ${JSON.stringify(prefix)}: expected tokens of letters, digits, _ ` +
        'and - separated by dots, such as "microapi" or "acme.rpc"',
    );
  }
  return prefix;
}

/**
 * Checks a queue group name.
 *
 * @param queue The name.
 * @returns The name.
 * @throws {TypeError} For an empty name or one with spaces or wildcards.
 */
export function checkQueue(queue: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(queue)) {
    throw new TypeError(
      `Invalid queue group ${JSON.stringify(queue)}: expected letters, digits, _, - and .`,
    );
  }
  return queue;
}

/**
 * The subject a method is served on.
 *
 * @param prefix The subject prefix.
 * @param route The method.
 * @returns `<prefix>.<service>.<method>`, or `<prefix>.v<N>.<service>.<method>`.
 */
export function methodSubject(prefix: string, route: Route): string {
  const base = `${route.service}.${route.method}`;
  return route.version === undefined ? `${prefix}.${base}` : `${prefix}.v${route.version}.${base}`;
}

/**
 * Where a client asks why nothing serves a method (every process answers there, in the queue
 * group): the same `not_found` message, with suggestions, that HTTP gives.
 *
 * @param prefix The subject prefix.
 * @returns The subject.
 */
export function notFoundSubject(prefix: string): string {
  return `${prefix}._microapi.not_found`;
}
