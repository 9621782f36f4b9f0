import { createProtoCodecs, type MethodCodec } from "../protobuf/codec.ts";
import {
  DESCRIPTOR_SET_PATH,
  encodeFileDescriptorSet,
  fileDescriptorSet,
} from "../protobuf/descriptor.ts";
import { buildProtoModel } from "../protobuf/build_model.ts";
import type { ProtoLock } from "../protobuf/numbering.ts";
import { createReflection, type ReflectionService } from "../protobuf/reflection.ts";
import { parseContentType as parseConnectType } from "../protocol/connect/content_type.ts";
import { PARAM_CONNECT, PARAM_MESSAGE } from "../protocol/connect/headers.ts";
import { parseContentType as parseGrpcWebType } from "../protocol/grpc_web/content_type.ts";
import type { Route } from "../protocol/route.ts";
import type { RequestHooks } from "../server/adapters/types.ts";
import type { Protocol, ProtocolEnv, ProtocolHandler } from "../server/protocol.ts";
import { connectGet, connectUnary } from "./connect_unary.ts";
import { connectStream } from "./connect_stream.ts";
import { grpcWebCall } from "./grpc_web.ts";
import { reflectionCall } from "./reflection_call.ts";
import { type Dialect, unknownProcedure } from "./responses.ts";
import { type WireCodecs, wireCodecs } from "./wire_codec.ts";

/** How {@linkcode connect} serves an app. */
export interface ConnectOptions {
  /**
   * The field-number lock that `microapi proto --lock` writes (read it with `parseLock()`), so
   * the server numbers fields exactly as the `.proto` files clients were generated from. Default:
   * declaration order and `.meta({ protobuf })` numbers only (docs/connect.md, "Field numbers").
   */
  lock?: ProtoLock;
  /** Serve gRPC-Web (`application/grpc-web*`) too. Default true. */
  grpcWeb?: boolean;
  /**
   * Refuse Connect requests without `connect-protocol-version: 1` (or `connect=v1` for GET).
   * Default false: Connect clients send it, curl users rarely do.
   */
  requireProtocolVersion?: boolean;
  /**
   * Publish the FileDescriptorSet at `GET <basePath>/_microapi/descriptors.binpb` and gRPC server
   * reflection (v1 and v1alpha), so `buf curl --reflect`, grpcurl and `microapi proto <url>` work
   * with no `.proto` file. Default: when the app publishes its introspection (on, unless the
   * environment says production).
   */
  reflection?: boolean;
}

/** What the handlers of one app share. */
export interface ConnectEnv {
  /** The app's side. */
  readonly app: ProtocolEnv;
  /** Refuse requests without the protocol version. */
  readonly requireProtocolVersion: boolean;
}

/** A method as the Connect handlers call it: its protobuf codecs and its route in the app. */
export interface ServedMethod {
  /** The codecs. */
  readonly codec: MethodCodec;
  /** The app route. */
  readonly route: Route;
  /** Its JSON and binary codecs. */
  readonly wire: WireCodecs;
}

