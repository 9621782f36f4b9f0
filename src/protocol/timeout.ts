import { TIMEOUT_HEADER } from "./headers.ts";
import { RpcError } from "./rpc_error.ts";

/**
 * The longest timeout, in milliseconds: 2^31-1, about 24.8 days, the longest a JavaScript timer
 * can wait (`setTimeout` fires at once for anything longer). Longer timeouts are accepted and
 * capped to it.
 */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Where a timeout comes from, which decides the form it may take:
 *
 * - `"header"`: an HTTP header (`microapi-timeout-ms`; Connect's `connect-timeout-ms`), text of 1
 *   to 10 digits;
 * - `"frame"`: `timeout_ms` of a WebSocket `open` frame, a JSON number that is a safe integer >= 0;
 * - `"option"`: a `timeoutMs` given in code, any finite number >= 0, rounded up to a millisecond.
 */
export type TimeoutSource = "header" | "frame" | "option";

/**
 * Reads a call timeout: the one check and cap that every transport's decoder and the client apply,
 * so a timeout means the same wherever it comes from (docs/protocol.md, "Deadlines").
 *
 * @param value The timeout as its source gives it: the header's text (null when absent), the
 * frame's value, or the option.
 * @param source Where it comes from.
 * @param options `name`: what to call the value in the error message; default the MicroAPI name
 * for the source (`microapi-timeout-ms`, `timeout_ms`, `timeoutMs`).
 * @returns The timeout in whole milliseconds, at most {@linkcode MAX_TIMEOUT_MS}; undefined when
 * absent.
 * @throws {RpcError} `invalid_argument` for a malformed header or frame field (the peer's mistake).
 * @throws {RangeError} For an option that is not a finite number >= 0 (the caller's mistake).
 */
export function readTimeout(
  value: unknown,
  source: TimeoutSource,
  options: { name?: string } = {},
): number | undefined {
  if (value === undefined || value === null) return undefined;
  let ms: number;
  switch (source) {
    case "header":
      if (typeof value !== "string" || !/^\d{1,10}$/.test(value)) {
        throw new RpcError(
          "invalid_argument",
          `Header ${options.name ?? TIMEOUT_HEADER} must be a whole number of milliseconds ` +
            `(at most 10 digits), got ${JSON.stringify(String(value).slice(0, 40))}`,
        );
      }
      ms = Number(value);
      break;
    case "frame":
      if (!Number.isSafeInteger(value) || (value as number) < 0) {
        throw new RpcError(
          "invalid_argument",
          `"${options.name ?? "timeout_ms"}" must be a whole number of milliseconds, got ${
            JSON.stringify(value)?.slice(0, 40)
          }`,
        );
      }
      ms = value as number;
      break;
    case "option":
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `Invalid ${options.name ?? "timeoutMs"}: expected milliseconds >= 0, got ${
            String(value)
          }`,
        );
      }
      ms = Math.ceil(value);
      break;
  }
  return Math.min(ms, MAX_TIMEOUT_MS);
}
