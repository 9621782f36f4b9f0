/**
 * gRPC server reflection answered from the services' FileDescriptorSet: what `buf curl --reflect`
 * and grpcurl ask (list the services, the file of a symbol with its imports, a file by name).
 */
import assert from "node:assert/strict";
import {
  create,
  createFileRegistry,
  type DescMessage,
  fromBinary,
  type Registry,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { test } from "../_harness.ts";
import { RpcError } from "../../mod.ts";
import {
  buildProtoModel,
  createReflection,
  fileDescriptorSet,
  reflectionFiles,
} from "../../src/protobuf/mod.ts";
import { kitchenSink } from "./_helpers.ts";

const set = fileDescriptorSet(buildProtoModel(kitchenSink.services, kitchenSink));
const registry: Registry = createFileRegistry(
  ...reflectionFiles().map((file) => createFileRegistry(file, () => undefined)),
);

/** Sends one request to a reflection service and decodes the answer. */
function ask(pkg: string, request: Record<string, unknown>): Record<string, unknown> {
  const service = createReflection(set).find((s) => s.fullName === `${pkg}.ServerReflection`)!;
  const requestType = registry.getMessage(`${pkg}.ServerReflectionRequest`) as DescMessage;
  const responseType = registry.getMessage(`${pkg}.ServerReflectionResponse`) as DescMessage;
  const bytes = service.respond(toBinary(requestType, create(requestType, request as never)));
  const response = fromBinary(responseType, bytes) as unknown as Record<string, unknown>;
  return response;
}

// deno-lint-ignore no-explicit-any
function answer(response: Record<string, unknown>): { case: string; value: any } {
  // deno-lint-ignore no-explicit-any
  return response.messageResponse as { case: string; value: any };
}

function fileNames(response: Record<string, unknown>): string[] {
  const { value } = answer(response);
  return (value.fileDescriptorProto as Uint8Array[]).map((bytes) =>
    fromBinary(FileDescriptorProtoSchema, bytes).name
  );
}

test("createReflection() lists every service, the reflection services included", () => {
  for (const pkg of ["grpc.reflection.v1", "grpc.reflection.v1alpha"]) {
    const response = ask(pkg, { host: "h", messageRequest: { case: "listServices", value: "*" } });
    assert.equal(response.validHost, "h");
    assert.equal(answer(response).case, "listServicesResponse");
    assert.deepEqual(
      answer(response).value.service.map((s: { name: string }) => s.name),
      [
        "profiles.v2.Profiles",
        "profiles.Profiles",
        "drawing.Drawing",
        "types.Types",
        "probe.Probe",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ],
    );
  }
});

test("createReflection() answers the file of a service, method, message or enum, with its imports", () => {
  const cases: [string, string[]][] = [
    ["profiles.v2.Profiles", [
      "profiles/v2/profiles.proto",
      "google/protobuf/empty.proto",
      "google/protobuf/struct.proto",
    ]],
    ["drawing.Drawing.Draw", [
      "drawing/drawing.proto",
      "google/protobuf/empty.proto",
      "google/protobuf/struct.proto",
      "google/protobuf/wrappers.proto",
    ]],
    ["profiles.v2.Profile.Settings.Theme", [
      "profiles/v2/profiles.proto",
      "google/protobuf/empty.proto",
      "google/protobuf/struct.proto",
    ]],
    [".types.Connection", ["types/types.proto", "google/protobuf/wrappers.proto"]],
  ];
  for (const [symbol, files] of cases) {
    const response = ask("grpc.reflection.v1", {
      messageRequest: { case: "fileContainingSymbol", value: symbol },
    });
    assert.deepEqual(fileNames(response), files, symbol);
  }
  const byName = ask("grpc.reflection.v1", {
    messageRequest: { case: "fileByFilename", value: "google/protobuf/wrappers.proto" },
  });
  assert.deepEqual(fileNames(byName), ["google/protobuf/wrappers.proto"]);
  // The files sent are the set's own, comments included.
  const [first] = answer(ask("grpc.reflection.v1", {
    messageRequest: { case: "fileByFilename", value: "types/types.proto" },
  })).value.fileDescriptorProto as Uint8Array[];
  assert.deepEqual(
    fromBinary(FileDescriptorProtoSchema, first!),
    set.file.find((file) => file.name === "types/types.proto"),
  );
});

test("createReflection() answers what it does not know with NOT_FOUND, and goes on", () => {
  const missing = ask("grpc.reflection.v1", {
    originalRequest: undefined,
    messageRequest: { case: "fileContainingSymbol", value: "nope.Nothing" },
  });
  assert.deepEqual(
    { ...answer(missing).value, $typeName: undefined },
    { $typeName: undefined, errorCode: 5, errorMessage: 'Symbol "nope.Nothing" not found' },
  );
  assert.equal(
    (missing.originalRequest as { messageRequest: { value: string } }).messageRequest.value,
    "nope.Nothing",
  );
  const extension = ask("grpc.reflection.v1", {
    messageRequest: {
      case: "fileContainingExtension",
      value: { containingType: "types.Connection", extensionNumber: 100 },
    },
  });
  assert.equal(answer(extension).value.errorCode, 5);
  const numbers = ask("grpc.reflection.v1", {
    messageRequest: { case: "allExtensionNumbersOfType", value: "types.Connection" },
  });
  assert.deepEqual(answer(numbers).value.extensionNumber, []);
  const empty = ask("grpc.reflection.v1", {});
  assert.equal(answer(empty).value.errorCode, 3);
  const [v1] = createReflection(set);
  assert.throws(
    () => v1!.respond(new Uint8Array([0x0a, 0x05])),
    (error) => error instanceof RpcError && error.code === "invalid_argument",
  );
});
