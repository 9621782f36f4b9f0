import {
  create,
  type DescField,
  type DescMessage,
  type FileRegistry,
  fromJson,
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
import type { ProtoEnum, ProtoField, ProtoMessage, ValueType } from "./model.ts";

/**
 * The conversions between `@bufbuild/protobuf` messages (their local representation) and the
 * plain values zod validates, field by field, driven by the model: what a missing field becomes,
 * enum numbers and strings, int64 and numbers, Timestamps and Dates, oneofs and discriminated
 * unions, wrappers.
 */

/** How deep messages may nest in a request (gRPC's default recursion limit). */
export const MAX_DECODE_DEPTH = 100;

/** Marks a property to leave out. */
export const OMIT: unique symbol = Symbol("omit");

export interface FieldPlan {
  readonly field: ProtoField;
  readonly desc: DescField;
}

export interface MessagePlan {
  readonly message: ProtoMessage;
  readonly desc: DescMessage;
  readonly fields: readonly FieldPlan[];
  readonly oneofLocalName: string | undefined;
}

interface EnumPlan {
  readonly byNumber: ReadonlyMap<number, string>;
  readonly byValue: ReadonlyMap<string, number>;
}

export type Local = Record<string, unknown>;

/** The conversions, with the plans they need made once per message. */
export class Converter {
  readonly #registry: FileRegistry;
  readonly #plans = new Map<ProtoMessage, MessagePlan>();
  readonly #enums = new Map<ProtoEnum, EnumPlan>();

  constructor(registry: FileRegistry) {
    this.#registry = registry;
  }

  /** The registry's descriptor of a message. */
  descriptor(typeName: string): DescMessage {
    const desc = this.#registry.getMessage(typeName);
    if (!desc) throw new Error(`No descriptor for ${typeName}`);
    return desc;
  }

  /** A message's fields paired with their descriptors, made once. */
  plan(message: ProtoMessage): MessagePlan {
    let plan = this.#plans.get(message);
    if (plan) return plan;
    const desc = this.descriptor(message.fullName);
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

  /** A decoded message as the plain value zod validates (a wrapper: its value; a oneof: the option). */
  decodeMessage(plan: MessagePlan, message: Local, path: string, depth: number): unknown {
    if (depth > MAX_DECODE_DEPTH) {
      throw invalid(`Message nested more than ${MAX_DECODE_DEPTH} levels deep at ${path}`);
    }
    const { message: model } = plan;
    if (model.wrapper) {
      const value = this.decodeField(plan.fields[0]!, message, path, depth);
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
      const value = this.decodeField(fieldPlan, message, `${path}.${fieldPlan.field.name}`, depth);
      if (value !== OMIT) out[fieldPlan.field.key] = value;
    }
    return out;
  }

  /** One field's plain value, or {@linkcode OMIT} when the property is to be left out. */
  decodeField(plan: FieldPlan, message: Local, path: string, depth: number): unknown {
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
        return this.decodeMessage(this.plan(type.message), raw as Local, path, depth + 1);
      case "timestamp":
        return timestampDate(raw as Timestamp);
      case "json":
        return toJson(ValueSchema, raw as Value);
    }
  }

  // --- plain -> protobuf (local representation, which create() completes) ---

  /** A plain value as the init object of its message, for `create()`. */
  encodeMessage(plan: MessagePlan, value: unknown, path: string): Local {
    const { message: model } = plan;
    if (model.wrapper) {
      const encoded = this.encodeField(plan.fields[0]!, value, path);
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
          value: this.encodeValue(option.field.type, variant, `${path}.${option.field.name}`),
        },
      };
    }
    const init: Local = {};
    for (const fieldPlan of plan.fields) {
      const encoded = this.encodeField(
        fieldPlan,
        object[fieldPlan.field.key],
        `${path}.${fieldPlan.field.name}`,
      );
      if (encoded !== undefined) init[fieldPlan.desc.localName] = encoded;
    }
    return init;
  }

  /** One property as its field's value; undefined to leave the field unset. */
  encodeField(plan: FieldPlan, value: unknown, path: string): unknown {
    const { field } = plan;
    if (field.cardinality === "list") {
      if (value === undefined || value === null) return undefined;
      if (!Array.isArray(value)) throw new TypeError(`Cannot encode ${path}: expected an array`);
      return value.map((item, i) => this.encodeValue(field.type, item, `${path}[${i}]`));
    }
    if (field.cardinality === "map") {
      if (value === undefined || value === null) return undefined;
      if (typeof value !== "object") {
        throw new TypeError(`Cannot encode ${path}: expected an object`);
      }
      return Object.fromEntries(
        Object.entries(value).filter(([, item]) => item !== undefined).map((
          [key, item],
        ) => [key, this.encodeValue(field.type, item, `${path}[${JSON.stringify(key)}]`)]),
      );
    }
    if (value === undefined || (value === null && field.type.kind !== "json")) return undefined;
    return this.encodeValue(field.type, value, path);
  }

  /** One value (of a singular field, a list element or a map value) in protobuf form. */
  encodeValue(type: ValueType, value: unknown, path: string): unknown {
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
        const plan = this.plan(type.message);
        return create(plan.desc, this.encodeMessage(plan, value, path));
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

export function invalid(message: string, details?: unknown): RpcError {
  return new RpcError("invalid_argument", message, details === undefined ? {} : { details });
}

export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a conversion; a stack overflow from hostile nesting becomes `invalid_argument`. */
export function guard(typeName: string, run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    if (error instanceof RpcError) throw error;
    throw invalid(`Cannot decode protobuf message ${typeName}: ${reason(error)}`);
  }
}
