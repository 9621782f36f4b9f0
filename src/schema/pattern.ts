/** The four RPC patterns. */
export const Pattern = {
  /** One message in, one out. */
  unary: "unary",
  /** One message in, a stream out. */
  server_streaming: "server_streaming",
  /** A stream in, one message out. */
  client_streaming: "client_streaming",
  /** A stream in and a stream out, at the same time. */
  bidi_streaming: "bidi_streaming",
} as const;

/** One of the four RPC patterns. */
export type Pattern = typeof Pattern[keyof typeof Pattern];

/** The four patterns, in the order of the table in docs/protocol.md. */
export const PATTERNS: readonly Pattern[] = Object.values(Pattern);

/**
 * A pattern in words, for messages.
 *
 * @param pattern A pattern.
 * @returns `"unary"`, `"server streaming"`, `"client streaming"` or `"bidi streaming"`.
 */
export function patternWords(pattern: Pattern): string {
  return pattern.replace("_", " ");
}

/**
 * Tells whether a value names a pattern (a wire value, say).
 *
 * @param value Anything.
 * @returns `true` for `"unary"`, `"server_streaming"`, `"client_streaming"`, `"bidi_streaming"`.
 */
export function isPattern(value: unknown): value is Pattern {
  return typeof value === "string" && (PATTERNS as readonly string[]).includes(value);
}

/**
 * The pattern a method has, from whether its input and output are streamed.
 *
 * @param streamedInput The input is `stream(T)`.
 * @param streamedOutput The output is `streaming(T)`.
 * @returns The pattern.
 */
export function patternOf(streamedInput: boolean, streamedOutput: boolean): Pattern {
  if (streamedInput) return streamedOutput ? "bidi_streaming" : "client_streaming";
  return streamedOutput ? "server_streaming" : "unary";
}

/**
 * Tells whether the server sends a stream for this pattern.
 *
 * @param pattern A pattern.
 * @returns `true` for server and bidi streaming.
 */
export function streamsOutput(pattern: Pattern): boolean {
  return pattern === "server_streaming" || pattern === "bidi_streaming";
}

/**
 * Tells whether the client sends a stream for this pattern.
 *
 * @param pattern A pattern.
 * @returns `true` for client and bidi streaming.
 */
export function streamsInput(pattern: Pattern): boolean {
  return pattern === "client_streaming" || pattern === "bidi_streaming";
}
