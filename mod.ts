/**
 * MicroAPI: typed RPC for Deno and Bun. Define services as plain async functions with zod
 * schemas; call them over HTTP with the four RPC patterns (unary, server streaming, client
 * streaming, bidirectional).
 *
 * This entry point is for defining and serving; it also has the client, so one import does
 * everything. The package's other entry points:
 *
 * - `@microapi/core/client`: the client alone (Connection, the streams, RpcError), with no zod and
 *   no server code: what generated clients import, and what a browser bundle should;
 * - `@microapi/core/testing`: an app called in memory, for tests;
 * - `@microapi/core/transport`: for authors of transports, unstable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MicroAPI, Service, streaming, z } from "@microapi/core";
 * import { createTestConnection } from "@microapi/core/testing";
 *
 * const User = z.object({ username: z.string(), age: z.number().int() });
 * export const users = new Service("users")
 *   .method("get_user", { input: z.object({ user_id: z.number().int() }), output: User },
 *     async ({ user_id }) => ({ username: `user${user_id}`, age: 30 }))
 *   .method("list_users", { input: z.object({ limit: z.number().int().default(10) }), output: streaming(User) },
 *     async function* ({ limit }) {
 *       for (let i = 0; i < limit; i++) yield { username: `user${i}`, age: i };
 *     });
 *
 * const app = new MicroAPI({ services: [users] });
 * // `await app.serve({ port: 8080 })` listens on Deno or Bun; here the app is called in memory.
 * await using connection = await createTestConnection(app);
 * assert.deepEqual(await connection.unary("users/get_user", { user_id: 1 }), { username: "user1", age: 30 });
 * assert.equal((await connection.serverStream("users/list_users", {}).toArray()).length, 10);
 * await app.stop();
 * ```
 *
 * @module
 */

// ---- Define services: for everyone who writes one ----

// zod, the schema library methods are declared with (the copy MicroAPI validates with).
export { z } from "zod";
// A named group of methods; `.method()` adds one, `.use()` adds middleware.
export { isService, Service } from "./src/schema/service.ts";
// A method's declaration, handler and types.
export type {
  Handler,
  HandlerInput,
  HandlerResult,
  Idempotency,
  InputSpec,
  MethodDefinition,
  MethodOptions,
  MethodTypes,
  OutputSpec,
  ServiceOptions,
} from "./src/schema/service.ts";
// `stream(schema)` marks a streamed input, `streaming(schema)` a streamed output.
export { stream, streaming } from "./src/schema/markers.ts";
// What the markers return.
export type { StreamingOutput, StreamInput } from "./src/schema/markers.ts";
// The client's messages as a handler reads them, and the error a closed one throws.
export { Stream, StreamClosedError } from "./src/schema/stream.ts";
// How a Stream is set up.
export type { StreamOptions } from "./src/schema/stream.ts";
// What a handler and a middleware see of the call, and the app's shared state.
export type { AppState, Context } from "./src/schema/context.ts";
// A typed value a handler declares and MicroAPI resolves per call (and cleans up).
export { dependency } from "./src/schema/dependency.ts";
// The types around dependencies.
export type {
  Dependency,
  DependencyContext,
  DependencyMap,
  ResolvedDeps,
  Resolver,
} from "./src/schema/dependency.ts";
// A function around calls (of the app, of a service, or of a method), what it is given and what
// next() resolves to.
export type {
  Middleware,
  MiddlewareContext,
  Next,
  OUTCOME,
  Outcome,
} from "./src/schema/middleware.ts";
// The four RPC patterns, as MicroAPI names them.
export { Pattern } from "./src/schema/pattern.ts";

// ---- Serve: for whoever runs the app ----

// The app: services, middleware, dependencies, lifecycle; `serve()` listens on Deno or Bun.
export { isApp, MicroAPI } from "./src/server/app.ts";
// How the app is set up.
export type {
  Lifespan,
  MicroAPIOptions,
  ResourceOptions,
  WebSocketOptions,
} from "./src/server/app_options.ts";
// How it is served, and what serving returns.
export type { ServeOptions, Server } from "./src/server/serving.ts";
// The health service's state (`app.health`).
export type { Health, ServingStatus } from "./src/server/health.ts";
// Cross-origin calls from browsers.
export type { CorsOptions } from "./src/server/cors.ts";
// Another wire protocol served next to MicroAPI's (`connect()` from @microapi/core/connect makes
// one); for protocol authors, unstable.
export type { Protocol, ProtocolEnv, ProtocolHandler } from "./src/server/protocol.ts";
// What the runtime adapter offers a protocol's request handler.
export type { RequestHooks } from "./src/server/adapters/types.ts";

// ---- Errors and limits: for both sides ----

// The one error class on the wire: a status code, a message, details, metadata.
export { RpcError } from "./src/protocol/rpc_error.ts";
// An error as it travels, and what RpcError's constructor takes.
export type { ErrorBody, RpcErrorOptions } from "./src/protocol/rpc_error.ts";
// The status codes, and the HTTP status each maps to.
export { Code, httpStatusByCode, isCode } from "./src/protocol/codes.ts";
// A status code other than `ok`.
export type { ErrorCode } from "./src/protocol/codes.ts";
// Size limits on what a peer sends, and the default message limit.
export { DEFAULT_MAX_MESSAGE_BYTES } from "./src/protocol/limits.ts";
// The limits.
export type { Limits } from "./src/protocol/limits.ts";
// A method's address: service, method, version.
export type { Route } from "./src/protocol/route.ts";

// ---- Call: the client, also on its own as @microapi/core/client ----

// A client's link to a server, over HTTP or WebSocket.
export { Connection } from "./src/client/connection.ts";
// How a Connection is set up.
export type { ConnectionOptions } from "./src/client/connection.ts";
// Makes a connection's transport from its URL: how a transport from another entry point plugs in.
export type { TransportFactory } from "./src/client/connection.ts";
// Per-call options: signal, timeout, metadata, header and trailer callbacks.
export type { CallOptions } from "./src/client/call_options.ts";
// The three streaming calls, which generated clients extend.
export { BidiStream, ClientStream, ServerStream } from "./src/client/streams.ts";
// What a client transport provides (an in-memory one in tests, say), and one of its calls.
export type { ClientCall, ClientTransport } from "./src/client/transport.ts";
// Which WebSocket API the `"ws"` transport uses.
export type { WebSocketApi } from "./src/client/ws_socket.ts";

// ---- For generated clients ----

// The connection a generated function calls through: the one given, or the default.
export { connectionOf } from "./src/client/call_options.ts";
// The options of a generated function: CallOptions and `connection`.
export type { ClientCallOptions } from "./src/client/call_options.ts";

// ---- Describe: for tools that read an app's API (codegen, docs, consoles) ----

// The introspection document: build it from services, or read one from a server or a file.
export {
  buildIntrospection,
  INTROSPECTION_FORMAT,
  INTROSPECTION_PATH,
  parseIntrospection,
} from "./src/schema/introspection.ts";
// The document's parts.
export type {
  IntrospectionDocument,
  IntrospectionOptions,
  MethodDescription,
  ServiceDescription,
} from "./src/schema/introspection.ts";
// A JSON Schema, as the document holds them.
export type { JsonSchema } from "./src/schema/json_schema.ts";
// One validation problem, as `invalid_argument` details list them.
export type { Issue } from "./src/schema/validate.ts";
