import type { MethodCodec } from "../protobuf/codec.ts";
import { decodeUtf8 } from "../protocol/body.ts";
import { parseJson } from "../protocol/json.ts";

/**
 * One method's messages in one of the two codecs Connect and gRPC-Web clients use: `proto`
 * (binary protobuf) and `json` (the proto3 JSON mapping). Requests decode to the plain value a
 * MicroAPI client would have sent (src/protobuf/codec.ts normalises names, zero values, enums and
 * 64-bit integers), which the pipeline then validates with the method's zod schema; responses are
 * encoded from the value the schema validated.
 */
export interface WireCodec {
  /** `proto` or `json`. */
  readonly name: CodecName;
  /**
   * Decodes one request message.
   *
   * @param bytes The message as sent (decompressed).
   * @returns The plain value, not yet validated.
   * @throws {RpcError} `invalid_argument` for bytes that are not such a message.
   */
  decode(bytes: Uint8Array): unknown;
  /**
   * Encodes one response message.
   *
   * @param value The validated value.
   * @returns The message bytes.
   * @throws {TypeError} For a value that does not fit (a bug: the call ends `internal`).
   */
  encode(value: unknown): Uint8Array;
}

/** The codec names served. */
export type CodecName = "proto" | "json";

/** The codec names, in the order servers announce them. */
export const CODEC_NAMES: readonly CodecName[] = ["proto", "json"];

const encoder = new TextEncoder();

/**
 * The codec of a method for a codec name from a content type.
 *
 * @param method The method's protobuf codecs.
 * @param name The codec name the client asked for.
 * @returns The codec, or undefined for a codec that is not served (answer 415).
 */
export function wireCodec(method: MethodCodec, name: string): WireCodec | undefined {
  const { input, output } = method;
  if (name === "proto") {
    return {
      name,
      decode: (bytes) => input.decodeBinary(bytes),
      encode: (value) => output.encodeBinary(value),
    };
  }
  if (name === "json") {
    return {
      name,
      decode: (bytes) => {
        // An empty body is an empty message, as Connect servers read it.
        if (bytes.length === 0) return input.decodeJson({});
        return input.decodeJson(parseJson(decodeUtf8(bytes, "request message"), "request message"));
      },
      encode: (value) => encoder.encode(JSON.stringify(output.encodeJson(value))),
    };
  }
  return undefined;
}

/** A method's two codecs, made once. */
export type WireCodecs = Readonly<Record<CodecName, WireCodec>>;

/**
 * Both codecs of a method.
 *
 * @param method The method's protobuf codecs.
 * @returns The `proto` and `json` codecs.
 */
export function wireCodecs(method: MethodCodec): WireCodecs {
  return { proto: wireCodec(method, "proto")!, json: wireCodec(method, "json")! };
}

/**
 * The codec for a name from a content type.
 *
 * @param codecs The method's codecs.
 * @param name The name the client sent.
 * @returns The codec, or undefined for one that is not served.
 */
export function codecNamed(codecs: WireCodecs, name: string): WireCodec | undefined {
  return name === "proto" || name === "json" ? codecs[name] : undefined;
}
