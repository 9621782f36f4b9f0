import type { z } from "zod";
import { type Def, defOf, metadataOf } from "./zod_def.ts";
import type { ScalarJs, ScalarType } from "./model.ts";
import { intType, lowerBound, numberType } from "./zod_numbers.ts";
import { enumValues, unionShape } from "./zod_unions.ts";

/**
 * Reads zod schemas the way the protobuf mapping needs them: wrappers (optional, nullable,
 * default, lazy, pipe, ...) peeled off into flags, and what is left classified into one shape.
 * It reads `schema._zod.def`, which zod 4 documents for library authors, and works with schemas
 * made by another copy of zod (the markers and services are structural for the same reason).
 */

/** Request messages are read as input (what a client sends), responses as output. */
export type Side = "input" | "output";

/** What is left of a schema once its wrappers are peeled off. */
export type Shape =
  | {
    readonly kind: "object";
    readonly schema: z.ZodType;
    readonly shape: Record<string, z.ZodType>;
  }
  | {
    readonly kind: "union";
    readonly schema: z.ZodType;
    readonly options: readonly z.ZodType[];
    readonly discriminator: string;
  }
  | { readonly kind: "enum"; readonly schema: z.ZodType; readonly values: readonly string[] }
  | { readonly kind: "scalar"; readonly scalar: ScalarType; readonly js: ScalarJs }
  | { readonly kind: "timestamp" }
  | { readonly kind: "json" }
  | { readonly kind: "list"; readonly schema: z.ZodType; readonly element: z.ZodType }
  | { readonly kind: "map"; readonly schema: z.ZodType; readonly value: z.ZodType }
  | { readonly kind: "none" };

/** A schema read for protobuf: its shape and what its wrappers said. */
export interface ReadSchema {
  /** The shape. */
  readonly shape: Shape;
  /** A sender may leave it out (`.optional()`, `.default()`, `.catch()`). */
  readonly optionalIn: boolean;
  /** The receiver may find it missing (`.optional()` without a default). */
  readonly optionalOut: boolean;
  /** `null` is allowed. */
  readonly nullable: boolean;
  /** The first `.describe()` text met, outermost first. */
  readonly description: string | undefined;
  /** The schema that carries {@linkcode ReadSchema.description}. */
  readonly describedBy: z.ZodType | undefined;
  /** Marked `.meta({ deprecated: true })`. */
  readonly deprecated: boolean;
  /** The schemas passed through, outermost first (the last one carries the shape). */
  readonly chain: readonly z.ZodType[];
}

/** What `.meta({ protobuf: ... })` may say. */
export interface ProtobufMeta {
  /** On an object or a discriminated union: field numbers by property name (or case value). */
  readonly fields?: Readonly<Record<string, number>>;
  /** On an enum: value numbers by enum value. */
  readonly values?: Readonly<Record<string, number>>;
  /** On an object, a union or an enum: numbers and names never to use again. */
  readonly reserved?: readonly (number | string)[];
  /** On a number, bigint or custom schema: the protobuf scalar type to use. */
  readonly type?: ScalarType;
}

/**
 * The `protobuf` entry of a schema's metadata, checked.
 *
 * @param schema The schema.
 * @param where Named in errors: `users.v1.User`.
 * @returns The options, or undefined.
 * @throws {TypeError} When the entry is not an object.
 */
