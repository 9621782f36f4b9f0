import {
  create,
  type FileRegistry,
  fromBinary,
  fromJson,
  type JsonValue,
  type Message,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, type Value, ValueSchema } from "@bufbuild/protobuf/wkt";
import type { Pattern } from "../schema/pattern.ts";
import type { Service } from "../schema/service.ts";
import { buildProtoModel, type ProtoModel, type ProtoModelOptions } from "./build_model.ts";
import { Converter, type FieldPlan, guard, invalid, type Local, OMIT, reason } from "./convert.ts";
import { protoRegistry } from "./descriptor.ts";
import type { ProtoRoot } from "./model.ts";

/**
 * Converts one message between protobuf (binary, or the proto3 JSON that Connect clients send)
 * and the plain value the method's zod schema validates: what a MicroAPI client would have sent.
 */
export interface MessageCodec {
  /** The protobuf message's full name. */
  readonly typeName: string;
  /**
   * Decodes protobuf binary.
   *
   * @param bytes The encoded message.
   * @returns The plain value, not yet validated.
   * @throws {RpcError} `invalid_argument` for malformed bytes, a message nested too deeply, or an
   * int64 too large for a JavaScript number where the schema wants a number.
   */
  decodeBinary(bytes: Uint8Array): unknown;
  /**
   * Decodes proto3 JSON (lowerCamel or original field names, defaults left out, enums by name or
   * number, 64-bit integers as strings or numbers). Unknown fields are ignored, as zod drops
   * unknown keys.
   *
   * @param json The parsed JSON.
   * @returns The plain value, not yet validated.
   * @throws {RpcError} `invalid_argument` for JSON that does not fit the message.
   */
  decodeJson(json: unknown): unknown;
  /**
   * Encodes a value the schema has validated as protobuf binary.
   *
   * @param value The value.
   * @returns The encoded message.
   * @throws {TypeError} For a value that does not fit the message (the schema should have
   * rejected it; a bug, reported as `internal`).
   */
  encodeBinary(value: unknown): Uint8Array;
  /**
   * Encodes a validated value as proto3 JSON, as Connect clients read it.
   *
   * @param value The value.
   * @returns The JSON value.
   * @throws {TypeError} As {@linkcode MessageCodec.encodeBinary}.
   */
  encodeJson(value: unknown): JsonValue;
}

/** The codecs of one method. */
export interface MethodCodec {
  /** The MicroAPI service name. */
  readonly service: string;
  /** The MicroAPI version, if any. */
  readonly version: number | undefined;
  /** The MicroAPI method name. */
  readonly method: string;
  /** The Connect and gRPC path: `/users.v1.Users/GetUser`. */
  readonly path: string;
  /** The pattern. */
  readonly pattern: Pattern;
  /** Requests. */
  readonly input: MessageCodec;
  /** Responses. */
  readonly output: MessageCodec;
}

/** Every method's codecs, with the model and registry they were made from. */
export interface ProtoCodecs {
  /** The model. */
  readonly model: ProtoModel;
  /** The registry of every message (and the well-known types used). */
  readonly registry: FileRegistry;
  /** The methods, service by service. */
  readonly methods: readonly MethodCodec[];
  /**
   * Finds a method by its Connect path.
   *
   * @param path `/users.v1.Users/GetUser` (the leading slash is optional).
   * @returns The method's codecs, or undefined.
   */
  byPath(path: string): MethodCodec | undefined;
}

/**
 * Makes the codecs of every method of some services.
 *
 * @param source Services (mapped with `options`), or a model built already.
 * @param options Schema names and the lock, when `source` is services.
 * @returns The codecs.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Service, z } from "../../mod.ts";
 * import { createProtoCodecs } from "./codec.ts";
 * const users = new Service("users", { version: 1 }).method("get_user", {
 *   input: z.object({ user_id: z.number().int(), verbose: z.boolean().default(false) }),
 *   output: z.object({ name: z.string() }),
 * }, () => ({ name: "ada" }));
 * const codec = createProtoCodecs([users]).byPath("/users.v1.Users/GetUser")!;
 * const bytes = codec.input.encodeBinary({ user_id: 7 });
 * assert.deepEqual(codec.input.decodeBinary(bytes), { user_id: 7 });
 * assert.deepEqual(codec.input.decodeJson({ userId: "7", verbose: true }), { user_id: 7, verbose: true });
 * ```
 */
