import type { EnvelopeReader } from "./envelope.ts";
import { RpcError } from "./rpc_error.ts";

/**
 * Decodes one message with the call's codec (JSON or binary protobuf): bytes in, value out. It
 * may throw anything; a non-RpcError becomes `invalid_argument`.
 */
export type MessageDecoder = (bytes: Uint8Array) => unknown;

/**
 * The messages of an envelope stream, in the shape the server's call pipeline reads
 * (`MessageSource` in src/server/call.ts): `next()` reads one envelope only when asked, so the
 * peer gets backpressure.
 */
export interface EnvelopeMessages {
  /**
   * Reads and decodes the next message.
   *
   * @returns The message, or `done` at the end of the stream.
   */
  next(): Promise<IteratorResult<unknown, undefined>>;
  /** Stops reading and cancels the stream. */
  cancel(): void;
}

/** Options for {@linkcode envelopeMessages}. */
export interface EnvelopeMessagesOptions {
  /**
   * The stream must hold exactly one message (unary and server-streaming requests). Zero or
   * several are `unimplemented`, as Connect's implementations answer and the conformance suite
   * expects; the end of the stream is checked before the message is handed out.
   */
  single?: boolean;
  /** What the stream is, for messages. Default `"request body"`. */
  what?: string;
}

const DONE: IteratorResult<unknown, undefined> = { done: true, value: undefined };

/**
 * Turns an envelope reader into a source of decoded messages.
 *
 * @param reader The envelope reader (its flags and limits already configured).
 * @param decode The codec's decoder.
 * @param options Whether exactly one message is expected.
 * @returns The message source.
 */
export function envelopeMessages(
  reader: EnvelopeReader,
  decode: MessageDecoder,
  options: EnvelopeMessagesOptions = {},
): EnvelopeMessages {
  const what = options.what ?? "request body";
  let index = 0;
  let finished = false;
  let failure: { error: unknown } | undefined;
  const decodeAt = (data: Uint8Array, at: number): unknown => {
    try {
      return decode(data);
    } catch (error) {
      if (RpcError.is(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new RpcError(
        "invalid_argument",
        `Message ${at} in ${what} cannot be decoded: ${reason}`,
        { cause: error },
      );
    }
  };
  return {
    async next() {
      if (failure) throw failure.error;
      if (finished) return DONE;
      if (options.single) {
        finished = true;
        try {
          return { done: false, value: await readSingle() };
        } catch (error) {
          failure = { error };
          throw error;
        }
      }
      const envelope = await reader.next();
      if (envelope === undefined) {
        finished = true;
        return DONE;
      }
      return { done: false, value: decodeAt(envelope.data, index++) };
    },
    cancel() {
      finished = true;
      void reader.cancel();
    },
  };

  async function readSingle(): Promise<unknown> {
    const first = await reader.next();
    if (first === undefined) {
      throw new RpcError("unimplemented", `The ${what} holds no message; expected exactly one`);
    }
    if ((await reader.next()) !== undefined) {
      await reader.cancel();
      throw new RpcError(
        "unimplemented",
        `The ${what} holds more than one message; expected exactly one`,
      );
    }
    return decodeAt(first.data, 0);
  }
}
