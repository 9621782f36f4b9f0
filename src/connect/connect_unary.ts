import { compress, type Compression, decompress, readBody } from "../protocol/compression.ts";
import { contentTypeFor, parseContentType } from "../protocol/connect/content_type.ts";
import { parseGetRequest } from "../protocol/connect/get_request.ts";
import { HEADER_TIMEOUT, HEADER_UNARY_ENCODING } from "../protocol/connect/headers.ts";
import { parseRequestHeader } from "../protocol/connect/request_header.ts";
import { setUnaryTrailers } from "../protocol/connect/trailers.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { CallSink, MessageSource } from "../server/call.ts";
import { EMPTY_HEADERS } from "../server/call_context.ts";
import type { ConnectEnv, ServedMethod } from "./connect.ts";
import { unaryError, unsupportedType } from "./responses.ts";
import { bodyGone, DONE } from "./sources.ts";
import { CODEC_NAMES, codecNamed, type WireCodec } from "./wire_codec.ts";

/**
 * Connect unary calls: `POST` with the message as the whole body (`application/json` or
 * `application/proto`, `content-encoding` for compression), or `GET` with the message in the
 * query for methods declared `idempotency: "no_side_effects"`. The answer is the response
 * message with status 200, or the error JSON with the status of its code; the call's headers are
 * response headers and its trailers `trailer-` headers.
 */

/** Responses smaller than this are not compressed: it costs more than it saves. */
const COMPRESS_MIN_BYTES = 1024;

/** The headers of a unary success without headers or trailers of the call's own. */
const CONTENT_TYPES: Readonly<Record<string, Record<string, string>>> = {
  json: { "content-type": "application/json" },
  proto: { "content-type": "application/proto" },
};

/** The unary content types, for the 415 answer. */
const UNARY_TYPES = CODEC_NAMES.map((name) => contentTypeFor(name, false));

/**
 * Answers a unary Connect POST.
 *
 * @param request The request.
 * @param method The method (unary).
 * @param env The app.
 * @returns The response, when the call has ended.
 */
export function connectUnary(
  request: Request,
  method: ServedMethod,
  env: ConnectEnv,
): Promise<Response> | Response {
  const contentType = request.headers.get("content-type");
  const type = parseContentType(contentType);
  const codec = type && !type.streaming ? codecNamed(method.wire, type.codec) : undefined;
  if (!codec) return unsupportedType("connect", UNARY_TYPES, contentType);
  let header;
  try {
    header = parseRequestHeader(request.headers, {
      streaming: false,
      requireProtocolVersion: env.requireProtocolVersion,
    });
  } catch (error) {
    return unaryError(RpcError.from(error));
  }
  const limit = env.app.limits.maxMessageBytes;
  const { compression } = header;
  let read = false;
  const source: MessageSource = {
    async next() {
      if (read) return DONE;
      read = true;
      const bytes = await readUnaryBody(request, compression, limit).catch(bodyGone);
      return { done: false, value: codec.decode(bytes) };
    },
    cancel() {
      if (!read && !request.bodyUsed) request.body?.cancel().catch(() => {});
    },
  };
  return run(request, method, env, codec, header.timeoutMs, header.responseCompression, source);
}

/**
 * Answers a Connect GET: the message in the query (`?encoding=json&message=...`), for methods
 * free of side effects.
 *
 * @param request The request.
 * @param method The method.
 * @param env The app.
 * @returns The response.
 */
export function connectGet(
  request: Request,
  method: ServedMethod,
  env: ConnectEnv,
): Promise<Response> | Response {
  const definition = env.app.admission.find(method.route)?.method;
  if (method.codec.pattern !== "unary" || definition?.idempotency !== "no_side_effects") {
    const error = new RpcError(
      "unimplemented",
      `Use POST to call ${method.codec.path.slice(1)}: GET is for unary methods declared ` +
        `idempotency: "no_side_effects"`,
    );
    const response = unaryError(error, new Headers({ allow: "POST" }));
    return new Response(response.body, { status: 405, headers: response.headers });
  }
  const limit = env.app.limits.maxMessageBytes;
  let get;
  try {
    get = parseGetRequest(new URL(request.url), request.headers, {
      maxMessageBytes: limit,
      requireProtocolVersion: env.requireProtocolVersion,
    });
  } catch (error) {
    return unaryError(RpcError.from(error));
  }
  const codec = codecNamed(method.wire, get.codec);
  if (!codec) return unsupportedType("connect", CODEC_NAMES.map((n) => `encoding=${n}`), get.codec);
  const { message, compression } = get;
  let read = false;
  const source: MessageSource = {
    async next() {
      if (read) return DONE;
      read = true;
      const bytes = compression
        ? await decompress(message, compression, { maxBytes: limit, what: "message" })
        : message;
      return { done: false, value: codec.decode(bytes) };
    },
    cancel() {},
  };
  return run(request, method, env, codec, get.timeoutMs, get.responseCompression, source);
}

