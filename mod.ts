/**
 * MicroAPI: typed RPC for Deno and Bun. Define services as plain async functions with zod
 * schemas; call them over HTTP with the four RPC patterns (unary, server streaming, client
 * streaming, bidirectional).
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

export { z } from "zod";

export { stream, streaming } from "./src/schema/markers.ts";
export type { StreamingOutput, StreamInput } from "./src/schema/markers.ts";
export { isService, Service } from "./src/schema/service.ts";
export type {
  Handler,
  HandlerInput,
  HandlerResult,
  InputSpec,
  MethodDefinition,
  MethodOptions,
  MethodTypes,
  OutputSpec,
  ServiceOptions,
} from "./src/schema/service.ts";
export { Stream, StreamClosedError } from "./src/schema/stream.ts";
export type { StreamOptions } from "./src/schema/stream.ts";
export type { AppState, Context } from "./src/schema/context.ts";
export { dependency } from "./src/schema/dependency.ts";
export type {
  Dependency,
  DependencyContext,
  DependencyMap,
  ResolvedDeps,
  Resolver,
} from "./src/schema/dependency.ts";
export type {
  Middleware,
  MiddlewareContext,
  Next,
  OUTCOME,
  Outcome,
} from "./src/schema/middleware.ts";
export { Pattern } from "./src/schema/pattern.ts";
export {
  buildIntrospection,
  INTROSPECTION_FORMAT,
  INTROSPECTION_PATH,
  parseIntrospection,
} from "./src/schema/introspection.ts";
export type {
  IntrospectionDocument,
  IntrospectionOptions,
  MethodDescription,
  ServiceDescription,
} from "./src/schema/introspection.ts";
export type { JsonSchema } from "./src/schema/json_schema.ts";
export type { Issue } from "./src/schema/validate.ts";

export { Code, httpStatusByCode, isCode } from "./src/protocol/codes.ts";
export type { ErrorCode } from "./src/protocol/codes.ts";
export { RpcError } from "./src/protocol/rpc_error.ts";
export type { ErrorBody, RpcErrorOptions } from "./src/protocol/rpc_error.ts";
export type { Limits } from "./src/protocol/limits.ts";
export { DEFAULT_MAX_MESSAGE_BYTES } from "./src/protocol/limits.ts";
export type { Route } from "./src/protocol/route.ts";

export { isApp, MicroAPI } from "./src/server/app.ts";
export type { Lifespan, MicroAPIOptions, WebSocketOptions } from "./src/server/app_options.ts";
export type { ServeOptions, Server } from "./src/server/serving.ts";
export type { Health, ServingStatus } from "./src/server/health.ts";
export type { CorsOptions } from "./src/server/cors.ts";
export type {
  AdmittedCall,
  CallSink,
  IncomingCall,
  MessageSource,
  MethodEntry,
  RunOptions,
} from "./src/server/call.ts";
export type { Admission } from "./src/server/admission.ts";

export { Connection } from "./src/client/connection.ts";
export type { ConnectionOptions } from "./src/client/connection.ts";
export type { WebSocketApi } from "./src/client/ws_socket.ts";
export { connectionOf } from "./src/client/call_options.ts";
export type { CallOptions, ClientCallOptions } from "./src/client/call_options.ts";
export { BidiStream, ClientStream, ServerStream } from "./src/client/streams.ts";
export type { ClientCall, ClientTransport } from "./src/client/transport.ts";
