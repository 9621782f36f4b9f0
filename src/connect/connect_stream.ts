import { acceptEncodingValue } from "../protocol/compression.ts";
import { contentTypeFor, parseContentType } from "../protocol/connect/content_type.ts";
import { encodeEndStream, FLAG_END_STREAM } from "../protocol/connect/end_stream.ts";
import {
  HEADER_STREAM_ACCEPT_ENCODING,
  HEADER_STREAM_ENCODING,
  HEADER_TIMEOUT,
} from "../protocol/connect/headers.ts";
import { parseRequestHeader } from "../protocol/connect/request_header.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { RequestHooks } from "../server/adapters/types.ts";
import type { ConnectEnv, ServedMethod } from "./connect.ts";
import type { StreamEnd } from "./envelope_sink.ts";
import { envelopedCall } from "./enveloped_call.ts";
import { streamError, unsupportedType } from "./responses.ts";
import { CODEC_NAMES, codecNamed } from "./wire_codec.ts";

/** The end-stream message: JSON `{ error?, metadata? }` in an envelope flagged `0x02`. */
const CONNECT_END: StreamEnd = {
  flag: FLAG_END_STREAM,
  encode: encodeEndStream,
  compressible: true,
};

/** The streaming content types, for the 415 answer. */
const STREAM_TYPES = CODEC_NAMES.map((name) => contentTypeFor(name, true));

/**
 * Answers a Connect streaming call (server, client or bidi streaming): envelopes both ways as
 * `application/connect+json` or `application/connect+proto`, compressed per envelope with
 * `connect-content-encoding`, ended by the end-stream message with the status and trailers.
 *
 * @param request The request.
 * @param method The method (a streaming one).
 * @param env The app.
 * @param hooks The adapter's hooks.
 * @returns The response, once the call's headers are final.
 */
export function connectStream(
  request: Request,
  method: ServedMethod,
  env: ConnectEnv,
  hooks: RequestHooks | undefined,
): Promise<Response> | Response {
  const contentType = request.headers.get("content-type");
  const type = parseContentType(contentType);
  const codec = type?.streaming ? codecNamed(method.wire, type.codec) : undefined;
  if (!codec) return unsupportedType("connect", STREAM_TYPES, contentType);
  const responseType = contentTypeFor(codec.name, true);
  let header;
  try {
    header = parseRequestHeader(request.headers, {
      streaming: true,
      requireProtocolVersion: env.requireProtocolVersion,
    });
  } catch (error) {
    request.body?.cancel().catch(() => {});
    return streamError("connect", responseType, RpcError.from(error));
  }
  const headers = new Headers({ [HEADER_STREAM_ACCEPT_ENCODING]: acceptEncodingValue() });
  if (header.responseCompression) {
    headers.set(HEADER_STREAM_ENCODING, header.responseCompression.name);
  }
  return envelopedCall(request, method, env, {
    dialect: "connect",
    contentType: responseType,
    headers,
    codec,
    body: request.body,
    timeoutMs: header.timeoutMs,
    timeoutName: HEADER_TIMEOUT,
    compression: header.compression,
    responseCompression: header.responseCompression,
    end: CONNECT_END,
    base64: false,
  }, hooks);
}
