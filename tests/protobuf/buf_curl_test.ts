/**
 * `buf curl` against the reflection service and the codecs, with no `.proto` file: it lists the
 * methods through gRPC server reflection, then calls them with JSON that it encodes from the
 * descriptors it downloaded. The server is a few lines of gRPC over `node:http2` (h2c) that only
 * stand in for the Connect and gRPC integration, which comes later: decode with the codec,
 * validate with zod, run the example's handler, encode.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { test } from "../_harness.ts";
import { tempDir } from "../_cli.ts";
import { RpcError } from "../../mod.ts";
import {
  buildProtoModel,
  createProtoCodecs,
  createReflection,
  fileDescriptorSet,
} from "../../src/protobuf/mod.ts";
import { buf, examples } from "./_helpers.ts";

/** Splits a gRPC request body into its length-prefixed messages. */
function messages(onMessage: (message: Uint8Array) => void): (chunk: Uint8Array) => void {
  let buffer = new Uint8Array(0);
  return (chunk) => {
    const joined = new Uint8Array(buffer.length + chunk.length);
    joined.set(buffer);
    joined.set(chunk, buffer.length);
    buffer = joined;
    while (buffer.length >= 5) {
      const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(1);
      if (buffer.length < 5 + length) break;
      onMessage(buffer.slice(5, 5 + length));
      buffer = buffer.slice(5 + length);
    }
  };
}

function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** gRPC status codes of the few errors this test server reports. */
const STATUS: Record<string, number> = { invalid_argument: 3, not_found: 5 };

async function grpcServer(): Promise<{ url: string; close(): Promise<void> }> {
  const model = buildProtoModel(examples.services, examples);
  const codecs = createProtoCodecs(model);
  const reflection = createReflection(fileDescriptorSet(model));
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    const path = String(headers[":path"]);
    let status = 0;
    let message = "";
    stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, {
      waitForTrailers: true,
    });
    stream.on("wantTrailers", () =>
      stream.sendTrailers({
        "grpc-status": String(status),
        ...(message ? { "grpc-message": encodeURIComponent(message) } : {}),
      }));
    const reflect = reflection.find((service) => service.path === path);
    if (reflect) {
      stream.on("data", messages((m) => stream.write(frame(reflect.respond(m)))));
      stream.on("end", () => stream.end());
      return;
    }
    const codec = codecs.byPath(path);
    const service = examples.services.find((s) => s.name === codec?.service);
    const method = codec && service?.getMethod(codec.method);
    if (!codec || !method) {
      status = 12;
      stream.end();
      return;
    }
    const pending: Promise<void>[] = [];
    stream.on(
      "data",
      messages((bytes) => {
        pending.push((async () => {
          try {
            const input = method.input!.parse(codec.input.decodeBinary(bytes));
            const result = method.handler(input, { signal: new AbortController().signal } as never);
            const outputs = Symbol.asyncIterator in Object(result)
              ? result as AsyncIterable<unknown>
              : [await result];
            for await (const output of outputs) {
              stream.write(frame(codec.output.encodeBinary(method.output!.parse(output))));
            }
          } catch (error) {
            // What the pipeline does: a message zod rejects is invalid_argument.
            const code = error instanceof RpcError
              ? error.code
              : (error as Error).name === "ZodError"
              ? "invalid_argument"
              : "unknown";
            status = STATUS[code] ?? 2;
            message = error instanceof Error ? error.message : String(error);
          }
        })());
      }),
    );
    stream.on("end", () => void Promise.all(pending).then(() => stream.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("buf curl: reflection lists the methods, and calls go through the codecs, with no .proto file", async () => {
  const server = await grpcServer();
  await using dir = await tempDir();
  const cwd = dir.path;
  try {
    const grpc = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];
    const list = await buf([...grpc, "--list-methods", server.url], cwd);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split("\n"), [
      "analytics.Analytics/Aggregate",
      "chat.Chat/Conversation",
      "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      "users.Users/GetUser",
      "users.Users/ListUsers",
    ]);

    const get = await buf(
      [...grpc, "-d", '{"userId": 2}', `${server.url}/users.Users/GetUser`],
      cwd,
    );
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual(JSON.parse(get.stdout), { userId: "2", username: "bob", age: 22 });

    // A server stream: the default limit is left out, so zod's default (100) would apply; ask 2.
    const listed = await buf(
      [...grpc, "-d", '{"limit": 2}', `${server.url}/users.Users/ListUsers`],
      cwd,
    );
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      listed.stdout.trim().split(/\n(?=\{)/).map((text) => JSON.parse(text).username),
      ["alice", "bob"],
    );

    // The handler's RpcError and zod's rejection come back as gRPC statuses.
    const missing = await buf(
      [...grpc, "-d", '{"userId": 5000}', `${server.url}/users.Users/GetUser`],
      cwd,
    );
    // buf curl exits with the gRPC code times 8.
    assert.equal(missing.code, 5 * 8, missing.stderr);
    assert.match(missing.stderr, /"code": "not_found",\s+"message": "No user with id 5000"/);
    const invalid = await buf(
      [...grpc, "-d", '{"userId": 0}', `${server.url}/users.Users/GetUser`],
      cwd,
    );
    assert.equal(invalid.code, 3 * 8, invalid.stderr);
    assert.match(invalid.stderr, /"code": "invalid_argument"[\s\S]*too_small/);
  } finally {
    await server.close();
  }
});
