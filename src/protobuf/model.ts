import type { Pattern } from "../schema/pattern.ts";

/**
 * The protobuf model of a set of services: what the descriptor builder, the `.proto` emitter and
 * the codecs share. It is plain data, built once from the zod schemas (see
 * {@linkcode buildProtoModel}); docs/connect.md describes the mapping.
 *
 * @module
 */

/** A protobuf scalar type. */
export type ScalarType =
  | "double"
  | "float"
  | "int32"
  | "int64"
  | "uint32"
  | "uint64"
  | "sint32"
  | "sint64"
  | "fixed32"
  | "fixed64"
  | "sfixed32"
  | "sfixed64"
  | "bool"
  | "string"
  | "bytes";

/**
 * What a scalar is on the zod side: a number, a bigint, a string, a boolean, a base64 or base64url
 * string (`z.base64()`, sent as bytes) or a `Uint8Array` (`protobuf.type: "bytes"` on a custom
 * schema).
 */
export type ScalarJs =
  | "number"
  | "bigint"
  | "string"
  | "boolean"
  | "base64"
  | "base64url"
  | "bytes";

/** The type of a field's value (of each element, for lists and maps). */
export type ValueType =
  | { readonly kind: "scalar"; readonly scalar: ScalarType; readonly js: ScalarJs }
  | { readonly kind: "enum"; readonly enum: ProtoEnum }
  | { readonly kind: "message"; readonly message: ProtoMessage }
  /** `google.protobuf.Timestamp`, a `Date` on the zod side. */
  | { readonly kind: "timestamp" }
  /** `google.protobuf.Value`: any JSON value. */
  | { readonly kind: "json" };

/** A field of a message. */
export interface ProtoField {
  /** The property name on the zod side (`value` for the field of a wrapper message). */
  readonly key: string;
  /** The protobuf field name, lower_snake_case. */
  readonly name: string;
  /** The field number. */
  readonly number: number;
  /** The value type (of each element, for lists and maps). */
  readonly type: ValueType;
  /** One value, a list (`repeated`), or a `map<string, V>`. */
  readonly cardinality: "singular" | "list" | "map";
  /**
   * A scalar or enum field with explicit presence (proto3 `optional`): set when the property may
   * be missing or null on the side the message is used on.
   */
  readonly presence: boolean;
  /**
   * What the zod side expects when a request leaves the field out (a singular field) or sends it
   * empty (a list or map): no property (`omit`), `null`, or the zero value (`zero`: `0`, `""`,
   * `false`, `[]`, `{}`; for messages and enums, which have no zero value a MicroAPI client would
   * send, no property).
   */
  readonly absent: "omit" | "null" | "zero";
  /** The `.describe()` text. */
  readonly description?: string;
  /** Marked deprecated. */
  readonly deprecated: boolean;
}

/** One option of a discriminated union, as a field of its oneof. */
export interface ProtoCase {
  /** The field (message-typed) that holds this option. */
  readonly field: ProtoField;
  /** The discriminator values this option accepts. */
  readonly values: readonly (string | number | boolean)[];
  /**
   * The option's message leaves the discriminator out (it has one value, which the case implies);
   * otherwise the message has it as a field.
   */
  readonly dropsDiscriminator: boolean;
}

/** The oneof of a message made from a discriminated union. */
export interface ProtoOneof {
  /** The oneof's name: the discriminator in lower_snake_case. */
  readonly name: string;
  /** The discriminator property on the zod side. */
  readonly discriminator: string;
  /** The options, in declaration order. */
  readonly cases: readonly ProtoCase[];
}

/** Numbers and names a message or enum must not use again. */
export interface Reserved {
  /** Numbers, ascending. */
  readonly numbers: readonly number[];
  /** Names (protobuf spelling), sorted. */
  readonly names: readonly string[];
}

