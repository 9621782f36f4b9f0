import { base64DecodeStream } from "../protocol/base64.ts";
import {
  acceptEncodingValue,
  compressionFromHeader,
  decompressStream,
} from "../protocol/compression.ts";
import { contentTypeFor, parseContentType } from "../protocol/grpc_web/content_type.ts";
import { encodeEndStream, FLAG_END_STREAM } from "../protocol/grpc_web/end_stream.ts";
import {
  HEADER_ACCEPT_ENCODING,
  HEADER_ENCODING,
  HEADER_TIMEOUT,
} from "../protocol/grpc_web/headers.ts";
import { parseRequestHeader } from "../protocol/grpc_web/request_header.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { RequestHooks } from "../server/adapters/types.ts";
import type { ConnectEnv, ServedMethod } from "./connect.ts";
import type { StreamEnd } from "./envelope_sink.ts";
import { envelopedCall } from "./enveloped_call.ts";
import { streamError, unsupportedType } from "./responses.ts";
import { CODEC_NAMES, codecNamed } from "./wire_codec.ts";

/**
 * The trailers frame: `grpc-status`, `grpc-message`, `grpc-status-details-bin` and the call's
 * trailers as a header block in an envelope flagged `0x80`, never compressed (browser gRPC-Web
 * clients read it as it is).
 */
const GRPC_WEB_END: StreamEnd = {
  flag: FLAG_END_STREAM,
  encode: encodeEndStream,
  compressible: false,
};

/** The content types, for the 415 answer. */
const GRPC_WEB_TYPES = [
  ...CODEC_NAMES.map((name) => contentTypeFor(name)),
  contentTypeFor("proto", true),
];

/**
 * Answers a gRPC-Web call of any pattern: envelopes both ways (`application/grpc-web+proto`,
 * `+json`, or base64 text as `application/grpc-web-text`), compressed per envelope with
 * `grpc-encoding` (or, as browsers may send it, the whole body with `content-encoding`), and
 * the status in the trailers frame at the end of the body, so that HTTP/1.1 clients get it.
 *
 * @param request The request.
 * @param method The method.
 * @param env The app.
 * @param hooks The adapter's hooks.
 * @returns The response, once the call's headers are final.
 */
export function grpcWebCall(
  request: Request,
  method: ServedMethod,
  env: ConnectEnv,
  hooks: RequestHooks | undefined,
): Promise<Response> | Response {
  const contentType = request.headers.get("content-type");
  const type = parseContentType(contentType);
  const codec = type && !(type.text && type.codec !== "proto")
    ? codecNamed(method.wire, type.codec)
    : undefined;
  if (!type || !codec) return unsupportedType("grpc-web", GRPC_WEB_TYPES, contentType);
  const responseType = contentTypeFor(codec.name, type.text);
  let header;
  let body: ReadableStream<Uint8Array> | null = request.body;
  try {
    header = parseRequestHeader(request.headers);
    const whole = compressionFromHeader(request.headers.get("content-encoding"), {
      header: "content-encoding",
    });
    if (body && type.text) body = body.pipeThrough(base64DecodeStream("request body"));
    if (body && whole) body = decompressStream(body, whole, { what: "request body" });
  } catch (error) {
    request.body?.cancel().catch(() => {});
    return streamError("grpc-web", responseType, RpcError.from(error));
  }
  const headers = new Headers({ [HEADER_ACCEPT_ENCODING]: acceptEncodingValue() });
  if (header.responseCompression) headers.set(HEADER_ENCODING, header.responseCompression.name);
  return envelopedCall(request, method, env, {
    dialect: "grpc-web",
    contentType: responseType,
    headers,
    codec,
    body,
    timeoutMs: header.timeoutMs,
    timeoutName: HEADER_TIMEOUT,
    compression: header.compression,
    responseCompression: header.responseCompression,
    end: GRPC_WEB_END,
    base64: type.text,
  }, hooks);
}
