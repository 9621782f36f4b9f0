/**
 * Limits a peer's input is held to. Every decoder enforces the sizes while reading; a server holds
 * every message it receives to the shape limits (depth, keys, items) before validating it
 * (src/protocol/message_shape.ts). Clients check only the sizes.
 */
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
  /**
   * How deeply objects and arrays may nest in one message: `{}` and `[]` are 1 level,
   * `{"a":[1]}` is 2. Default 64.
   */
  maxDepth: number;
  /**
   * How many object keys one message may hold, counted over all its objects. Default 50 000.
   */
  maxKeys: number;
  /**
   * How many array items one message may hold, counted over all its arrays. Default 100 000.
   */
  maxItems: number;
}

/** 4 MiB, the default message size limit (gRPC's default as well). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * The default shape limits of one message: generous for real messages (large collections go as
 * streams), and small enough that no message costs the server hundreds of milliseconds. A record
 * of 200 000 keys stalled Deno's event loop for 450 to 760 ms before these limits and is refused
 * in about 20 ms now; a record at the limit, 50 000 keys, takes 50 to 150 ms, mostly in zod
 * (bench/message_stall.ts; docs/security.md has the figures).
 */
export const DEFAULT_SHAPE_LIMITS: Readonly<Pick<Limits, "maxDepth" | "maxKeys" | "maxItems">> =
  Object.freeze({ maxDepth: 64, maxKeys: 50_000, maxItems: 100_000 });

/**
 * Fills in the limits a caller did not set, and rejects values that make no sense.
 *
 * @param partial The limits given by the user.
 * @returns Complete limits.
 * @throws {RangeError} When a limit is not a positive integer.
 */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const maxMessageBytes = partial.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const limits: Limits = {
    maxMessageBytes,
    maxLineBytes: partial.maxLineBytes ?? maxMessageBytes,
    maxDepth: partial.maxDepth ?? DEFAULT_SHAPE_LIMITS.maxDepth,
    maxKeys: partial.maxKeys ?? DEFAULT_SHAPE_LIMITS.maxKeys,
    maxItems: partial.maxItems ?? DEFAULT_SHAPE_LIMITS.maxItems,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || (value as number) <= 0) {
      throw new RangeError(`Invalid limit: ${name} must be a positive integer, got ${value}`);
    }
  }
  return limits;
}
