import {
  create,
  createFileRegistry,
  type DescFile,
  type FileRegistry,
  fromBinary,
  fromJson,
  type JsonValue,
  toBinary,
} from "@bufbuild/protobuf";
import {
  type DescriptorProtoJson,
  type EnumDescriptorProtoJson,
  type FieldDescriptorProtoJson,
  file_google_protobuf_empty,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  type FileDescriptorProto,
  type FileDescriptorProtoJson,
  FileDescriptorProtoSchema,
  type FileDescriptorSet,
  FileDescriptorSetSchema,
  type MethodOptionsJson,
  type ServiceDescriptorProtoJson,
  type SourceCodeInfo_LocationJson,
} from "@bufbuild/protobuf/wkt";
import { streamsInput, streamsOutput } from "../schema/pattern.ts";
import type { Service } from "../schema/service.ts";
import { renderProto } from "./proto_text.ts";
import { buildProtoModel, type ProtoModel, type ProtoModelOptions } from "./build_model.ts";
import type {
  ProtoEnum,
  ProtoField,
  ProtoFile,
  ProtoMessage,
  ProtoMethod,
  ValueType,
} from "./model.ts";
import { jsonName, pascalName } from "./names.ts";

/**
 * Where an app publishes its FileDescriptorSet (binary, under its base path), for `microapi proto
 * <url>` and `buf curl --schema`. The endpoint itself comes with the Connect integration.
 */
export const DESCRIPTOR_SET_PATH = "/_microapi/descriptors.binpb";

/** The well-known type files, by import path. */
const WELL_KNOWN: Readonly<Record<string, DescFile>> = {
  "google/protobuf/empty.proto": file_google_protobuf_empty,
  "google/protobuf/struct.proto": file_google_protobuf_struct,
  "google/protobuf/timestamp.proto": file_google_protobuf_timestamp,
  "google/protobuf/wrappers.proto": file_google_protobuf_wrappers,
};

// Field numbers of descriptor.proto, for source code info paths.
const FILE_MESSAGE = 4;
const FILE_ENUM = 5;
const FILE_SERVICE = 6;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED = 3;
const MESSAGE_ENUM = 4;
const SERVICE_METHOD = 2;

/**
 * The descriptors of a model's files, as protoc would make them from the `.proto` files that
 * `protoFileText` prints: JSON names filled in, proto3 `optional` fields in synthetic oneofs, map
 * fields with their entry messages, and the `.describe()` texts as comments in `source_code_info`,
 * with spans that point into that text.
 *
 * @param model The model.
 * @returns One descriptor per file, in the model's order.
 */
export function fileDescriptorProtos(model: ProtoModel): FileDescriptorProto[] {
  return model.files.map(fileDescriptorProto);
}

/**
 * A self-contained FileDescriptorSet for services: their files and the well-known type files
 * they import, dependencies first. This is what a server publishes for `buf curl`, grpcurl and
 * gRPC server reflection, and what `microapi proto <url>` reads.
 *
 * @param source Services (mapped with `options`), or a model built already.
 * @param options Schema names and the lock, when `source` is services.
 * @returns The set.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Service, z } from "../../mod.ts";
 * import { fileDescriptorSet } from "./descriptor.ts";
 * const echo = new Service("echo")
 *   .method("say", { input: z.string(), output: z.string() }, (text) => text);
 * const set = fileDescriptorSet([echo]);
 * assert.deepEqual(set.file.map((f) => f.name), [
 *   "google/protobuf/wrappers.proto",
 *   "echo/echo.proto",
 * ]);
 * ```
 */
export function fileDescriptorSet(
  source: Iterable<Service> | ProtoModel,
  options: ProtoModelOptions = {},
): FileDescriptorSet {
  const model = isModel(source) ? source : buildProtoModel(source, options);
  const files = fileDescriptorProtos(model);
  const imports = [...new Set(files.flatMap((file) => file.dependency))].sort();
  return create(FileDescriptorSetSchema, {
    file: [...imports.map((name) => WELL_KNOWN[name]!.proto), ...files],
  });
}

/**
 * Encodes a FileDescriptorSet, as a server publishes it at {@linkcode DESCRIPTOR_SET_PATH}.
 *
 * @param set The set.
 * @returns The binary encoding.
 */
export function encodeFileDescriptorSet(set: FileDescriptorSet): Uint8Array<ArrayBuffer> {
  const bytes = toBinary(FileDescriptorSetSchema, set);
  // A Uint8Array over an ArrayBuffer, which Response and Blob accept as a body.
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}

/**
 * Decodes a FileDescriptorSet (what a server publishes, or `buf build -o x.binpb` writes).
 *
 * @param bytes The binary encoding.
 * @returns The set.
 * @throws {TypeError} When the bytes are not a FileDescriptorSet.
 */
