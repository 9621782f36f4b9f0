import { RpcError } from "./rpc_error.ts";

/** The largest timeout accepted: about 115 days, far beyond any sensible call. */
const MAX_TIMEOUT_MS = 9_999_999_999;

/**
 * Reads a timeout header value: whole milliseconds, at most ten digits.
 *
 * @param value The header value, or null when absent.
 * @param header The header's name, for the message.
 * @returns The timeout in milliseconds, or undefined when absent.
 * @throws {RpcError} `invalid_argument` when the value is not a whole number of milliseconds.
 */
export function parseTimeout(value: string | null, header: string): number | undefined {
  if (value === null) return undefined;
  if (!/^\d{1,10}$/.test(value)) {
    throw new RpcError(
      "invalid_argument",
      `Header ${header} must be a whole number of milliseconds (at most 10 digits), got ${
        JSON.stringify(value.slice(0, 40))
      }`,
    );
  }
  return Math.min(Number(value), MAX_TIMEOUT_MS);
}

/**
 * Checks a timeout given in code (a call option or a method default).
 *
 * @param value The timeout in milliseconds.
 * @returns The value, rounded up to a whole millisecond.
 * @throws {RangeError} When it is not a finite number >= 0.
 */
export function checkTimeout(value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`Invalid timeout: expected milliseconds >= 0, got ${value}`);
  }
  return Math.min(Math.ceil(value), MAX_TIMEOUT_MS);
}
