/**
 * `@microapi/core/client`: the MicroAPI client on its own. {@linkcode Connection} calls a server
 * over HTTP or WebSocket; the stream classes are what generated clients extend;
 * {@linkcode RpcError} and the status codes are what calls fail with. It imports no zod and no
 * server code (tests/layout_test.ts checks its import graph: no package at all), so a browser
 * bundle or a generated client loads only this; `microapi generate --standalone` copies exactly
 * these files (this module and what it imports) next to the client it writes.
 *
 * @example
 * ```ts ignore
 * import { Connection, RpcError } from "@microapi/core/client";
 *
 * await using connection = new Connection("http://127.0.0.1:8080");
 * try {
 *   console.log(await connection.unary("users/get_user", { user_id: 1 }));
 * } catch (error) {
 *   if (RpcError.is(error)) console.log(error.code, error.message);
 * }
 * ```
 *
 * @module
 */

// ---- Call ----

// A client's link to a server, over HTTP or WebSocket.
export { Connection } from "./connection.ts";
// How a Connection is set up.
export type { ConnectionOptions } from "./connection.ts";
// Makes a connection's transport from its URL: how a transport from another entry point plugs in.
export type { TransportFactory } from "./connection.ts";
// Per-call options: signal, timeout, metadata, header and trailer callbacks.
export type { CallOptions } from "./call_options.ts";
// The three streaming calls, which generated clients extend.
export { BidiStream, ClientStream, ServerStream } from "./streams.ts";
// What a client transport provides (an in-memory one in tests, say), and one of its calls.
export type { ClientCall, ClientTransport } from "./transport.ts";
// Which WebSocket API the `"ws"` transport uses.
export type { WebSocketApi } from "./ws_socket.ts";

// ---- For generated clients ----

// The connection a generated function calls through: the one given, or the default.
export { connectionOf } from "./call_options.ts";
// The options of a generated function: CallOptions and `connection`.
export type { ClientCallOptions } from "./call_options.ts";

// ---- Errors and limits ----

// The one error class on the wire: a status code, a message, details, metadata.
export { RpcError } from "../protocol/rpc_error.ts";
// An error as it travels, and what RpcError's constructor takes.
export type { ErrorBody, RpcErrorOptions } from "../protocol/rpc_error.ts";
// The status codes.
export { Code, isCode } from "../protocol/codes.ts";
// A status code other than `ok`.
export type { ErrorCode } from "../protocol/codes.ts";
// Size limits on what the server sends, and the default message limit.
export { DEFAULT_MAX_MESSAGE_BYTES } from "../protocol/limits.ts";
// The limits.
export type { Limits } from "../protocol/limits.ts";
// A method's address: service, method, version.
export type { Route } from "../protocol/route.ts";
// The four RPC patterns.
export { Pattern } from "../schema/pattern.ts";
// What send() throws after end().
export { StreamClosedError } from "../schema/stream_closed_error.ts";