/**
 * The whole body of a unary request, held to the limit before and after decompression. A body of
 * a declared length within the limit is read in one go (the runtime's fastest way; HTTP framing
 * holds the client to the length); any other is read chunk by chunk, failing as soon as it passes
 * the limit.
 */
async function readUnaryBody(
  request: Request,
  compression: Compression | undefined,
  limit: number,
): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (compression === undefined && declared !== null && Number(declared) <= limit) {
    return new Uint8Array(await request.arrayBuffer());
  }
  return await readBody(request.body, compression, { maxBytes: limit, what: "request body" });
}

function run(
  request: Request,
  method: ServedMethod,
  env: ConnectEnv,
  codec: WireCodec,
  timeoutMs: number | undefined,
  responseCompression: Compression | undefined,
  source: MessageSource,
): Promise<Response> | Response {
  const call = env.app.admission.admit({
    route: method.route,
    pattern: "unary",
    transport: "connect",
    metadata: request.headers,
    timeout: timeoutMs,
    timeoutName: HEADER_TIMEOUT,
  });
  if (call instanceof RpcError) {
    source.cancel();
    return unaryError(call);
  }
  const sink = new UnarySink(codec, responseCompression);
  call.run(source, sink, {
    watchPeer: (abort) => request.signal.addEventListener("abort", abort, { once: true }),
  });
  return sink.response;
}

/** The response of a unary call: built when the call closes. */
class UnarySink implements CallSink {
  readonly response: Promise<Response>;
  #resolve: (response: Response) => void;
  #codec: WireCodec;
  #compression: Compression | undefined;
  #headers: Headers | undefined;
  #body: Uint8Array | undefined;

  constructor(codec: WireCodec, compression: Compression | undefined) {
    const { promise, resolve } = Promise.withResolvers<Response>();
    this.response = promise;
    this.#resolve = resolve;
    this.#codec = codec;
    this.#compression = compression;
  }

  open(headers: Headers): void {
    this.#headers = headers;
  }

  send(message: unknown): undefined {
    this.#body = this.#codec.encode(message);
    return undefined;
  }

  close(error: RpcError | undefined, trailers: Headers): void {
    const body = this.#body;
    const compression = this.#compression;
    const plain = (this.#headers === undefined || this.#headers === EMPTY_HEADERS) &&
      trailers === EMPTY_HEADERS;
    if (
      !error && body !== undefined && plain && (!compression || body.length < COMPRESS_MIN_BYTES)
    ) {
      // The common case, without a Headers object to build.
      this.#resolve(
        new Response(body as Uint8Array<ArrayBuffer>, { headers: CONTENT_TYPES[this.#codec.name] }),
      );
      return;
    }
    const headers = new Headers(this.#headers);
    setUnaryTrailers(headers, trailers);
    if (error || body === undefined) {
      this.#resolve(unaryError(error ?? new RpcError("internal", "internal error"), headers));
      return;
    }
    headers.set("content-type", contentTypeFor(this.#codec.name, false));
    if (!compression || body.length < COMPRESS_MIN_BYTES) {
      this.#resolve(new Response(body as Uint8Array<ArrayBuffer>, { headers }));
      return;
    }
    headers.set(HEADER_UNARY_ENCODING, compression.name);
    compress(body, compression).then(
      (compressed) =>
        this.#resolve(new Response(compressed as Uint8Array<ArrayBuffer>, { headers })),
      () => {
        headers.delete(HEADER_UNARY_ENCODING);
        this.#resolve(new Response(body as Uint8Array<ArrayBuffer>, { headers }));
      },
    );
  }
}
