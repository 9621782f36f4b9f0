import { readTimeout } from "../timeout.ts";
import { HEADER_TIMEOUT } from "./headers.ts";

/**
 * Reads `connect-timeout-ms`: a whole number of milliseconds, at most 10 digits.
 *
 * @param value The header value, or null when absent.
 * @returns The timeout in milliseconds (at most 2^31 - 1), or undefined when absent.
 * @throws {RpcError} `invalid_argument` for anything but 1 to 10 digits.
 */
export function parseTimeoutHeader(value: string | null): number | undefined {
  // The Connect spec lets servers clamp timeouts; readTimeout caps them at what a timer can hold.
  return readTimeout(value, "header", { name: HEADER_TIMEOUT });
}

/**
 * The `connect-timeout-ms` value for a timeout.
 *
 * @param ms The timeout in milliseconds, >= 0.
 * @returns Whole milliseconds, rounded up, at most 10 digits.
 */
export function timeoutHeaderValue(ms: number): string {
  return String(Math.min(Math.ceil(Math.max(ms, 0)), 9_999_999_999));
}
