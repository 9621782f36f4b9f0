import type { Compression } from "../protocol/compression.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { streamsInput, streamsOutput } from "../schema/pattern.ts";
import type { RequestHooks } from "../server/adapters/types.ts";
import type { ConnectEnv, ServedMethod } from "./connect.ts";
import { EnvelopeSink, type StreamEnd } from "./envelope_sink.ts";
import { type Dialect, streamError } from "./responses.ts";
import { envelopeSource } from "./sources.ts";
import type { WireCodec } from "./wire_codec.ts";

/** What a protocol read from an enveloped request before the call is admitted. */
export interface EnvelopedRequest {
  /** The protocol. */
  readonly dialect: Dialect;
  /** The response's content type. */
  readonly contentType: string;
  /** The response's protocol headers (encodings). */
  readonly headers: Headers;
  /** The call's codec. */
  readonly codec: WireCodec;
  /** The request body as envelopes (base64 and content-encoding undone). */
  readonly body: ReadableStream<Uint8Array> | null;
  /** The client's timeout. */
  readonly timeoutMs: number | undefined;
  /** The name of the timeout header, for messages. */
  readonly timeoutName: string;
  /** The compression of compressed request envelopes. */
  readonly compression: Compression | undefined;
  /** The compression for response envelopes. */
  readonly responseCompression: Compression | undefined;
  /** How the response ends. */
  readonly end: StreamEnd;
  /** Base64 response (gRPC-Web-text). */
  readonly base64: boolean;
}

/**
 * Runs a call whose request and response are envelopes (Connect streams, every gRPC-Web call)
 * through admission and the pipeline. The response is committed (HTTP 200) once the call's
 * headers are final; the request body is read one envelope at a time as the handler asks, so
 * bidi calls are full duplex wherever the HTTP connection is (HTTP/2, and HTTP/1.1 between
 * clients that stream a request body while reading the response).
 *
 * @param request The request.
 * @param method The method.
 * @param env The app.
 * @param wire What the protocol read from the request.
 * @param hooks The adapter's hooks (a stream lifts the idle timeout).
 * @returns The response, once the call's headers are final.
 */
export function envelopedCall(
  request: Request,
  method: ServedMethod,
  env: ConnectEnv,
  wire: EnvelopedRequest,
  hooks: RequestHooks | undefined,
): Promise<Response> | Response {
  const { pattern } = method.codec;
  const call = env.app.admission.admit({
    route: method.route,
    pattern,
    transport: wire.dialect,
    metadata: request.headers,
    timeout: wire.timeoutMs,
    timeoutName: wire.timeoutName,
  });
  if (call instanceof RpcError) {
    request.body?.cancel().catch(() => {});
    return streamError(wire.dialect, wire.contentType, call);
  }
  if (hooks?.onStream && (streamsInput(pattern) || streamsOutput(pattern))) hooks.onStream();
  const peer = new AbortController();
  const headers = new Headers(wire.headers);
  headers.set("content-type", wire.contentType);
  const sink = new EnvelopeSink({
    codec: wire.codec,
    headers,
    end: wire.end,
    compression: wire.responseCompression,
    base64: wire.base64,
    onCancel: () => peer.abort(),
  });
  const source = envelopeSource(wire.body, wire.codec, {
    maxMessageBytes: env.app.limits.maxMessageBytes,
    compression: wire.compression,
    single: !streamsInput(pattern),
  });
  call.run(source, sink, {
    signal: peer.signal,
    watchPeer: (abort) => request.signal.addEventListener("abort", abort, { once: true }),
  });
  return sink.response;
}
