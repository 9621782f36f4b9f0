import { parseTimeout } from "../timeout.ts";
import { HEADER_TIMEOUT } from "./headers.ts";

/**
 * The longest timeout a timer can hold: setTimeout treats anything above 2^31 - 1 ms (about 24.8
 * days) as 0 and fires at once. The Connect spec lets servers clamp timeouts, so longer ones are
 * clamped here.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Reads `connect-timeout-ms`: a whole number of milliseconds, at most 10 digits.
 *
 * @param value The header value, or null when absent.
 * @returns The timeout in milliseconds (at most 2^31 - 1), or undefined when absent.
 * @throws {RpcError} `invalid_argument` for anything but 1 to 10 digits.
 */
export function parseTimeoutHeader(value: string | null): number | undefined {
  const ms = parseTimeout(value, HEADER_TIMEOUT);
  return ms === undefined ? undefined : Math.min(ms, MAX_TIMER_MS);
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
