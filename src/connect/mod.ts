/**
 * Connect, gRPC-Web and protobuf for MicroAPI: `connect()` makes an app answer the Connect
 * protocol and gRPC-Web at `/<package>.<Service>/<Method>`, with a proto3 schema derived from the
 * services' zod schemas, so that Connect-ES, Connect-Go, Connect-Swift, Connect-Kotlin, `buf curl`
 * and gRPC-Web clients call the same handlers as MicroAPI's own clients. The app also publishes
 * its FileDescriptorSet and gRPC server reflection.
 *
 * This entry point (with the protobuf mapping it uses) is the only part of MicroAPI that depends
 * on `@bufbuild/protobuf`; `@microapi/core` keeps zod as its one dependency.
 *
 * @example
 * ```ts
 * import { MicroAPI, Service, z } from "@microapi/core";
 * import { connect } from "@microapi/core/connect";
 *
 * const users = new Service("users", { version: 1 }).method(
 *   "get_user",
 *   {
 *     input: z.object({ user_id: z.number().int() }),
 *     output: z.object({ name: z.string() }),
 *     idempotency: "no_side_effects", // Connect clients may call it with GET
 *   },
 *   ({ user_id }) => ({ name: `user${user_id}` }),
 * );
 * // POST /users.v1.Users/GetUser with Connect, gRPC-Web; POST /v1/users/get_user as before.
 * const app = new MicroAPI({ services: [users], protocols: [connect()] });
 * ```
 *
 * @module
 */

export { connect } from "./connect.ts";
export type { ConnectOptions } from "./connect.ts";
export { DESCRIPTOR_SET_PATH } from "../protobuf/descriptor.ts";
export { parseLock } from "../protobuf/numbering.ts";
export type { ProtoLock } from "../protobuf/numbering.ts";