export function protobufMetaOf(schema: z.ZodType, where: string): ProtobufMeta | undefined {
  const value = metadataOf(schema)?.protobuf;
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Invalid .meta({ protobuf }) on ${where}: expected an object such as { fields: { id: 1 } }`,
    );
  }
  return value as ProtobufMeta;
}

const SCALAR_TYPES: ReadonlySet<string> = new Set([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
  "bool",
  "string",
  "bytes",
]);
const LONG_TYPES: ReadonlySet<string> = new Set([
  "int64",
  "uint64",
  "sint64",
  "fixed64",
  "sfixed64",
]);

/**
 * Reads a schema.
 *
 * @param schema The schema.
 * @param side Which side of a pipe (`.transform()`, `z.codec()`) to follow.
 * @param where Named in errors.
 * @returns The shape and flags.
 * @throws {TypeError} For schemas that cannot be sent at all (functions, symbols, promises), a
 * schema that refers to itself through wrappers only, or an invalid `protobuf.type`.
 */
export function readSchema(schema: z.ZodType, side: Side, where: string): ReadSchema {
  const chain: z.ZodType[] = [];
  let optionalIn = false;
  let optionalOut = false;
  let nullable = false;
  let description: string | undefined;
  let describedBy: z.ZodType | undefined;
  let deprecated = false;
  let override: ScalarType | undefined;
  let current = schema;
  for (;;) {
    if (chain.includes(current)) {
      throw new TypeError(
        `Cannot map ${where} to protobuf: the schema refers to itself without an object in between`,
      );
    }
    chain.push(current);
    const meta = metadataOf(current);
    if (description === undefined && typeof meta?.description === "string") {
      description = meta.description;
      describedBy = current;
    }
    if (meta?.deprecated === true) deprecated = true;
    const type = protobufMetaOf(current, where)?.type;
    if (override === undefined && type !== undefined) {
      if (!SCALAR_TYPES.has(type)) {
        throw new TypeError(
          `Invalid protobuf.type ${JSON.stringify(type)} on ${where}: expected one of ${
            [...SCALAR_TYPES].join(", ")
          }`,
        );
      }
      override = type;
    }
    const def = defOf(current);
    switch (def.type) {
      case "optional":
        optionalIn = true;
        optionalOut = true;
        current = def.innerType as z.ZodType;
        continue;
      case "default":
      case "prefault":
      case "catch":
        optionalIn = true;
        current = def.innerType as z.ZodType;
        continue;
      case "nullable":
        nullable = true;
        current = def.innerType as z.ZodType;
        continue;
      case "nonoptional":
        optionalIn = false;
        optionalOut = false;
        current = def.innerType as z.ZodType;
        continue;
      case "readonly":
        current = def.innerType as z.ZodType;
        continue;
      case "lazy":
        current = (current as unknown as { _zod: { innerType: z.ZodType } })._zod.innerType;
        continue;
      case "pipe": {
        const next = (side === "input" ? def.in : def.out) as z.ZodType;
        if (defOf(next).type === "transform") {
          return result({ kind: "json" });
        }
        current = next;
        continue;
      }
      case "union": {
        const options = (def.options as z.ZodType[]).filter((option) => {
          const t = defOf(option).type;
          if (t === "null") nullable = true;
          else if (t === "undefined" || t === "void") {
            optionalIn = true;
            optionalOut = true;
          } else return true;
          return false;
        });
        if (options.length === 1 && typeof def.discriminator !== "string") {
          current = options[0]!;
          continue;
        }
        return result(unionShape(current, options, def.discriminator as string | undefined));
      }
    }
    return result(coreShape(current, def, override, where));
  }

  function result(shape: Shape): ReadSchema {
    if (override !== undefined && shape.kind !== "scalar") {
      throw new TypeError(
        `Invalid protobuf.type ${override} on ${where}: it applies to numbers, bigints and ` +
          `bytes only, and this schema is a ${shape.kind}`,
      );
    }
    return {
      shape,
      optionalIn,
      optionalOut,
      nullable,
      description,
      describedBy,
      deprecated,
      chain,
    };
  }
}

function coreShape(
  schema: z.ZodType,
  def: Def,
  override: ScalarType | undefined,
  where: string,
): Shape {
  switch (def.type) {
    case "string":
    case "template_literal": {
      const format = def.format as string | undefined;
      if (format === "base64" || format === "base64url") {
        return scalar(override ?? "bytes", format, where, ["bytes"]);
      }
      return scalar(override ?? "string", "string", where, ["string"]);
    }
    case "number":
    case "nan":
      return scalar(override ?? numberType(def), "number", where, [...SCALAR_TYPES]);
    case "bigint": {
      const unsigned = def.format === "uint64" || lowerBound(def) >= 0;
      return scalar(override ?? (unsigned ? "uint64" : "int64"), "bigint", where, [...LONG_TYPES]);
    }
    case "boolean":
      return scalar(override ?? "bool", "boolean", where, ["bool"]);
    case "date":
      return { kind: "timestamp" };
    case "object":
      return { kind: "object", schema, shape: def.shape as Record<string, z.ZodType> };
    case "array":
      return { kind: "list", schema, element: def.element as z.ZodType };
    case "record":
      return { kind: "map", schema, value: def.valueType as z.ZodType };
    case "tuple": {
      // A tuple whose items are all the same plain scalar is a list of it; others are JSON.
      const items = def.items as z.ZodType[];
      const first = items[0];
      if (first === undefined || (def.rest !== undefined && def.rest !== null)) {
        return { kind: "json" };
      }
      const reads = items.map((item, i) => readSchema(item, "input", `${where}[${i}]`));
      const same = reads.every((read) =>
        read.shape.kind === "scalar" && !read.nullable && !read.optionalIn &&
        read.shape.scalar === (reads[0]!.shape as { scalar?: string }).scalar &&
        read.shape.js === (reads[0]!.shape as { js?: string }).js
      );
      return same ? { kind: "list", schema, element: first } : { kind: "json" };
    }
    case "enum": {
      const values = enumValues(schema);
      if (values.every((value) => typeof value === "string")) {
        return { kind: "enum", schema, values: values as string[] };
      }
      if (values.every((value) => typeof value === "number")) {
        return scalar(override ?? intType(values as number[]), "number", where, [...SCALAR_TYPES]);
      }
      return { kind: "json" };
    }
    case "literal":
      return literalShape(schema, def.values as unknown[], override, where);
    case "custom":
      if (override === "bytes") return { kind: "scalar", scalar: "bytes", js: "bytes" };
      return { kind: "json" };
    case "undefined":
    case "void":
    case "never":
      return { kind: "none" };
    case "symbol":
    case "function":
    case "promise":
      throw new TypeError(
        `Cannot map ${where} to protobuf: a ${def.type} cannot be sent over the network`,
      );
    default:
      // any, unknown, null, map, set, intersection, file, success, transform: JSON.
      return { kind: "json" };
  }
}

function scalar(
  type: ScalarType,
  js: ScalarJs,
  where: string,
  allowed: readonly string[],
): Shape {
  if (!allowed.includes(type)) {
    throw new TypeError(
      `Invalid protobuf.type ${type} on ${where}: a ${js} maps to ${allowed.join(", ")}`,
    );
  }
  return { kind: "scalar", scalar: type, js };
}

function literalShape(
  schema: z.ZodType,
  values: unknown[],
  override: ScalarType | undefined,
  where: string,
): Shape {
  if (values.every((value) => typeof value === "string")) {
    if (values.length > 1) return { kind: "enum", schema, values: values as string[] };
    return scalar(override ?? "string", "string", where, ["string"]);
  }
  if (values.every((value) => typeof value === "number")) {
    const type = (values as number[]).every(Number.isInteger)
      ? intType(values as number[])
      : "double";
    return scalar(override ?? type, "number", where, [...SCALAR_TYPES]);
  }
  if (values.every((value) => typeof value === "boolean")) {
    return scalar(override ?? "bool", "boolean", where, ["bool"]);
  }
  if (values.every((value) => typeof value === "bigint")) {
    return scalar(override ?? "int64", "bigint", where, [...LONG_TYPES]);
  }
  return { kind: "json" };
}
