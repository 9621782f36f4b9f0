/**
 * The MicroAPI client on its own: {@linkcode Connection} (over HTTP or WebSocket), the stream
 * classes generated clients extend, {@linkcode RpcError} and the status codes. It imports no zod
 * and no server code, so a browser or a generated client loads only this; `microapi generate
 * --standalone` copies exactly these files (this module and what it imports) next to the client
 * it writes.
 *
 * @example
 * ```ts ignore
 * import { Connection, RpcError } from "./mod.ts";
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

export { Connection } from "./connection.ts";
export type { ConnectionOptions } from "./connection.ts";
export { connectionOf } from "./call_options.ts";
export type { CallOptions, ClientCallOptions } from "./call_options.ts";
export { BidiStream, ClientStream, ServerStream } from "./streams.ts";
export type { ClientCall, ClientTransport } from "./transport.ts";
export type { WebSocketApi } from "./ws_socket.ts";

export { Code, isCode } from "../protocol/codes.ts";
export type { ErrorCode } from "../protocol/codes.ts";
export { RpcError } from "../protocol/rpc_error.ts";
export type { ErrorBody, RpcErrorOptions } from "../protocol/rpc_error.ts";
export { DEFAULT_MAX_MESSAGE_BYTES } from "../protocol/limits.ts";
export type { Limits } from "../protocol/limits.ts";
export type { Route } from "../protocol/route.ts";
export { Pattern } from "../schema/pattern.ts";
export { StreamClosedError } from "../schema/stream_closed_error.ts";