export function createProtoCodecs(
  source: Iterable<Service> | ProtoModel,
  options: ProtoModelOptions = {},
): ProtoCodecs {
  const model = isModel(source) ? source : buildProtoModel(source, options);
  const registry = protoRegistry(model);
  const converter = new Converter(registry);
  const methods: MethodCodec[] = [];
  for (const file of model.files) {
    for (const method of file.service.methods) {
      methods.push({
        service: file.service.key,
        version: file.service.version,
        method: method.key,
        path: method.path,
        pattern: method.pattern,
        input: messageCodec(converter, method.input),
        output: messageCodec(converter, method.output),
      });
    }
  }
  const byPath = new Map(methods.map((method) => [method.path, method]));
  return {
    model,
    registry,
    methods,
    byPath: (path) => byPath.get(path.startsWith("/") ? path : `/${path}`),
  };
}

function isModel(source: Iterable<Service> | ProtoModel): source is ProtoModel {
  return typeof source === "object" && source !== null && "files" in source && "lock" in source;
}

/** The codec of one request or response type. */
function messageCodec(converter: Converter, root: ProtoRoot): MessageCodec {
  const desc = converter.descriptor(root.typeName);
  const fieldPlan: FieldPlan | undefined = root.field
    ? { field: root.field, desc: desc.fields[0]! }
    : undefined;
  const plan = root.message && root.unwrap === "message" ? converter.plan(root.message) : undefined;
  const toPlain = (message: Message): unknown => {
    switch (root.unwrap) {
      case "empty":
        return undefined;
      case "message":
        return converter.decodeMessage(plan!, message as unknown as Local, root.typeName, 0);
      case "field": {
        const value = converter.decodeField(fieldPlan!, message as unknown as Local, "value", 0);
        return value === OMIT ? undefined : value;
      }
      case "timestamp":
        return timestampDate(message as Timestamp);
      case "json":
        return toJson(ValueSchema, message as Value);
    }
  };
  const fromPlain = (value: unknown): Message => {
    switch (root.unwrap) {
      case "empty":
        return create(desc);
      case "message":
        return create(desc, converter.encodeMessage(plan!, value, root.typeName));
      case "field": {
        const encoded = converter.encodeField(fieldPlan!, value, "value");
        return create(
          desc,
          encoded === undefined ? {} : { [fieldPlan!.desc.localName]: encoded },
        );
      }
      case "timestamp":
        return converter.encodeValue({ kind: "timestamp" }, value, root.typeName) as Message;
      case "json":
        return converter.encodeValue({ kind: "json" }, value, root.typeName) as Message;
    }
  };
  return {
    typeName: root.typeName,
    decodeBinary: (bytes) => {
      let message: Message;
      try {
        message = fromBinary(desc, bytes, { readUnknownFields: false });
      } catch (error) {
        // TextDecoder's wording differs by runtime and names no field; say what it means.
        const why = /encoded data|utf-?8/i.test(reason(error))
          ? "a string field is not valid UTF-8"
          : reason(error);
        throw invalid(`Malformed protobuf message ${root.typeName}: ${why}`);
      }
      return guard(root.typeName, () => toPlain(message));
    },
    decodeJson: (json) => {
      let message: Message;
      try {
        message = fromJson(desc, json as JsonValue, { ignoreUnknownFields: true });
      } catch (error) {
        throw invalid(`Invalid JSON for protobuf message ${root.typeName}: ${reason(error)}`);
      }
      return guard(root.typeName, () => toPlain(message));
    },
    encodeBinary: (value) => toBinary(desc, fromPlain(value)),
    encodeJson: (value) => toJson(desc, fromPlain(value)),
  };
}
