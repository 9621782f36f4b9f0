/**
 * `buf curl` (the Go client of the Connect team, from the `@bufbuild/buf` npm package) against
 * MicroAPI servers in this runtime and the other one: with the `.proto` files MicroAPI writes,
 * and with no file at all through gRPC server reflection; the Connect protocol and gRPC-Web,
 * over HTTP/1.1 and h2c; unary and the three streaming patterns, and errors.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runtime, test, within } from "../_harness.ts";
import { tempDir } from "../_cli.ts";
import { runProgram } from "../_process.ts";
import { MicroAPI } from "../../mod.ts";
import { connect } from "../../src/connect/mod.ts";
import { fileDescriptorSet, protoSources } from "../../src/protobuf/mod.ts";
import { buf } from "../protobuf/_helpers.ts";
import { connectServices } from "./_helpers.ts";

const other = runtime === "deno" ? "bun" : "deno";

async function local(): Promise<{ url: string; [Symbol.asyncDispose](): Promise<void> }> {
  const server = await new MicroAPI({
    services: connectServices().services,
    protocols: [connect()],
    onError: () => {},
  }).serve({ port: 0, hostname: "127.0.0.1", http2: true });
  return { url: server.url, [Symbol.asyncDispose]: () => server.shutdown({ gracePeriodMs: 500 }) };
}

async function remote(): Promise<{ url: string; [Symbol.asyncDispose](): Promise<void> }> {
  const child = runProgram(other, "connect_server.ts");
  const stop = async () => {
    child.kill();
    await child.exited;
  };
  try {
    const ready = await within(child.ready, 30_000, `the ${other} server (${child.stderr()})`);
    return { url: String(ready.url), [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** JSON messages printed one after the other. */
function messages(stdout: string): unknown[] {
  return stdout.trim() === ""
    ? []
    : stdout.trim().split(/\n(?=\{)/).map((text) => JSON.parse(text));
}

for (const [where, start] of [[runtime, local], [other, remote]] as const) {
  test(
    `buf curl -> ${where} server: reflection lists and calls every pattern, with no .proto file`,
    async () => {
      await using server = await start();
      await using dir = await tempDir();
      const h2c = ["curl", "--protocol", "connect", "--http2-prior-knowledge", "--reflect"];
      const list = await buf([...h2c, "--list-methods", server.url], dir.path);
      assert.equal(list.code, 0, list.stderr);
      const methods = list.stdout.trim().split("\n");
      for (
        const method of [
          "users.Users/GetUser",
          "users.v2.Users/GetUser",
          "chat.Chat/Echo",
          "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
          "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ]
      ) assert.ok(methods.includes(method), `${method} in ${methods}`);

      const get = await buf(
        [...h2c, "-d", '{"userId": 2}', `${server.url}/users.Users/GetUser`],
        dir.path,
      );
      assert.equal(get.code, 0, get.stderr);
      assert.deepEqual(JSON.parse(get.stdout), { username: "user2", age: "30" });
      // gRPC-Web over HTTP/1.1, a server stream.
      const listed = await buf([
        "curl",
        "--protocol",
        "grpcweb",
        "--reflect",
        "-d",
        '{"limit": 2}',
        `${server.url}/users.Users/ListUsers`,
      ], dir.path);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(messages(listed.stdout), [{ username: "user0" }, {
        username: "user1",
        age: "1",
      }]);
      // A client stream and a bidi stream: several messages in -d.
      const sum = await buf(
        [
          ...h2c,
          "-d",
          '{"value": 1} {"value": 2.5}',
          `${server.url}/analytics.Analytics/Aggregate`,
        ],
        dir.path,
      );
      assert.equal(sum.code, 0, sum.stderr);
      assert.deepEqual(JSON.parse(sum.stdout), { count: "2", sum: 3.5 });
      const echo = await buf(
        [...h2c, "-d", '{"text": "a"} {"text": "b"}', `${server.url}/chat.Chat/Echo`],
        dir.path,
      );
      assert.equal(echo.code, 0, echo.stderr);
      assert.deepEqual(messages(echo.stdout), [{ text: "A" }, { text: "B" }]);
    },
    { timeoutMs: 90_000 },
  );

  test(
    `buf curl -> ${where} server: with the generated .proto files, errors carry code and details`,
    async () => {
      await using server = await start();
      await using dir = await tempDir();
      const protoDir = join(dir.path, "proto");
      for (const file of protoSources(fileDescriptorSet(connectServices().services))) {
        await mkdir(dirname(join(protoDir, file.path)), { recursive: true });
        await writeFile(join(protoDir, file.path), file.content);
      }
      const schema = ["curl", "--schema", protoDir];
      const get = await buf(
        [
          ...schema,
          "--protocol",
          "connect",
          "-d",
          '{"userId": 7}',
          `${server.url}/users.Users/GetUser`,
        ],
        dir.path,
      );
      assert.equal(get.code, 0, get.stderr);
      assert.deepEqual(JSON.parse(get.stdout), { username: "user7", age: "30" });
      // buf curl exits with the code's number times 8, and prints the Connect error.
      const missing = await buf(
        [
          ...schema,
          "--protocol",
          "connect",
          "-d",
          '{"userId": 404}',
          `${server.url}/users.Users/GetUser`,
        ],
        dir.path,
      );
      assert.equal(missing.code, 5 * 8, missing.stderr);
      const error = JSON.parse(missing.stderr);
      assert.equal(error.code, "not_found");
      assert.equal(error.message, "No user 404");
      assert.deepEqual(error.details[0].debug, { user_id: 404 });
      const invalid = await buf(
        [
          ...schema,
          "--protocol",
          "grpcweb",
          "-d",
          '{"size": -3}',
          `${server.url}/extras.v1.Extras/Big`,
        ],
        dir.path,
      );
      assert.equal(invalid.code, 3 * 8, invalid.stderr);
      assert.match(invalid.stderr, /"code": "invalid_argument"[\s\S]*too_small/);
      // Headers go out as metadata; a bidi stream over h2c with the files.
      const meta = await buf([
        ...schema,
        "--protocol",
        "connect",
        "-H",
        "x-caller: buf",
        "-d",
        "{}",
        `${server.url}/probes.Probes/Metadata`,
      ], dir.path);
      assert.deepEqual(JSON.parse(meta.stdout), { caller: "buf" });
      const echo = await buf([
        ...schema,
        "--protocol",
        "connect",
        "--http2-prior-knowledge",
        "-d",
        '{"text": "x"} {"text": "y"}',
        `${server.url}/chat.Chat/Echo`,
      ], dir.path);
      assert.equal(echo.code, 0, echo.stderr);
      assert.deepEqual(messages(echo.stdout), [{ text: "X" }, { text: "Y" }]);
    },
    { timeoutMs: 90_000 },
  );
}
