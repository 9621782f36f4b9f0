/**
 * Protobuf from zod: a proto3 schema for MicroAPI services, built at run time from their zod
 * schemas, with descriptors (`@bufbuild/protobuf`), `.proto` source, stable field numbers and a
 * codec per method between protobuf (binary or Connect's JSON) and the plain values zod validates.
 * docs/connect.md, "Protobuf from zod", describes the mapping.
 *
 * This folder is the only part of the library that depends on `@bufbuild/protobuf`; only the
 * Connect entry point (and the CLI's `proto` command) import it, so the core keeps zod as its one
 * dependency.
 *
 * @module
 */

export { buildProtoModel } from "./build_model.ts";
export type { ProtoModel, ProtoModelOptions } from "./build_model.ts";
export { createProtoCodecs } from "./codec.ts";
export type { MessageCodec, MethodCodec, ProtoCodecs } from "./codec.ts";
export { MAX_DECODE_DEPTH } from "./convert.ts";
export {
  decodeFileDescriptorSet,
  DESCRIPTOR_SET_PATH,
  encodeFileDescriptorSet,
  fileDescriptorProtos,
  fileDescriptorSet,
  protoRegistry,
} from "./descriptor.ts";
export type {
  ProtoCase,
  ProtoEnum,
  ProtoEnumValue,
  ProtoField,
  ProtoFile,
  ProtoMessage,
  ProtoMethod,
  ProtoOneof,
  ProtoRoot,
  ProtoService,
  Reserved,
  ScalarJs,
  ScalarType,
  ValueType,
} from "./model.ts";
export { packageName } from "./names.ts";
export { emptyLock, formatLock, parseLock } from "./numbering.ts";
export type { LockEntry, ProtoLock } from "./numbering.ts";
export { GENERATED_HEADER, protoFileText, protoSources } from "./proto_text.ts";
export { createReflection, REFLECTION_PACKAGES, reflectionFiles } from "./reflection.ts";
export type { ReflectionService } from "./reflection.ts";
export type { ProtoSource } from "./proto_text.ts";
export type { ProtobufMeta } from "./zod_reader.ts";
