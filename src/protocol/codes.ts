/**
 * Status codes: the sixteen gRPC error codes plus `ok`, spelled as snake_case strings on the wire,
 * and the one table that maps each to an HTTP status.
 *
 * @module
 */

/** Every status code a call can end with. `ok` is success; the other sixteen are errors. */
export const Code = {
  ok: "ok",
  cancelled: "cancelled",
  unknown: "unknown",
  invalid_argument: "invalid_argument",
  deadline_exceeded: "deadline_exceeded",
  not_found: "not_found",
  already_exists: "already_exists",
  permission_denied: "permission_denied",
  resource_exhausted: "resource_exhausted",
  failed_precondition: "failed_precondition",
  aborted: "aborted",
  out_of_range: "out_of_range",
  unimplemented: "unimplemented",
  internal: "internal",
  unavailable: "unavailable",
  data_loss: "data_loss",
  unauthenticated: "unauthenticated",
} as const;

/** A status code as it appears on the wire. */
export type Code = typeof Code[keyof typeof Code];

/** A status code other than `ok`. */
export type ErrorCode = Exclude<Code, "ok">;

/**
 * The HTTP status each code travels with. This is the only mapping from codes to HTTP statuses;
 * the two protocol-level answers that are not call outcomes (405 wrong HTTP method, 415 wrong
 * content type) are described in docs/protocol.md.
 */
export const httpStatusByCode: Readonly<Record<Code, number>> = {
  ok: 200,
  cancelled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

const codes: ReadonlySet<string> = new Set(Object.values(Code));

/**
 * Tells whether a value is one of the seventeen status codes.
 *
 * @param value Anything, typically a string read from the wire.
 * @returns `true` when `value` is a known code.
 */
export function isCode(value: unknown): value is Code {
  return typeof value === "string" && codes.has(value);
}

/**
 * Picks a code for an HTTP response that carried no MicroAPI error body (a proxy's error page, for
 * instance). Statuses that say "try again" become `unavailable`.
 *
 * @param status The HTTP status of the response.
 * @returns The code a client should report.
 */
export function codeFromHttpStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 408:
    case 504:
      return "deadline_exceeded";
    case 409:
      return "aborted";
    case 413:
    case 429:
      return "resource_exhausted";
    case 415:
      return "invalid_argument";
    case 499:
      return "cancelled";
    case 501:
      return "unimplemented";
    case 502:
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "unknown";
  }
}
