import { mediaType } from "../headers.ts";

/**
 * Connect's content types. Unary calls send a bare message as `application/<codec>`; streaming
 * calls send envelopes as `application/connect+<codec>`. The codecs are `json` and `proto` (other
 * names are allowed by the spec; which ones a server accepts is up to its codec list).
 */

/** Unary, JSON. */
export const CONTENT_TYPE_JSON = "application/json";
/** Unary, binary protobuf. */
export const CONTENT_TYPE_PROTO = "application/proto";
/** Streaming, JSON. */
export const CONTENT_TYPE_STREAM_JSON = "application/connect+json";
/** Streaming, binary protobuf. */
export const CONTENT_TYPE_STREAM_PROTO = "application/connect+proto";

/** What a Connect content type says. */
export interface ConnectContentType {
  /** The codec name: `json`, `proto`, or another the peer named. */
  codec: string;
  /** True for `application/connect+<codec>` (envelopes), false for a bare unary message. */
  streaming: boolean;
}

const UNARY = /^application\/([a-z0-9][a-z0-9._-]*)$/;
const STREAMING = /^application\/connect\+([a-z0-9][a-z0-9._-]*)$/;

/**
 * Reads a Content-Type header. Parameters (`; charset=utf-8`) and case are ignored.
 *
 * @param header The header value, or null when absent.
 * @returns The codec and whether the call streams, or undefined when this is not a Connect
 * content type (the server answers 415).
 */
export function parseContentType(header: string | null): ConnectContentType | undefined {
  const type = mediaType(header);
  const streaming = STREAMING.exec(type);
  if (streaming) return { codec: streaming[1]!, streaming: true };
  const unary = UNARY.exec(type);
  if (unary) return { codec: unary[1]!, streaming: false };
  return undefined;
}

/**
 * The content type for a codec.
 *
 * @param codec The codec name: `json`, `proto`.
 * @param streaming Whether the call streams.
 * @returns For example `application/connect+proto`.
 */
export function contentTypeFor(codec: string, streaming: boolean): string {
  return streaming ? `application/connect+${codec}` : `application/${codec}`;
}
