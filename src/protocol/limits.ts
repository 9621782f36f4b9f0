/** Limits a peer's input is held to. Every decoder enforces them while reading. */
export interface Limits {
  /**
   * The largest single message, in bytes of its JSON encoding (a unary body, one NDJSON line, one
   * WebSocket message). Default 4 MiB.
   */
  maxMessageBytes: number;
  /**
   * The longest NDJSON line, in bytes, checked while the line is still arriving. Default: the same
   * as `maxMessageBytes`.
   */
  maxLineBytes: number;
}

/** 4 MiB, the default message size limit (gRPC's default as well). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Fills in the limits a caller did not set, and rejects values that make no sense.
 *
 * @param partial The limits given by the user.
 * @returns Complete limits.
 * @throws {RangeError} When a limit is not a positive integer.
 */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const maxMessageBytes = partial.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxLineBytes = partial.maxLineBytes ?? maxMessageBytes;
  for (
    const [name, value] of [["maxMessageBytes", maxMessageBytes], ["maxLineBytes", maxLineBytes]]
  ) {
    if (!Number.isSafeInteger(value) || (value as number) <= 0) {
      throw new RangeError(`Invalid limit: ${name} must be a positive integer, got ${value}`);
    }
  }
  return { maxMessageBytes, maxLineBytes };
}
