// The peers' packages are the benchmark's own, pinned here and in bench/npm/package.json, never in
// deno.json's imports: inline npm: specifiers on purpose.
// deno-lint-ignore-file no-import-prefix

/**
 * Connect-ES 2: the Connect protocol with its JSON codec. The service is described at run time
 * (`@bufbuild/protobuf`'s `create(FileDescriptorProtoSchema, ...)`, no protoc, no generated code):
 *
 * ```proto
 * package bench.v1;
 * message GetUserRequest { int32 user_id = 1; }
 * message ListUsersRequest { int32 limit = 1; }
 * message User { string username = 1; int32 age = 2; }
 * service UserService {
 *   rpc GetUser(GetUserRequest) returns (User);
 *   rpc ListUsers(ListUsersRequest) returns (stream User);
 * }
 * ```
 *
 * `createConnectRouter()` (Connect protocol only) routes `POST /bench.v1.UserService/GetUser`
 * (`content-type: application/json`) to the universal handler, turned into a fetch handler by
 * `createFetchHandler()`. The JSON codec accepts the proto field name, so the request body is
 * `{"user_id":42}` as for the others, and the reply is `{"username":"alice","age":30}`. Protobuf
 * checks the field types when it decodes; the handler also runs the zod schemas, on the decoded
 * message and on its reply, so that it validates what the others validate.
 */

import {
  create,
  createFileRegistry,
  type DescMethodServerStreaming,
  type DescMethodUnary,
} from "npm:@bufbuild/protobuf@2.17.0";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from "npm:@bufbuild/protobuf@2.17.0/wkt";
import { createConnectRouter } from "npm:@connectrpc/connect@2.3.0";
import { createFetchHandler } from "npm:@connectrpc/connect@2.3.0/protocol";
import { z } from "npm:zod@4.6.7";
import { getUser, User } from "./schemas.ts";

const OPTIONAL = FieldDescriptorProto_Label.OPTIONAL;

const file = create(FileDescriptorProtoSchema, {
  name: "bench/v1/users.proto",
  package: "bench.v1",
  syntax: "proto3",
  messageType: [
    {
      name: "GetUserRequest",
      field: [{
        name: "user_id",
        jsonName: "userId",
        number: 1,
        type: FieldDescriptorProto_Type.INT32,
        label: OPTIONAL,
      }],
    },
    {
      name: "ListUsersRequest",
      field: [{
        name: "limit",
        jsonName: "limit",
        number: 1,
        type: FieldDescriptorProto_Type.INT32,
        label: OPTIONAL,
      }],
    },
    {
      name: "User",
      field: [
        {
          name: "username",
          jsonName: "username",
          number: 1,
          type: FieldDescriptorProto_Type.STRING,
          label: OPTIONAL,
        },
        {
          name: "age",
          jsonName: "age",
          number: 2,
          type: FieldDescriptorProto_Type.INT32,
          label: OPTIONAL,
        },
      ],
    },
  ],
  service: [{
    name: "UserService",
    method: [{
      name: "GetUser",
      inputType: ".bench.v1.GetUserRequest",
      outputType: ".bench.v1.User",
    }, {
      name: "ListUsers",
      inputType: ".bench.v1.ListUsersRequest",
      outputType: ".bench.v1.User",
      serverStreaming: true,
    }],
  }],
});

const service = createFileRegistry(file, () => undefined).getService("bench.v1.UserService");
const [found, listed] = service?.methods ?? [];
if (found?.methodKind !== "unary" || listed?.methodKind !== "server_streaming") {
  throw new Error("bench.v1.UserService.GetUser or ListUsers is missing");
}
// A descriptor built at run time has no static message types: the messages are plain `Message`s.
const method = found as DescMethodUnary;
const listMethod = listed as DescMethodServerStreaming;

/** The decoded request message, as zod sees it (protobuf's JSON names). */
const GetUserMessage = z.object({ userId: z.number().int() });
/** The streaming request, as zod sees it. */
const ListUsersMessage = z.object({ limit: z.number().int() });

const router = createConnectRouter({ grpc: false, grpcWeb: false });
router.rpc(method, (request) => {
  const { userId } = GetUserMessage.parse(request);
  return User.parse(getUser({ user_id: userId }));
});
// The streaming benchmark's call: `limit` users `{username: "u<i>", age: i}`, each validated by
// the zod schema as MicroAPI validates its output.
router.rpc(listMethod, async function* (request) {
  const { limit } = ListUsersMessage.parse(request);
  for (let i = 0; i < limit; i++) yield User.parse({ username: `u${i}`, age: i });
});

const handlers = new Map(
  router.handlers.map((handler) => [handler.requestPath, createFetchHandler(handler)]),
);

/**
 * Routes by path to the method's handler; anything else is a 404.
 *
 * @param request The request.
 * @returns Connect's response.
 */
export function handler(request: Request): Response | Promise<Response> {
  const url = request.url;
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  const method = handlers.get(path);
  return method ? method(request) : new Response("not found", { status: 404 });
}