/** A Connect or gRPC-Web path: `/<package>.<Service>/<Method>`. */
const PROCEDURE = /^\/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\/[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The Connect protocol and gRPC-Web for an app, with its protobuf schema derived from the zod
 * schemas: every method at `/<package>.<Service>/<Method>` (`/users.v1.Users/GetUser`), next to
 * MicroAPI's own routes, plus the FileDescriptorSet and gRPC server reflection. Connect-ES,
 * Connect-Go, Connect-Swift, Connect-Kotlin, `buf curl` and gRPC-Web clients call the same
 * handlers, through the same middleware and validation. docs/connect.md has the mapping, the
 * wire and the limits.
 *
 * @param options The field-number lock, gRPC-Web, the protocol-version policy, reflection.
 * @returns The protocol, for the app's `protocols` option.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MicroAPI, Service, z } from "@microapi/core";
 * import { connect } from "@microapi/core/connect";
 *
 * const users = new Service("users", { version: 1 }).method(
 *   "get_user",
 *   { input: z.object({ user_id: z.number().int() }), output: z.object({ name: z.string() }) },
 *   ({ user_id }) => ({ name: `user${user_id}` }),
 * );
 * const app = new MicroAPI({ services: [users], protocols: [connect()] });
 * const response = await app.fetch(
 *   new Request("http://localhost/users.v1.Users/GetUser", {
 *     method: "POST",
 *     headers: { "content-type": "application/json", "connect-protocol-version": "1" },
 *     body: JSON.stringify({ userId: 7 }),
 *   }),
 * );
 * assert.deepEqual(await response.json(), { name: "user7" });
 * ```
 */
export function connect(options: ConnectOptions = {}): Protocol {
  return {
    name: "connect",
    setup: (env) => setup(env, options),
  };
}

function setup(app: ProtocolEnv, options: ConnectOptions): ProtocolHandler {
  const model = buildProtoModel(app.services, {
    ...(app.schemaNames ? { schemaNames: app.schemaNames } : {}),
    ...(options.lock ? { lock: options.lock } : {}),
  });
  const codecs = createProtoCodecs(model);
  const methods = new Map<string, ServedMethod>();
  for (const codec of codecs.methods) {
    const route = { service: codec.service, method: codec.method, version: codec.version };
    if (app.admission.find(route)) {
      methods.set(codec.path, { codec, route, wire: wireCodecs(codec) });
    }
  }
  const publish = options.reflection ?? app.publish;
  let reflection: Map<string, ReflectionService> | undefined;
  let descriptors: Uint8Array<ArrayBuffer> | undefined;
  if (publish) {
    const set = fileDescriptorSet(model);
    descriptors = encodeFileDescriptorSet(set);
    reflection = new Map(createReflection(set).map((service) => [service.path, service]));
  }
  const env: ConnectEnv = {
    app,
    requireProtocolVersion: options.requireProtocolVersion ?? false,
  };
  const grpcWeb = options.grpcWeb ?? true;
  const services = [...new Set(codecs.methods.map((m) => m.path.split("/")[1]!))];

  const handle = (request: Request, path: string, hooks: RequestHooks | undefined) => {
    if (request.method === "GET") {
      if (path === DESCRIPTOR_SET_PATH && descriptors) {
        return new Response(descriptors, {
          headers: { "content-type": "application/octet-stream", "cache-control": "no-cache" },
        });
      }
      if (!PROCEDURE.test(path)) return undefined;
      const method = methods.get(path);
      if (method) return connectGet(request, method, env);
      const query = new URL(request.url).searchParams;
      if (!query.has(PARAM_CONNECT) && !query.has(PARAM_MESSAGE)) return undefined;
      return unknownProcedure("connect", path, publish ? services : undefined);
    }
    if (request.method !== "POST" || !PROCEDURE.test(path)) return undefined;
    const type = request.headers.get("content-type");
    const dialect: Dialect | undefined = grpcWeb && parseGrpcWebType(type)
      ? "grpc-web"
      : parseConnectType(type)
      ? "connect"
      : undefined;
    const method = methods.get(path);
    if (!method) {
      const reflect = reflection?.get(path);
      if (reflect && dialect) return reflectionCall(request, reflect, dialect, env, hooks);
      // Not a procedure of ours: Connect and gRPC-Web requests learn it is unimplemented; any
      // other request goes on to the app's fallback.
      if (!dialect) return undefined;
      return unknownProcedure(dialect, path, publish ? services : undefined);
    }
    if (dialect === "grpc-web") return grpcWebCall(request, method, env, hooks);
    if (method.codec.pattern === "unary") return connectUnary(request, method, env);
    return connectStream(request, method, env, hooks);
  };
  // The procedures' paths, so that an adapter that rewrites request paths (Bun) can tell the
  // requests it rewrote to one of them apart (docs/runtimes.md, "Request paths").
  const paths = [...methods.keys(), ...(reflection?.keys() ?? [])];
  if (descriptors) paths.push(DESCRIPTOR_SET_PATH);
  return Object.assign(handle, { paths });
}
