import {
  create,
  createFileRegistry,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonValue,
  type Message,
  toBinary,
} from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";
import { RpcError } from "../protocol/rpc_error.ts";

/**
 * gRPC server reflection (`grpc.reflection.v1.ServerReflection`, and the older `v1alpha` that
 * some clients still try first), answered from a FileDescriptorSet. `buf curl --reflect`, grpcurl
 * and Postman use it to list services and learn message types with no `.proto` file at hand.
 *
 * This is the protocol-independent part: one request message in, one response message out. The
 * Connect and gRPC-Web integration serves it as the bidi RPC `ServerReflectionInfo`.
 */

/** The reflection packages clients ask for, newest first. */
export const REFLECTION_PACKAGES = ["grpc.reflection.v1", "grpc.reflection.v1alpha"] as const;

/** gRPC's NOT_FOUND and INVALID_ARGUMENT codes, as reflection errors carry them. */
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/** The reflection service of one package, ready to answer. */
export interface ReflectionService {
  /** `grpc.reflection.v1.ServerReflection`. */
  readonly fullName: string;
  /** The RPC's path: `/grpc.reflection.v1.ServerReflection/ServerReflectionInfo`. */
  readonly path: string;
  /**
   * Answers one encoded `ServerReflectionRequest` with an encoded `ServerReflectionResponse`.
   * Unknown symbols and files are answered with an `error_response` (NOT_FOUND), as gRPC servers
   * do; the stream goes on.
   *
   * @param request The request message, protobuf binary.
   * @returns The response message, protobuf binary.
   * @throws {RpcError} `invalid_argument` when the bytes are not a request message.
   */
  respond(request: Uint8Array): Uint8Array;
}

/**
 * Makes the reflection services (v1 and v1alpha) for a set of files.
 *
 * @param set The files to describe (with the well-known types they import), such as
 * `fileDescriptorSet(services)`.
 * @returns One service per reflection package; `list_services` names both, and the set's services.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Service } from "../../mod.ts";
 * import { fileDescriptorSet } from "./descriptor.ts";
 * import { createReflection } from "./reflection.ts";
 * const ping = new Service("ping").method("ping", {}, () => {});
 * const [v1] = createReflection(fileDescriptorSet([ping]));
 * assert.equal(v1!.path, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
 * ```
 */
export function createReflection(set: FileDescriptorSet): ReflectionService[] {
  const files = reflectionFiles();
  // The reflection service describes itself too: clients ask for every listed service's file.
  const index = new FileIndex([...set.file, ...files]);
  const registry = createFileRegistry(
    ...files.map((file) => createFileRegistry(file, () => undefined)),
  );
  const serviceNames = [
    ...set.file.flatMap((file) =>
      file.service.map((service) => qualify(file.package, service.name))
    ),
    ...REFLECTION_PACKAGES.map((pkg) => `${pkg}.ServerReflection`),
  ];
  return REFLECTION_PACKAGES.map((pkg) => {
    const requestType = registry.getMessage(`${pkg}.ServerReflectionRequest`)!;
    const responseType = registry.getMessage(`${pkg}.ServerReflectionResponse`)!;
    return {
      fullName: `${pkg}.ServerReflection`,
      path: `/${pkg}.ServerReflection/ServerReflectionInfo`,
      respond: (bytes) => {
        let request: Message & Record<string, unknown>;
        try {
          request = fromBinary(requestType, bytes) as Message & Record<string, unknown>;
        } catch (error) {
          throw new RpcError(
            "invalid_argument",
            `Malformed reflection request: ${error instanceof Error ? error.message : error}`,
          );
        }
        const answer = answerOf(request, index, serviceNames);
        return toBinary(
          responseType,
          create(responseType as DescMessage, {
            validHost: request.host,
            originalRequest: request,
            messageResponse: answer,
          } as never),
        );
      },
    };
  });
}

function answerOf(
  request: Record<string, unknown>,
  index: FileIndex,
  services: readonly string[],
): { case: string; value: Record<string, unknown> } {
  const { case: kind, value } = request.messageRequest as { case?: string; value?: unknown };
  const error = (code: number, message: string) => ({
    case: "errorResponse",
    value: { errorCode: code, errorMessage: message },
  });
  const files = (names: string[] | undefined, what: string) =>
    names === undefined ? error(NOT_FOUND, `${what} not found`) : {
      case: "fileDescriptorResponse",
      value: {
        fileDescriptorProto: names.map((name) =>
          toBinary(FileDescriptorProtoSchema, index.file(name)!)
        ),
      },
    };
  switch (kind) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: { service: services.map((name) => ({ name })) },
      };
    case "fileByFilename":
      return files(index.withDependencies(value as string), `File ${JSON.stringify(value)}`);
    case "fileContainingSymbol": {
      const file = index.fileOfSymbol(value as string);
      return files(
        file === undefined ? undefined : index.withDependencies(file),
        `Symbol ${JSON.stringify(value)}`,
      );
    }
    case "fileContainingExtension":
      return error(NOT_FOUND, "These services declare no extensions");
    case "allExtensionNumbersOfType":
      return index.fileOfSymbol(value as string) === undefined
        ? error(NOT_FOUND, `Type ${JSON.stringify(value)} not found`)
        : {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: value as string, extensionNumber: [] },
        };
    default:
      return error(INVALID_ARGUMENT, "The request asks for nothing this server knows");
  }
}

/** Which file defines which symbol, and which files each file needs. */
class FileIndex {
  readonly #files = new Map<string, FileDescriptorProto>();
  readonly #symbols = new Map<string, string>();

