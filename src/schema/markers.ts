import type { z } from "zod";

/**
 * Markers are plain objects recognised by their `"~microapi"` key, not by `instanceof`, so that
 * definitions made with one copy of the library work with another (a compiled CLI loading a user's
 * service file, for instance).
 */

/** Marks a method's input as a stream of messages: the client sends many. */
export interface StreamInput<S extends z.ZodType = z.ZodType> {
  /** The marker's kind. */
  readonly "~microapi": "stream";
  /** The schema of each message. */
  readonly schema: S;
}

/** Marks a method's output as a stream of messages: the server sends many. */
export interface StreamingOutput<S extends z.ZodType = z.ZodType> {
  /** The marker's kind. */
  readonly "~microapi": "streaming";
  /** The schema of each message. */
  readonly schema: S;
}

/**
 * Declares a streamed input: the handler receives a {@linkcode Stream} of messages, each validated
 * against `schema` as the handler reads it.
 *
 * @param schema The schema of each message the client sends.
 * @returns The marker to use as a method's `input`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stream, z } from "../../mod.ts";
 * const input = stream(z.object({ value: z.number() }));
 * assert.equal(input["~microapi"], "stream");
 * assert.equal(input.schema.parse({ value: 1 }).value, 1);
 * ```
 */
export function stream<S extends z.ZodType>(schema: S): StreamInput<S> {
  return Object.freeze({ "~microapi": "stream" as const, schema });
}

/**
 * Declares a streamed output: the handler is an async generator, and each value it yields is
 * validated against `schema` and sent as soon as it is ready.
 *
 * @param schema The schema of each message the server sends.
 * @returns The marker to use as a method's `output`.
 */
export function streaming<S extends z.ZodType>(schema: S): StreamingOutput<S> {
  return Object.freeze({ "~microapi": "streaming" as const, schema });
}

/**
 * Tells whether a method input is a {@linkcode stream} marker.
 *
 * @param value A method's `input`.
 * @returns `true` for stream markers.
 */
export function isStreamInput(value: unknown): value is StreamInput {
  return typeof value === "object" && value !== null &&
    (value as Record<string, unknown>)["~microapi"] === "stream";
}

/**
 * Tells whether a method output is a {@linkcode streaming} marker.
 *
 * @param value A method's `output`.
 * @returns `true` for streaming markers.
 */
export function isStreamingOutput(value: unknown): value is StreamingOutput {
  return typeof value === "object" && value !== null &&
    (value as Record<string, unknown>)["~microapi"] === "streaming";
}
