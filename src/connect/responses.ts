import { acceptEncodingValue } from "../protocol/compression.ts";
import { errorToJsonBytes, httpStatusFromCode } from "../protocol/connect/error.ts";
import {
  encodeEndStream as connectEndStream,
  FLAG_END_STREAM as CONNECT_END,
} from "../protocol/connect/end_stream.ts";
import { HEADER_UNARY_ACCEPT_ENCODING } from "../protocol/connect/headers.ts";
import { encodeEnvelope } from "../protocol/envelope.ts";
import {
  encodeEndStream as grpcWebEndStream,
  FLAG_END_STREAM as GRPC_WEB_END,
} from "../protocol/grpc_web/end_stream.ts";
import { setStatus } from "../protocol/grpc_web/error.ts";
import { HEADER_ACCEPT_ENCODING } from "../protocol/grpc_web/headers.ts";
import { RpcError } from "../protocol/rpc_error.ts";

/**
 * The answers the Connect handlers share: errors before a call runs, in each protocol's format.
 * Connect unary errors are JSON with the HTTP status of the code; Connect streams and gRPC-Web
 * always answer 200 and carry the error in their last envelope (the end-stream message, the
 * trailers frame).
 */

/** The two protocols: Connect, and gRPC-Web. */
export type Dialect = "connect" | "grpc-web";

const EMPTY = new Headers();

/**
 * A unary Connect error response: the error JSON, with the status of its code.
 *
 * @param error The error.
 * @param headers Headers to send with it (the call's headers and `trailer-` trailers).
 * @returns The response.
 */
export function unaryError(error: RpcError, headers?: Headers): Response {
  const all = new Headers(headers);
  all.set("content-type", "application/json");
  // An unsupported content-encoding is answered with what is accepted, as the spec asks.
  if (error.code === "unimplemented" && isEncodingError(error)) {
    all.set(HEADER_UNARY_ACCEPT_ENCODING, acceptEncodingValue());
  }
  return new Response(errorToJsonBytes(error) as Uint8Array<ArrayBuffer>, {
    status: httpStatusFromCode(error.code),
    headers: all,
  });
}

/**
 * A streaming response that holds only its end: the error in the end-stream message (Connect)
 * or the trailers frame (gRPC-Web), HTTP 200 as both protocols require.
 *
 * @param dialect The protocol.
 * @param contentType The response's content type (the request's).
 * @param error The error.
 * @returns The response.
 */
export function streamError(dialect: Dialect, contentType: string, error: RpcError): Response {
  const headers = new Headers({ "content-type": contentType });
  if (isEncodingError(error)) {
    headers.set(
      dialect === "connect" ? "connect-accept-encoding" : HEADER_ACCEPT_ENCODING,
      acceptEncodingValue(),
    );
  }
  const body = dialect === "connect"
    ? encodeEnvelope(CONNECT_END, connectEndStream(error, EMPTY))
    : encodeEnvelope(GRPC_WEB_END, grpcWebEndStream(error, EMPTY));
  // gRPC-Web-text: the same envelope as base64.
  if (contentType.startsWith("application/grpc-web-text")) {
    return new Response(body.toBase64(), { headers });
  }
  return new Response(body as Uint8Array<ArrayBuffer>, { headers });
}

/**
 * The answer to a request whose content type the method does not take (or that is not the
 * protocol's at all): HTTP 415, as Connect and gRPC servers answer it, with the content types
 * that would do.
 *
 * @param dialect The protocol the request looked like.
 * @param accepted The content types this method takes.
 * @param got The content type sent.
 * @returns The response.
 */
export function unsupportedType(
  dialect: Dialect,
  accepted: readonly string[],
  got: string | null,
): Response {
  const error = new RpcError(
    "invalid_argument",
    `Unsupported content type ${JSON.stringify((got ?? "").slice(0, 80))}: send ${
      accepted.join(" or ")
    }`,
  );
  const headers = new Headers({ "accept-post": accepted.join(", ") });
  if (dialect === "grpc-web") {
    headers.set("content-type", "application/grpc-web+proto");
    setStatus(headers, new RpcError("internal", error.message));
    return new Response(null, { status: 415, headers });
  }
  headers.set("content-type", "application/json");
  return new Response(errorToJsonBytes(error) as Uint8Array<ArrayBuffer>, { status: 415, headers });
}

/**
 * The answer to a procedure the app does not have: `unimplemented`, as Connect and gRPC clients
 * expect (HTTP 404 for Connect; a trailers-only 200 for gRPC-Web).
 *
 * @param dialect The protocol of the request.
 * @param path The procedure, `/pkg.Service/Method`.
 * @param services The app's `pkg.Service` names, to list when the app publishes them.
 * @returns The response.
 */
export function unknownProcedure(
  dialect: Dialect,
  path: string,
  services: readonly string[] | undefined,
): Response {
  const [, service = "", method = ""] = path.split("/");
  const known = services?.includes(service);
  const message = known
    ? `Service ${service} has no method ${JSON.stringify(method)}`
    : `No service ${service}${
      services && services.length > 0 ? `; the services are ${services.join(", ")}` : ""
    }`;
  const error = new RpcError("unimplemented", message);
  if (dialect === "grpc-web") {
    const headers = setStatus(new Headers({ "content-type": "application/grpc-web+proto" }), error);
    return new Response(null, { headers });
  }
  const response = unaryError(error);
  return new Response(response.body, { status: 404, headers: response.headers });
}

/** An `unimplemented` error for a compression the server does not take. */
function isEncodingError(error: RpcError): boolean {
  const details = error.details as { accepted?: unknown } | undefined;
  return typeof details === "object" && details !== null && Array.isArray(details.accepted);
}