export function decodeFileDescriptorSet(bytes: Uint8Array): FileDescriptorSet {
  try {
    return fromBinary(FileDescriptorSetSchema, bytes);
  } catch (error) {
    throw new TypeError(
      `Not a FileDescriptorSet: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * A registry of a model's messages, enums and services (and the well-known types they use), for
 * encoding and decoding with `@bufbuild/protobuf`.
 *
 * @param model The model.
 * @returns The registry.
 * @throws {Error} When `@bufbuild/protobuf` rejects a descriptor (a bug in the mapping).
 */
export function protoRegistry(model: ProtoModel): FileRegistry {
  return createFileRegistry(fileDescriptorSet(model));
}

function isModel(source: Iterable<Service> | ProtoModel): source is ProtoModel {
  return typeof source === "object" && source !== null && "files" in source &&
    "lock" in source && Array.isArray((source as ProtoModel).files);
}

function fileDescriptorProto(file: ProtoFile): FileDescriptorProto {
  const locations: SourceCodeInfo_LocationJson[] = [];
  const comment: Comment = (path, text, deprecated) => {
    const lines = [
      ...(text === undefined ? [] : [text]),
      ...(typeof deprecated === "string" ? [`Deprecated: ${deprecated}`] : []),
    ];
    if (lines.length === 0) return;
    const leadingComments = lines.join("\n\n").split("\n")
      .map((line) => ` ${line}`.trimEnd()).join("\n") + "\n";
    locations.push({ path, span: [], leadingComments });
  };
  const messages: DescriptorProtoJson[] = [];
  const enums: EnumDescriptorProtoJson[] = [];
  for (const type of file.types) {
    if (type.kind === "message") {
      messages.push(messageJson(type, [FILE_MESSAGE, messages.length], comment));
    } else {
      enums.push(enumJson(type, [FILE_ENUM, enums.length], comment));
    }
  }
  const { service } = file;
  comment([FILE_SERVICE, 0], service.description, service.deprecated);
  const serviceJson: ServiceDescriptorProtoJson = {
    name: service.name,
    method: service.methods.map((method, i) => {
      comment([FILE_SERVICE, 0, SERVICE_METHOD, i], method.description, method.deprecated);
      return {
        name: method.name,
        inputType: `.${method.input.typeName}`,
        outputType: `.${method.output.typeName}`,
        ...(streamsInput(method.pattern) ? { clientStreaming: true } : {}),
        ...(streamsOutput(method.pattern) ? { serverStreaming: true } : {}),
        ...methodOptions(method),
      };
    }),
    ...(service.deprecated ? { options: { deprecated: true } } : {}),
  };
  const json: FileDescriptorProtoJson = {
    name: file.path,
    package: file.package,
    ...(file.imports.length > 0 ? { dependency: [...file.imports] } : {}),
    ...(messages.length > 0 ? { messageType: messages } : {}),
    ...(enums.length > 0 ? { enumType: enums } : {}),
    service: [serviceJson],
    ...(locations.length > 0 ? { sourceCodeInfo: { location: locations } } : {}),
    syntax: "proto3",
  };
  const proto = fromJson(FileDescriptorProtoSchema, json as JsonValue);
  // Spans into the text protoFileText prints for this file, as protoc would record them (tools
  // such as Go's protodesc refuse locations without one).
  const { spans } = renderProto(proto, Object.values(WELL_KNOWN).map((f) => f.proto));
  for (const location of proto.sourceCodeInfo?.location ?? []) {
    location.span = spans.get(location.path.join(".")) ?? [0, 0, 0];
  }
  return proto;
}

/** A method's options: deprecation and the idempotency level (what lets Connect clients GET). */
function methodOptions(method: ProtoMethod): { options?: MethodOptionsJson } {
  const options: MethodOptionsJson = {};
  if (method.deprecated) options.deprecated = true;
  if (method.idempotency !== undefined) {
    options.idempotencyLevel = method.idempotency === "no_side_effects"
      ? "NO_SIDE_EFFECTS"
      : "IDEMPOTENT";
  }
  return Object.keys(options).length > 0 ? { options } : {};
}

type Comment = (path: number[], text: string | undefined, deprecated?: boolean | string) => void;

function messageJson(message: ProtoMessage, path: number[], comment: Comment): DescriptorProtoJson {
  comment(path, message.description);
  const nested: DescriptorProtoJson[] = [];
  const enums: EnumDescriptorProtoJson[] = [];
  for (const type of message.nested) {
    if (type.kind === "message") {
      nested.push(messageJson(type, [...path, MESSAGE_NESTED, nested.length], comment));
    } else {
      enums.push(enumJson(type, [...path, MESSAGE_ENUM, enums.length], comment));
    }
  }
  const oneofs: { name: string }[] = [];
  if (message.oneof) {
    oneofs.push({ name: message.oneof.name });
  }
  const fields: FieldDescriptorProtoJson[] = [];
  const taken = new Set(message.nested.map((type) => type.name));
  message.fields.forEach((field, i) => {
    comment(
      [...path, MESSAGE_FIELD, i],
      field.description,
      field.deprecated ? true : undefined,
    );
    const json: FieldDescriptorProtoJson = {
      name: field.name,
      number: field.number,
      label: field.cardinality === "singular" ? "LABEL_OPTIONAL" : "LABEL_REPEATED",
      jsonName: jsonName(field.name),
      ...typeJson(field.type),
      ...(field.deprecated ? { options: { deprecated: true } } : {}),
    };
    if (message.oneof) json.oneofIndex = 0;
    if (field.cardinality === "map") {
      // protoc names the entry after the field: `scores` gets `ScoresEntry`.
      let entry = `${pascalName(field.name, "Field")}Entry`;
      for (let n = 2; taken.has(entry); n++) entry = `${pascalName(field.name, "Field")}Entry${n}`;
      taken.add(entry);
      nested.push(mapEntryJson(entry, field));
      json.typeName = `.${message.fullName}.${entry}`;
      json.type = "TYPE_MESSAGE";
    }
    fields.push(json);
  });
  // proto3 `optional` fields each sit in a synthetic oneof, after the real ones.
  message.fields.forEach((field, i) => {
    if (!field.presence) return;
    fields[i]!.proto3Optional = true;
    fields[i]!.oneofIndex = oneofs.length;
    oneofs.push({ name: syntheticOneofName(field, message, oneofs) });
  });
  return {
    name: message.name,
    ...(fields.length > 0 ? { field: fields } : {}),
    ...(nested.length > 0 ? { nestedType: nested } : {}),
    ...(enums.length > 0 ? { enumType: enums } : {}),
    ...(oneofs.length > 0 ? { oneofDecl: oneofs } : {}),
    ...reservedJson(message),
  };
}

/** protoc's rule: `_<field>`, with more `_` in front until it clashes with nothing. */
function syntheticOneofName(
  field: ProtoField,
  message: ProtoMessage,
  oneofs: readonly { name: string }[],
): string {
  const names = new Set([
    ...message.fields.map((f) => f.name),
    ...oneofs.map((o) => o.name),
  ]);
  let name = `_${field.name}`;
  while (names.has(name)) name = `X${name}`;
  return name;
}

function reservedJson(message: ProtoMessage): Partial<DescriptorProtoJson> {
  const ranges = toRanges(message.reserved.numbers).map(([start, end]) => ({
    start,
    end: end + 1, // exclusive in messages
  }));
  return {
    ...(ranges.length > 0 ? { reservedRange: ranges } : {}),
    ...(message.reserved.names.length > 0 ? { reservedName: [...message.reserved.names] } : {}),
  };
}

/** Sorted numbers as inclusive ranges: 1, 2, 3, 7 gives [1, 3], [7, 7]. */
export function toRanges(numbers: readonly number[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const n of numbers) {
    const last = ranges.at(-1);
    if (last && last[1] === n - 1) last[1] = n;
    else ranges.push([n, n]);
  }
  return ranges;
}

function mapEntryJson(name: string, field: ProtoField): DescriptorProtoJson {
  return {
    name,
    field: [
      { name: "key", number: 1, label: "LABEL_OPTIONAL", type: "TYPE_STRING", jsonName: "key" },
      {
        name: "value",
        number: 2,
        label: "LABEL_OPTIONAL",
        jsonName: "value",
        ...typeJson(field.type),
      },
    ],
    options: { mapEntry: true },
  };
}

function typeJson(type: ValueType): Pick<FieldDescriptorProtoJson, "type" | "typeName"> {
  switch (type.kind) {
    case "scalar":
      return { type: `TYPE_${type.scalar.toUpperCase()}` as FieldDescriptorProtoJson["type"] };
    case "enum":
      return { type: "TYPE_ENUM", typeName: `.${type.enum.fullName}` };
    case "message":
      return { type: "TYPE_MESSAGE", typeName: `.${type.message.fullName}` };
    case "timestamp":
      return { type: "TYPE_MESSAGE", typeName: ".google.protobuf.Timestamp" };
    case "json":
      return { type: "TYPE_MESSAGE", typeName: ".google.protobuf.Value" };
  }
}

function enumJson(protoEnum: ProtoEnum, path: number[], comment: Comment): EnumDescriptorProtoJson {
  comment(path, protoEnum.description);
  const ranges = toRanges(protoEnum.reserved.numbers).map(([start, end]) => ({ start, end }));
  return {
    name: protoEnum.name,
    value: protoEnum.values.map((value) => ({ name: value.name, number: value.number })),
    ...(ranges.length > 0 ? { reservedRange: ranges } : {}),
    ...(protoEnum.reserved.names.length > 0 ? { reservedName: [...protoEnum.reserved.names] } : {}),
  };
}