/** A message. */
export interface ProtoMessage {
  /** Discriminates messages from enums in {@linkcode ProtoMessage.nested}. */
  readonly kind: "message";
  /** The full name: `users.v1.User`, `profiles.v2.Profile.Settings`. */
  readonly fullName: string;
  /** The last part of the full name. */
  readonly name: string;
  /** The fields, in declaration order (for a union: one per option, all in the oneof). */
  readonly fields: readonly ProtoField[];
  /** For a message made from a discriminated union. */
  readonly oneof?: ProtoOneof;
  /**
   * A message that stands for a value that is not an object (a list, a nullable list element, a
   * string request): its one field, `value`, is the value.
   */
  readonly wrapper: boolean;
  /** Messages and enums declared inside this one, in the order met. */
  readonly nested: readonly (ProtoMessage | ProtoEnum)[];
  /** Numbers and names of removed fields. */
  readonly reserved: Reserved;
  /** The `.describe()` text. */
  readonly description?: string;
}

/** One value of an enum. */
export interface ProtoEnumValue {
  /** The protobuf name: `THEME_DARK`. */
  readonly name: string;
  /** The number; the zero value is `<ENUM>_UNSPECIFIED`. */
  readonly number: number;
  /** The string on the zod side; undefined for the zero value. */
  readonly value: string | undefined;
}

/** An enum, from `z.enum()` or a union of string literals. */
export interface ProtoEnum {
  /** Discriminates enums from messages in {@linkcode ProtoMessage.nested}. */
  readonly kind: "enum";
  /** The full name. */
  readonly fullName: string;
  /** The last part of the full name. */
  readonly name: string;
  /** The values: the zero value first, then in declaration order. */
  readonly values: readonly ProtoEnumValue[];
  /** Numbers and names of removed values. */
  readonly reserved: Reserved;
  /** The `.describe()` text. */
  readonly description?: string;
}

/**
 * How a request or response relates to its protobuf message: it is the message (`message`), the
 * message's one field `value` (`field`: a wrapper message or a `google.protobuf.StringValue` and
 * its kin), a `google.protobuf.Timestamp`, a `google.protobuf.Value` (`json`), or nothing
 * (`google.protobuf.Empty`).
 */
export interface ProtoRoot {
  /** The message's full name. */
  readonly typeName: string;
  /** How the value maps to the message. */
  readonly unwrap: "message" | "field" | "timestamp" | "json" | "empty";
  /** The message, when it is one of ours (not a well-known type). */
  readonly message?: ProtoMessage;
  /** For `field`: the message's `value` field. */
  readonly field?: ProtoField;
}

/** An RPC. */
export interface ProtoMethod {
  /** The MicroAPI method name: `get_user`. */
  readonly key: string;
  /** The RPC name, PascalCase: `GetUser`. */
  readonly name: string;
  /** The Connect and gRPC path: `/users.v1.Users/GetUser`. */
  readonly path: string;
  /** The pattern. */
  readonly pattern: Pattern;
  /** The request. */
  readonly input: ProtoRoot;
  /** The response. */
  readonly output: ProtoRoot;
  /** The description. */
  readonly description?: string;
  /** `false`, `true`, or the deprecation notice. */
  readonly deprecated: boolean | string;
  /** The method's idempotency level, when declared: `option idempotency_level`. */
  readonly idempotency?: "no_side_effects" | "idempotent";
}

/** A service: one per MicroAPI service and version, each in its own package and file. */
export interface ProtoService {
  /** The MicroAPI service name. */
  readonly key: string;
  /** The MicroAPI version, if any. */
  readonly version?: number;
  /** The service name, PascalCase: `Users`. */
  readonly name: string;
  /** The full name: `users.v1.Users`. */
  readonly fullName: string;
  /** The RPCs, in registration order. */
  readonly methods: readonly ProtoMethod[];
  /** The description. */
  readonly description?: string;
  /** `false`, `true`, or the deprecation notice. */
  readonly deprecated: boolean | string;
}

/** One `.proto` file. */
export interface ProtoFile {
  /** Its path: `users/v1/users.proto`. */
  readonly path: string;
  /** The package: `users.v1`. */
  readonly package: string;
  /** The service. */
  readonly service: ProtoService;
  /** Top-level messages and enums, in the order met. */
  readonly types: readonly (ProtoMessage | ProtoEnum)[];
  /** The well-known type files it imports, sorted: `google/protobuf/timestamp.proto`. */
  readonly imports: readonly string[];
}
