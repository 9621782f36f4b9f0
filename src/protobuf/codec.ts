import {
  create,
  type DescField,
  type DescMessage,
  type FileRegistry,
  fromBinary,
  fromJson,
  type JsonValue,
  type Message,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";
import {
  type Timestamp,
  timestampDate,
  timestampFromDate,
  type Value,
  ValueSchema,
} from "@bufbuild/protobuf/wkt";
import { RpcError } from "../protocol/rpc_error.ts";
import type { Pattern } from "../schema/pattern.ts";
import type { Service } from "../schema/service.ts";
import { buildProtoModel, type ProtoModel, type ProtoModelOptions } from "./build_model.ts";
import { protoRegistry } from "./descriptor.ts";
import type { ProtoEnum, ProtoField, ProtoMessage, ProtoRoot, ValueType } from "./model.ts";

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

/** How deep messages may nest in a request (gRPC's default recursion limit). */
export const MAX_DECODE_DEPTH = 100;

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
        input: converter.codec(method.input),
        output: converter.codec(method.output),
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

/** Marks a property to leave out. */
const OMIT: unique symbol = Symbol("omit");

interface FieldPlan {
  readonly field: ProtoField;
  readonly desc: DescField;
}

interface MessagePlan {
  readonly message: ProtoMessage;
  readonly desc: DescMessage;
  readonly fields: readonly FieldPlan[];
  readonly oneofLocalName: string | undefined;
}

interface EnumPlan {
  readonly byNumber: ReadonlyMap<number, string>;
  readonly byValue: ReadonlyMap<string, number>;
}

type Local = Record<string, unknown>;

/** The conversions, with the plans they need made once per message. */
class Converter {
  readonly #registry: FileRegistry;
  readonly #plans = new Map<ProtoMessage, MessagePlan>();
  readonly #enums = new Map<ProtoEnum, EnumPlan>();

  constructor(registry: FileRegistry) {
    this.#registry = registry;
  }

  codec(root: ProtoRoot): MessageCodec {
    const desc = this.#message(root.typeName);
    const fieldPlan: FieldPlan | undefined = root.field
      ? { field: root.field, desc: desc.fields[0]! }
      : undefined;
    const plan = root.message && root.unwrap === "message" ? this.#plan(root.message) : undefined;
    const toPlain = (message: Message): unknown => {
      switch (root.unwrap) {
        case "empty":
          return undefined;
        case "message":
          return this.#decodeMessage(plan!, message as unknown as Local, root.typeName, 0);
        case "field": {
          const value = this.#decodeField(fieldPlan!, message as unknown as Local, "value", 0);
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
          return create(desc, this.#encodeMessage(plan!, value, root.typeName));
        case "field": {
          const encoded = this.#encodeField(fieldPlan!, value, "value");
          return create(
            desc,
            encoded === undefined ? {} : { [fieldPlan!.desc.localName]: encoded },
          );
        }
        case "timestamp":
          return this.#encodeValue({ kind: "timestamp" }, value, root.typeName) as Message;
        case "json":
          return this.#encodeValue({ kind: "json" }, value, root.typeName) as Message;
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

  #message(typeName: string): DescMessage {
    const desc = this.#registry.getMessage(typeName);
    if (!desc) throw new Error(`No descriptor for ${typeName}`);
    return desc;
  }

  #plan(message: ProtoMessage): MessagePlan {
    let plan = this.#plans.get(message);
    if (plan) return plan;
    const desc = this.#message(message.fullName);
    plan = {
      message,
      desc,
      fields: message.fields.map((field) => ({
        field,
        desc: desc.fields.find((d) => d.number === field.number)!,
      })),
      oneofLocalName: message.oneof
        ? desc.oneofs.find((o) => o.name === message.oneof!.name)!.localName
        : undefined,
    };
    this.#plans.set(message, plan);
    return plan;
  }

  #enum(protoEnum: ProtoEnum): EnumPlan {
    let plan = this.#enums.get(protoEnum);
    if (plan) return plan;
    const byNumber = new Map<number, string>();
    const byValue = new Map<string, number>();
    for (const value of protoEnum.values) {
      if (value.value === undefined) continue;
      byNumber.set(value.number, value.value);
      byValue.set(value.value, value.number);
    }
    plan = { byNumber, byValue };
    this.#enums.set(protoEnum, plan);
    return plan;
  }

  // --- protobuf -> plain ---

  #decodeMessage(plan: MessagePlan, message: Local, path: string, depth: number): unknown {
    if (depth > MAX_DECODE_DEPTH) {
      throw invalid(`Message nested more than ${MAX_DECODE_DEPTH} levels deep at ${path}`);
    }
    const { message: model } = plan;
    if (model.wrapper) {
      const value = this.#decodeField(plan.fields[0]!, message, path, depth);
      return value === OMIT ? undefined : value;
    }
    if (model.oneof) {
      const selected = message[plan.oneofLocalName!] as { case?: string; value?: unknown };
      const index = plan.fields.findIndex((f) => f.desc.localName === selected.case);
      if (index < 0) return {};
      const option = model.oneof.cases[index]!;
      const variant = this.#decodeValue(
        option.field.type,
        selected.value,
        `${path}.${option.field.name}`,
        depth,
      ) as Record<string, unknown>;
      return option.dropsDiscriminator
        ? { [model.oneof.discriminator]: option.values[0], ...variant }
        : variant;
    }
    const out: Record<string, unknown> = {};
    for (const fieldPlan of plan.fields) {
      const value = this.#decodeField(fieldPlan, message, `${path}.${fieldPlan.field.name}`, depth);
      if (value !== OMIT) out[fieldPlan.field.key] = value;
    }
    return out;
  }

  #decodeField(plan: FieldPlan, message: Local, path: string, depth: number): unknown {
    const { field } = plan;
    const raw = message[plan.desc.localName];
    if (field.cardinality === "list") {
      const items = raw as unknown[];
      if (items.length === 0) return field.absent === "omit" ? OMIT : [];
      return items.map((item, i) => this.#decodeValue(field.type, item, `${path}[${i}]`, depth));
    }
    if (field.cardinality === "map") {
      const entries = Object.entries(raw as Record<string, unknown>);
      if (entries.length === 0) return field.absent === "omit" ? OMIT : {};
      return Object.fromEntries(
        entries.map((
          [key, item],
        ) => [key, this.#decodeValue(field.type, item, `${path}[${JSON.stringify(key)}]`, depth)]),
      );
    }
    if (raw === undefined) return this.#absent(field);
    const value = this.#decodeValue(field.type, raw, path, depth);
    // An enum's zero value (UNSPECIFIED) has no string on the zod side: it counts as missing.
    return value === undefined ? this.#absent(field) : value;
  }

  #absent(field: ProtoField): unknown {
    if (field.absent === "null") return null;
    if (field.absent === "omit") return OMIT;
    // A JSON value's zero is null; messages, dates and enums have none a client would send.
    if (field.type.kind === "json") return null;
    if (field.type.kind !== "scalar") return OMIT;
    return zeroOf(field.type.js);
  }

  #decodeValue(type: ValueType, raw: unknown, path: string, depth: number): unknown {
    switch (type.kind) {
      case "scalar":
        switch (type.js) {
          case "number":
            return typeof raw === "bigint" ? safeNumber(raw, path) : raw;
          case "bigint":
            return typeof raw === "bigint" ? raw : BigInt(raw as number);
          case "base64":
            return base64Encode(raw as Uint8Array, "std");
          case "base64url":
            return base64Encode(raw as Uint8Array, "url");
          default:
            return raw;
        }
      case "enum": {
        const number = raw as number;
        return this.#enum(type.enum).byNumber.get(number) ?? (number === 0 ? undefined : number);
      }
      case "message":
        return this.#decodeMessage(this.#plan(type.message), raw as Local, path, depth + 1);
      case "timestamp":
        return timestampDate(raw as Timestamp);
      case "json":
        return toJson(ValueSchema, raw as Value);
    }
  }

  // --- plain -> protobuf (local representation, which create() completes) ---

  #encodeMessage(plan: MessagePlan, value: unknown, path: string): Local {
    const { message: model } = plan;
    if (model.wrapper) {
      const encoded = this.#encodeField(plan.fields[0]!, value, path);
      return encoded === undefined ? {} : { [plan.fields[0]!.desc.localName]: encoded };
    }
    if (typeof value !== "object" || value === null) {
      throw new TypeError(`Cannot encode ${path} as ${model.fullName}: expected an object`);
    }
    const object = value as Record<string, unknown>;
    if (model.oneof) {
      const { discriminator, cases } = model.oneof;
      const tag = object[discriminator];
      const index = cases.findIndex((option) => option.values.includes(tag as string));
      if (index < 0) {
        throw new TypeError(
          `Cannot encode ${path} as ${model.fullName}: no option has ${discriminator} = ${
            JSON.stringify(tag)
          }`,
        );
      }
      const option = cases[index]!;
      let variant = object;
      if (option.dropsDiscriminator) {
        const { [discriminator]: _, ...rest } = object;
        variant = rest;
      }
      return {
        [plan.oneofLocalName!]: {
          case: plan.fields[index]!.desc.localName,
          value: this.#encodeValue(option.field.type, variant, `${path}.${option.field.name}`),
        },
      };
    }
    const init: Local = {};
    for (const fieldPlan of plan.fields) {
      const encoded = this.#encodeField(
        fieldPlan,
        object[fieldPlan.field.key],
        `${path}.${fieldPlan.field.name}`,
      );
      if (encoded !== undefined) init[fieldPlan.desc.localName] = encoded;
    }
    return init;
  }

  #encodeField(plan: FieldPlan, value: unknown, path: string): unknown {
    const { field } = plan;
    if (field.cardinality === "list") {
      if (value === undefined || value === null) return undefined;
      if (!Array.isArray(value)) throw new TypeError(`Cannot encode ${path}: expected an array`);
      return value.map((item, i) => this.#encodeValue(field.type, item, `${path}[${i}]`));
    }
    if (field.cardinality === "map") {
      if (value === undefined || value === null) return undefined;
      if (typeof value !== "object") {
        throw new TypeError(`Cannot encode ${path}: expected an object`);
      }
      return Object.fromEntries(
        Object.entries(value).filter(([, item]) => item !== undefined).map((
          [key, item],
        ) => [key, this.#encodeValue(field.type, item, `${path}[${JSON.stringify(key)}]`)]),
      );
    }
    if (value === undefined || (value === null && field.type.kind !== "json")) return undefined;
    return this.#encodeValue(field.type, value, path);
  }

  #encodeValue(type: ValueType, value: unknown, path: string): unknown {
    switch (type.kind) {
      case "scalar":
        return encodeScalar(type, value, path);
      case "enum": {
        const number = this.#enum(type.enum).byValue.get(value as string);
        if (number === undefined) {
          throw new TypeError(
            `Cannot encode ${path}: ${
              JSON.stringify(value)
            } is not a value of ${type.enum.fullName}`,
          );
        }
        return number;
      }
      case "message": {
        const plan = this.#plan(type.message);
        return create(plan.desc, this.#encodeMessage(plan, value, path));
      }
      case "timestamp": {
        const date = value instanceof Date ? value : new Date(value as string | number);
        if (Number.isNaN(date.getTime())) {
          throw new TypeError(`Cannot encode ${path}: ${String(value)} is not a valid date`);
        }
        return timestampFromDate(date);
      }
      case "json": {
        // What a MicroAPI client would see: the value as JSON.stringify writes it.
        const text = JSON.stringify(value);
        return fromJson(ValueSchema, text === undefined ? null : JSON.parse(text));
      }
    }
  }
}

const LONG = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);

