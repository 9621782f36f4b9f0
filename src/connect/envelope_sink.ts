import type { Compression } from "../protocol/compression.ts";
import { EnvelopeWriter } from "../protocol/envelope_writer.ts";
import type { RpcError } from "../protocol/rpc_error.ts";
import type { CallSink } from "../server/call.ts";
import type { WireCodec } from "./wire_codec.ts";

/** How one protocol ends an enveloped response. */
export interface StreamEnd {
  /** The flag of the last envelope: Connect's end-stream `0x02`, gRPC-Web's trailers `0x80`. */
  readonly flag: number;
  /**
   * The last envelope's payload.
   *
   * @param error The call's error, or undefined for success.
   * @param trailers The call's trailers.
   * @returns The bytes.
   */
  encode(error: RpcError | undefined, trailers: Headers): Uint8Array;
  /** Whether the last envelope may be compressed like the messages. */
  readonly compressible: boolean;
}

/** Options for {@linkcode EnvelopeSink}. */
export interface EnvelopeSinkOptions {
  /** The call's codec. */
  codec: WireCodec;
  /** The response's own headers: content type, encodings. */
  headers: Headers;
  /** How the response ends. */
  end: StreamEnd;
  /** The negotiated compression for response envelopes. */
  compression: Compression | undefined;
  /** Base64-encode the body (gRPC-Web-text). */
  base64?: boolean;
  /** Called when the client stops reading (it went away or cancelled). */
  onCancel: () => void;
}

/**
 * The response of an enveloped call (Connect streaming, gRPC-Web): HTTP 200 as soon as the
 * call's headers are final, then one envelope per message as the handler yields it (with the
 * writer's batching and backpressure), then the protocol's last envelope with the status and
 * trailers.
 */
export class EnvelopeSink implements CallSink {
  readonly response: Promise<Response>;
  #resolve: (response: Response) => void;
  #options: EnvelopeSinkOptions;
  #writer: EnvelopeWriter;

  /**
   * Prepares the response.
   *
   * @param options Codec, headers, end, compression, and the cancel callback.
   */
  constructor(options: EnvelopeSinkOptions) {
    const { promise, resolve } = Promise.withResolvers<Response>();
    this.response = promise;
    this.#resolve = resolve;
    this.#options = options;
    this.#writer = new EnvelopeWriter({
      compression: options.compression,
      base64: options.base64 ?? false,
      onCancel: options.onCancel,
    });
  }

  /**
   * Commits the response with the call's headers.
   *
   * @param headers The call's response headers.
   */
  open(headers: Headers): void {
    const all = new Headers(headers);
    this.#options.headers.forEach((value, name) => all.set(name, value));
    all.set("cache-control", "no-store");
    this.#resolve(new Response(this.#writer.readable, { headers: all }));
  }

  /**
   * Sends one message.
   *
   * @param message The validated message.
   * @returns The writer's backpressure.
   */
  send(message: unknown): Promise<void> | undefined {
    return this.#writer.write(this.#options.codec.encode(message));
  }

  /**
   * Writes the last envelope and ends the body.
   *
   * @param error The call's error.
   * @param trailers The call's trailers.
   */
  close(error: RpcError | undefined, trailers: Headers): void {
    const { end } = this.#options;
    void this.#writer.write(end.encode(error, trailers), end.flag, end.compressible);
    this.#writer.close();
  }
}
