import type { ReflectionService } from "../protobuf/reflection.ts";
import { base64DecodeStream } from "../protocol/base64.ts";
import { parseContentType as parseConnectType } from "../protocol/connect/content_type.ts";
import {
  encodeEndStream as connectEnd,
  FLAG_END_STREAM as CONNECT_END,
} from "../protocol/connect/end_stream.ts";
import { HEADER_STREAM_ENCODING } from "../protocol/connect/headers.ts";
import { parseRequestHeader as connectHeader } from "../protocol/connect/request_header.ts";
import { EnvelopeReader } from "../protocol/envelope.ts";
import { EnvelopeWriter } from "../protocol/envelope_writer.ts";
import { parseContentType as parseGrpcWebType } from "../protocol/grpc_web/content_type.ts";
import {
  encodeEndStream as grpcWebEnd,
  FLAG_END_STREAM as GRPC_WEB_END,
} from "../protocol/grpc_web/end_stream.ts";
import { HEADER_ENCODING } from "../protocol/grpc_web/headers.ts";
import { parseRequestHeader as grpcWebHeader } from "../protocol/grpc_web/request_header.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { RequestHooks } from "../server/adapters/types.ts";
import type { ConnectEnv } from "./connect.ts";
import { type Dialect, streamError, unsupportedType } from "./responses.ts";

const EMPTY = new Headers();

/**
 * gRPC server reflection (`ServerReflectionInfo`, a bidi RPC) over Connect streaming or
 * gRPC-Web, binary protobuf only (what `buf curl`, grpcurl and Postman send). Each request
 * message is answered as soon as it arrives, so a client that waits for one answer before its
 * next question works wherever the connection is full duplex (HTTP/2; `buf curl` uses h2c with
 * `--http2-prior-knowledge`).
 *
 * Reflection describes the app rather than calling it, so it runs beside the pipeline: no
 * middleware, and a shutdown does not wait for it.
 *
 * @param request The request.
 * @param service The reflection service of the requested version.
 * @param dialect The protocol.
 * @param env The app.
 * @param hooks The adapter's hooks (the stream lifts the idle timeout).
 * @returns The response.
 */
export function reflectionCall(
  request: Request,
  service: ReflectionService,
  dialect: Dialect,
  env: ConnectEnv,
  hooks: RequestHooks | undefined,
): Response {
  const type = request.headers.get("content-type");
  const connect = dialect === "connect";
  const parsed = connect ? parseConnectType(type) : parseGrpcWebType(type);
  const text = !connect && (parsed as { text?: boolean } | undefined)?.text === true;
  const streaming = !connect || (parsed as { streaming?: boolean } | undefined)?.streaming;
  if (!parsed || parsed.codec !== "proto" || !streaming) {
    return unsupportedType(dialect, [
      connect ? "application/connect+proto" : "application/grpc-web+proto",
    ], type);
  }
  const responseType = connect
    ? "application/connect+proto"
    : text
    ? "application/grpc-web-text+proto"
    : "application/grpc-web+proto";
  let header;
  try {
    header = connect
      ? connectHeader(request.headers, {
        streaming: true,
        requireProtocolVersion: env.requireProtocolVersion,
      })
      : grpcWebHeader(request.headers);
  } catch (error) {
    request.body?.cancel().catch(() => {});
    return streamError(dialect, responseType, RpcError.from(error));
  }
  hooks?.onStream?.();
  let body = request.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  if (text) body = body.pipeThrough(base64DecodeStream("request body"));
  const reader = new EnvelopeReader(body, {
    maxMessageBytes: env.app.limits.maxMessageBytes,
    compression: header.compression,
  });
  const writer = new EnvelopeWriter({
    compression: header.responseCompression,
    base64: text,
    onCancel: () => void reader.cancel(),
  });
  const end = (error: RpcError | undefined) => {
    if (connect) writer.write(connectEnd(error, EMPTY), CONNECT_END);
    else writer.write(grpcWebEnd(error, EMPTY), GRPC_WEB_END, false);
    writer.close();
  };
  (async () => {
    try {
      for (;;) {
        const envelope = await reader.next();
        if (!envelope) break;
        const accepted = writer.write(service.respond(envelope.data));
        if (accepted) await accepted;
      }
      end(undefined);
    } catch (error) {
      end(RpcError.is(error) ? error : new RpcError("cancelled", "The client went away"));
    }
  })();
  const headers = new Headers({ "content-type": responseType, "cache-control": "no-store" });
  if (header.responseCompression) {
    headers.set(
      connect ? HEADER_STREAM_ENCODING : HEADER_ENCODING,
      header.responseCompression.name,
    );
  }
  return new Response(writer.readable, { headers });
}
