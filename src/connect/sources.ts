import type { Compression } from "../protocol/compression.ts";
import { EnvelopeReader } from "../protocol/envelope.ts";
import { envelopeMessages } from "../protocol/envelope_source.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { MessageSource } from "../server/call.ts";
import type { WireCodec } from "./wire_codec.ts";

/** The end of a message source. */
export const DONE: IteratorResult<unknown, undefined> = { done: true, value: undefined };

/**
 * A body that failed to read for a reason of its own: the client went away (errors of ours, such
 * as a size limit, pass through).
 *
 * @param error What reading threw.
 * @returns Never.
 * @throws {RpcError} The error, or `cancelled`.
 */
export function bodyGone(error: unknown): never {
  if (RpcError.is(error)) throw error;
  throw new RpcError("cancelled", "The request body ended abruptly: the client went away", {
    cause: error,
  });
}

/** Options for {@linkcode envelopeSource}. */
export interface EnvelopeSourceOptions {
  /** The largest message, before and after decompression. */
  maxMessageBytes: number;
  /** The negotiated compression of compressed envelopes. */
  compression: Compression | undefined;
  /** Exactly one message (unary and server-streaming requests). */
  single: boolean;
}

/**
 * The request messages of an enveloped body (Connect streams, gRPC-Web), read one envelope per
 * `next()`: a client that sends faster than the handler reads is held back by TCP.
 *
 * @param body The body (already base64- or content-decoded), or null for none.
 * @param codec The call's codec.
 * @param options Limits, compression, and whether exactly one message is expected.
 * @returns The source the pipeline reads.
 */
export function envelopeSource(
  body: ReadableStream<Uint8Array> | null,
  codec: WireCodec,
  options: EnvelopeSourceOptions,
): MessageSource {
  const reader = new EnvelopeReader(body ?? new ReadableStream({ start: (c) => c.close() }), {
    maxMessageBytes: options.maxMessageBytes,
    compression: options.compression,
  });
  const messages = envelopeMessages(reader, codec.decode, { single: options.single });
  return {
    next: () => messages.next().catch(bodyGone),
    cancel: () => messages.cancel(),
  };
}