  constructor(files: readonly FileDescriptorProto[]) {
    for (const file of files) {
      this.#files.set(file.name, file);
      const add = (name: string) => this.#symbols.set(name, file.name);
      const visit = (message: DescriptorProto, scope: string) => {
        const name = qualify(scope, message.name);
        add(name);
        for (const field of message.field) add(`${name}.${field.name}`);
        for (const nested of message.nestedType) visit(nested, name);
        for (const protoEnum of message.enumType) add(qualify(name, protoEnum.name));
      };
      for (const message of file.messageType) visit(message, file.package);
      for (const protoEnum of file.enumType) {
        add(qualify(file.package, protoEnum.name));
        for (const value of protoEnum.value) add(qualify(file.package, value.name));
      }
      for (const service of file.service) {
        const name = qualify(file.package, service.name);
        add(name);
        for (const method of service.method) add(`${name}.${method.name}`);
      }
    }
  }

  file(name: string): FileDescriptorProto | undefined {
    return this.#files.get(name);
  }

  fileOfSymbol(symbol: string): string | undefined {
    return this.#symbols.get(symbol.replace(/^\./, ""));
  }

  /** The file, then every file it imports, transitively, each once. */
  withDependencies(name: string): string[] | undefined {
    if (!this.#files.has(name)) return undefined;
    const out: string[] = [];
    const visit = (file: string) => {
      if (out.includes(file) || !this.#files.has(file)) return;
      out.push(file);
      for (const dependency of this.#files.get(file)!.dependency) visit(dependency);
    };
    visit(name);
    return out;
  }
}

function qualify(scope: string, name: string): string {
  return scope === "" ? name : `${scope}.${name}`;
}

/**
 * The descriptors of grpc/reflection/v1/reflection.proto and its v1alpha twin: the messages and
 * the service of gRPC's reflection protocol, for registering the service and for clients.
 *
 * @returns One file per package of {@linkcode REFLECTION_PACKAGES}.
 */
export function reflectionFiles(): FileDescriptorProto[] {
  return REFLECTION_PACKAGES.map(reflectionFile);
}

function reflectionFile(pkg: string): FileDescriptorProto {
  const string = (name: string, number: number, oneof?: number) => ({
    name,
    number,
    label: "LABEL_OPTIONAL",
    type: "TYPE_STRING",
    jsonName: camel(name),
    ...(oneof === undefined ? {} : { oneofIndex: oneof }),
  });
  const message = (name: string, number: number, type: string, options: object = {}) => ({
    name,
    number,
    label: "LABEL_OPTIONAL",
    type: "TYPE_MESSAGE",
    typeName: `.${pkg}.${type}`,
    jsonName: camel(name),
    ...options,
  });
  const json = {
    name: `grpc/reflection/${pkg.split(".").at(-1)}/reflection.proto`,
    package: pkg,
    syntax: "proto3",
    messageType: [
      {
        name: "ServerReflectionRequest",
        field: [
          string("host", 1),
          string("file_by_filename", 3, 0),
          string("file_containing_symbol", 4, 0),
          message("file_containing_extension", 5, "ExtensionRequest", { oneofIndex: 0 }),
          string("all_extension_numbers_of_type", 6, 0),
          string("list_services", 7, 0),
        ],
        oneofDecl: [{ name: "message_request" }],
      },
      {
        name: "ExtensionRequest",
        field: [
          string("containing_type", 1),
          {
            name: "extension_number",
            number: 2,
            label: "LABEL_OPTIONAL",
            type: "TYPE_INT32",
            jsonName: "extensionNumber",
          },
        ],
      },
      {
        name: "ServerReflectionResponse",
        field: [
          string("valid_host", 1),
          message("original_request", 2, "ServerReflectionRequest"),
          message("file_descriptor_response", 4, "FileDescriptorResponse", { oneofIndex: 0 }),
          message("all_extension_numbers_response", 5, "ExtensionNumberResponse", {
            oneofIndex: 0,
          }),
          message("list_services_response", 6, "ListServiceResponse", { oneofIndex: 0 }),
          message("error_response", 7, "ErrorResponse", { oneofIndex: 0 }),
        ],
        oneofDecl: [{ name: "message_response" }],
      },
      {
        name: "FileDescriptorResponse",
        field: [{
          name: "file_descriptor_proto",
          number: 1,
          label: "LABEL_REPEATED",
          type: "TYPE_BYTES",
          jsonName: "fileDescriptorProto",
        }],
      },
      {
        name: "ExtensionNumberResponse",
        field: [
          string("base_type_name", 1),
          {
            name: "extension_number",
            number: 2,
            label: "LABEL_REPEATED",
            type: "TYPE_INT32",
            jsonName: "extensionNumber",
          },
        ],
      },
      {
        name: "ListServiceResponse",
        field: [{ ...message("service", 1, "ServiceResponse"), label: "LABEL_REPEATED" }],
      },
      { name: "ServiceResponse", field: [string("name", 1)] },
      {
        name: "ErrorResponse",
        field: [
          {
            name: "error_code",
            number: 1,
            label: "LABEL_OPTIONAL",
            type: "TYPE_INT32",
            jsonName: "errorCode",
          },
          string("error_message", 2),
        ],
      },
    ],
    service: [{
      name: "ServerReflection",
      method: [{
        name: "ServerReflectionInfo",
        inputType: `.${pkg}.ServerReflectionRequest`,
        outputType: `.${pkg}.ServerReflectionResponse`,
        clientStreaming: true,
        serverStreaming: true,
      }],
    }],
  };
  return fromJson(FileDescriptorProtoSchema, json as JsonValue);
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
