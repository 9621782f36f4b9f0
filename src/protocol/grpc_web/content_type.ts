import { mediaType } from "../headers.ts";

/**
 * gRPC-Web's content types: `application/grpc-web[+<codec>]` carries envelopes as binary,
 * `application/grpc-web-text[+<codec>]` the same bytes base64-encoded (for clients that can only
 * handle text responses). Without a `+<codec>` suffix the codec is `proto`.
 */

/** Binary, protobuf (the suffix-less form). */
export const CONTENT_TYPE = "application/grpc-web";
/** Binary, protobuf. */
export const CONTENT_TYPE_PROTO = "application/grpc-web+proto";
/** Binary, JSON. */
export const CONTENT_TYPE_JSON = "application/grpc-web+json";
/** Base64 text, protobuf. */
export const CONTENT_TYPE_TEXT = "application/grpc-web-text";
/** Base64 text, protobuf. */
export const CONTENT_TYPE_TEXT_PROTO = "application/grpc-web-text+proto";

/** What a gRPC-Web content type says. */
export interface GrpcWebContentType {
  /** The codec name: `proto` (also when there is no suffix), `json`, or another. */
  codec: string;
  /** True for `application/grpc-web-text`: the body is base64. */
  text: boolean;
}

const TYPE = /^application\/grpc-web(-text)?(?:\+([a-z0-9][a-z0-9._-]*))?$/;

/**
 * Reads a Content-Type header. Parameters and case are ignored.
 *
 * @param header The header value, or null when absent.
 * @returns The codec and text mode, or undefined when this is not a gRPC-Web content type.
 */
export function parseContentType(header: string | null): GrpcWebContentType | undefined {
  const match = TYPE.exec(mediaType(header));
  if (!match) return undefined;
  return { codec: match[2] ?? "proto", text: match[1] !== undefined };
}

/**
 * The content type for a codec.
 *
 * @param codec The codec name: `proto`, `json`.
 * @param text Whether the body is base64 text.
 * @returns For example `application/grpc-web+proto`.
 */
export function contentTypeFor(codec: string, text = false): string {
  return `application/grpc-web${text ? "-text" : ""}+${codec}`;
}