function encodeScalar(
  type: Extract<ValueType, { kind: "scalar" }>,
  value: unknown,
  path: string,
): unknown {
  switch (type.js) {
    case "number":
      if (typeof value !== "number") {
        throw new TypeError(`Cannot encode ${path}: expected a number`);
      }
      if (LONG.has(type.scalar)) {
        if (!Number.isInteger(value)) {
          throw new TypeError(`Cannot encode ${path}: ${value} is not an integer (${type.scalar})`);
        }
        return BigInt(value);
      }
      return value;
    case "bigint":
      if (typeof value !== "bigint") {
        throw new TypeError(`Cannot encode ${path}: expected a bigint`);
      }
      return value;
    case "base64":
    case "base64url":
      if (typeof value !== "string") {
        throw new TypeError(`Cannot encode ${path}: expected a string`);
      }
      return base64Decode(value);
    case "bytes":
      if (!(value instanceof Uint8Array)) {
        throw new TypeError(`Cannot encode ${path}: expected a Uint8Array`);
      }
      return value;
    default:
      return value;
  }
}

function zeroOf(js: string): unknown {
  switch (js) {
    case "number":
      return 0;
    case "bigint":
      return 0n;
    case "boolean":
      return false;
    case "bytes":
      return new Uint8Array(0);
    default:
      return "";
  }
}

/** A 64-bit integer as a number, refusing what a number cannot hold exactly. */
function safeNumber(value: bigint, path: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalid(
      `${path} is ${value}, beyond what a JavaScript number holds exactly (2^53 - 1); ` +
        "declare the field as z.bigint() to accept it",
      { path, value: String(value) },
    );
  }
  return Number(value);
}

function invalid(message: string, details?: unknown): RpcError {
  return new RpcError("invalid_argument", message, details === undefined ? {} : { details });
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a conversion; a stack overflow from hostile nesting becomes `invalid_argument`. */
function guard(typeName: string, run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    if (error instanceof RpcError) throw error;
    throw invalid(`Cannot decode protobuf message ${typeName}: ${reason(error)}`);
  }
}
