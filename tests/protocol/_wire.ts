/** Helpers for the wire-protocol tests: byte streams built from chunks, and readers of them. */
import type { Envelope, EnvelopeReader } from "../../src/protocol/envelope.ts";

const encoder = new TextEncoder();

/**
 * A stream that delivers the given chunks, then ends.
 *
 * @param chunks The chunks (strings are UTF-8 encoded).
 * @returns The stream.
 */
export function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      }
      controller.close();
    },
  });
}

/**
 * A stream the test feeds by hand.
 *
 * @returns The stream, and functions to push a chunk, end it, or fail it.
 */
export function manualStream(): {
  stream: ReadableStream<Uint8Array>;
  push(chunk: Uint8Array | string): void;
  end(): void;
  fail(error: unknown): void;
  cancelled: Promise<unknown>;
} {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const cancelled = Promise.withResolvers<unknown>();
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel(reason) {
      cancelled.resolve(reason);
    },
  });
  return {
    stream,
    push: (chunk) => controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk),
    end: () => controller.close(),
    fail: (error) => controller.error(error),
    cancelled: cancelled.promise,
  };
}

/**
 * Splits bytes into chunks at the given offsets.
 *
 * @param bytes The bytes.
 * @param cuts Offsets, ascending.
 * @returns The chunks.
 */
export function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.slice(start, cut));
    start = cut;
  }
  return chunks;
}

/**
 * Joins byte arrays.
 *
 * @param parts The parts.
 * @returns One array.
 */
export function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Reads every envelope.
 *
 * @param reader The reader.
 * @returns The envelopes.
 */
export async function readAll(reader: EnvelopeReader): Promise<Envelope[]> {
  const out: Envelope[] = [];
  for (let e = await reader.next(); e !== undefined; e = await reader.next()) out.push(e);
  return out;
}

/**
 * Reads a whole stream.
 *
 * @param stream The stream.
 * @returns Its bytes.
 */
export async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * UTF-8 encodes text.
 *
 * @param text The text.
 * @returns The bytes.
 */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * A seeded PRNG (mulberry32), so a failing fuzz case can be replayed.
 *
 * @param seed The seed.
 * @returns A function giving numbers in [0, 1).
 */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
