/**
 * The `.proto` output, checked by buf (the `@bufbuild/buf` binary, offline): `buf lint` and `buf
 * build` accept what `microapi proto` writes for the examples, the kitchen sink and a module that
 * uses every mapping; compiling it gives back the descriptors the server builds; and buf's Go
 * protobuf runtime and the codecs read each other's bytes. The files must also match
 * tests/protobuf/golden/ (after an intended change: UPDATE_GOLDEN=1 deno test -A
 * tests/protobuf/buf_test.ts, and review the diff).
 */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { equals, toJson } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { test } from "../_harness.ts";
import { cli, root, tempDir } from "../_cli.ts";
import {
  buildProtoModel,
  createProtoCodecs,
  decodeFileDescriptorSet,
  fileDescriptorProtos,
} from "../../src/protobuf/mod.ts";
import * as everything from "./_everything.ts";
import { buf, examples, exportNames, kitchenSink } from "./_helpers.ts";

const MODULES = [
  "examples/users.ts",
  "examples/analytics.ts",
  "examples/chat.ts",
  "tests/codegen/_kitchen_sink.ts",
  "tests/protobuf/_everything.ts",
];
const GOLDEN = `${root}tests/protobuf/golden/`;

async function writeProto(out: string): Promise<void> {
  const outcome = await cli(["proto", ...MODULES, "--out", out]);
  assert.equal(outcome.code, 0, outcome.stderr);
}

async function files(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.name.startsWith(".")) continue;
    if (entry.isDirectory()) found.push(...await files(dir, path));
    else found.push(path);
  }
  return found.sort();
}

test("microapi proto writes files that buf lint and buf build accept", async () => {
  await using dir = await tempDir();
  await writeProto(`${dir.path}/proto`);
  const lint = await buf(["lint"], `${dir.path}/proto`);
  assert.equal(lint.code, 0, `buf lint:\n${lint.stdout}${lint.stderr}`);
  const build = await buf(["build", "-o", `${dir.path}/set.binpb`], `${dir.path}/proto`);
  assert.equal(build.code, 0, `buf build:\n${build.stdout}${build.stderr}`);
  // The lint rules left out are the naming conventions MicroAPI's names cannot follow; with all
  // of them on, those are the only complaints.
  await writeFile(`${dir.path}/proto/buf.yaml`, "version: v2\nlint:\n  use:\n    - STANDARD\n");
  const strict = await buf(["lint", "--error-format", "json"], `${dir.path}/proto`);
  const rules = new Set(
    strict.stdout.trim().split("\n").map((line) => JSON.parse(line).type as string),
  );
  assert.deepEqual([...rules].sort(), [
    "PACKAGE_VERSION_SUFFIX",
    "RPC_REQUEST_RESPONSE_UNIQUE",
    "RPC_REQUEST_STANDARD_NAME",
    "RPC_RESPONSE_STANDARD_NAME",
    "SERVICE_SUFFIX",
  ]);
});

test("buf build compiles the .proto files back into the descriptors the server builds, comments too", async () => {
  await using dir = await tempDir();
  await writeProto(`${dir.path}/proto`);
  const out = `${dir.path}/set.binpb`;
  const build = await buf(["build", "--exclude-imports", "-o", out], `${dir.path}/proto`);
  assert.equal(build.code, 0, build.stderr);
  const compiled = decodeFileDescriptorSet(await readFile(out));
  const ours = [
    ...fileDescriptorProtos(buildProtoModel(examples.services, examples)),
    ...fileDescriptorProtos(buildProtoModel(kitchenSink.services, kitchenSink)),
    ...fileDescriptorProtos(
      buildProtoModel([everything.tasks], { schemaNames: exportNames(everything) }),
    ),
  ];
  assert.deepEqual(
    compiled.file.map((file) => file.name).sort(),
    ours.map((file) => file.name).sort(),
  );
  let comments = 0;
  for (const file of ours) {
    const theirs = compiled.file.find((f) => f.name === file.name)!;
    // Every comment sits where protoc puts it, with the span protoc gives its element.
    for (const location of file.sourceCodeInfo?.location ?? []) {
      const path = location.path.join(".");
      const found = theirs.sourceCodeInfo!.location.find((l) => l.path.join(".") === path);
      assert.deepEqual(
        [found?.span, found?.leadingComments],
        [location.span, location.leadingComments],
        `${file.name} ${path}`,
      );
      comments++;
    }
    file.sourceCodeInfo = undefined;
    theirs.sourceCodeInfo = undefined;
    if (!equals(FileDescriptorProtoSchema, file, theirs)) {
      assert.deepEqual(
        toJson(FileDescriptorProtoSchema, file),
        toJson(FileDescriptorProtoSchema, theirs),
        file.name,
      );
    }
  }
  assert.ok(comments > 20, `only ${comments} comments compared`);
});

test("buf convert (Go's protobuf) and the codecs read each other's bytes", async () => {
  await using dir = await tempDir();
  const proto = `${dir.path}/proto`;
  await writeProto(proto);
  const codecs = createProtoCodecs([everything.tasks], { schemaNames: exportNames(everything) });
  const get = codecs.byPath("/tasks.v1.Tasks/Get")!;

  // A client's JSON, encoded by Go, decoded by the codec, validated by the schema.
  const json = {
    id: "9b2f0d5e-1c1a-4b8e-9f7e-2d7c8a6b5e4f",
    title: "write docs",
    status: "STATUS_IN_PROGRESS",
    estimateHours: 1.5,
    createdMs: "1700000000000",
    sizeBytes: "18446744073709551615",
    checksum: "aGVsbG8=",
    shape: { polygon: { points: [{ x: 0 }, { y: 1 }, { x: 1, y: 1 }] } },
    matrix: [{ value: [1, 2] }, {}],
    notes: [{ value: "n" }, {}],
    extra: { any: [1, null] },
    due: "2024-01-02T03:04:05Z",
    labels: { team: "docs" },
  };
  await writeFile(`${dir.path}/in.json`, JSON.stringify(json));
  const convert = (from: string, to: string) =>
    buf(["convert", proto, "--type", "tasks.v1.Task", "--from", from, "--to", to], dir.path);
  const toBinary = await convert(`${dir.path}/in.json`, `${dir.path}/in.binpb`);
  assert.equal(toBinary.code, 0, toBinary.stderr);
  const decoded = get.output.decodeBinary(await readFile(`${dir.path}/in.binpb`));
  assert.deepEqual(everything.Task.parse(decoded), {
    id: json.id,
    title: "write docs",
    status: "in-progress",
    priority: 3,
    estimate_hours: 1.5,
    tags: [],
    labels: { team: "docs" },
    due: new Date("2024-01-02T03:04:05Z"),
    created_ms: 1_700_000_000_000,
    size_bytes: 2n ** 64n - 1n,
    checksum: "aGVsbG8=",
    shape: { kind: "polygon", points: [{ x: 0, y: 0 }, { x: 0, y: 1 }, { x: 1, y: 1 }] },
    attachments: [],
    matrix: [[1, 2], []],
    notes: ["n", null],
    extra: { any: [1, null] },
  });

  // A response encoded by the codec, decoded by Go into the JSON the codec writes.
  const task = everything.Task.parse(decoded);
  await writeFile(`${dir.path}/out.binpb`, get.output.encodeBinary(task));
  const toJsonText = await convert(`${dir.path}/out.binpb`, "-#format=json");
  assert.equal(toJsonText.code, 0, toJsonText.stderr);
  assert.deepEqual(JSON.parse(toJsonText.stdout), get.output.encodeJson(task));
});

test("microapi proto output matches the golden files", async () => {
  await using dir = await tempDir();
  const out = `${dir.path}/proto`;
  await writeProto(out);
  if (process.env.UPDATE_GOLDEN === "1") {
    await rm(GOLDEN, { recursive: true, force: true });
    for (const path of await files(out)) {
      await mkdir(dirname(join(GOLDEN, path)), { recursive: true });
      await writeFile(join(GOLDEN, path), await readFile(join(out, path)));
    }
  }
  assert.deepEqual(await files(out), await files(GOLDEN));
  for (const path of await files(GOLDEN)) {
    assert.equal(
      await readFile(join(out, path), "utf8"),
      await readFile(join(GOLDEN, path), "utf8"),
      `${path} differs from its golden file (UPDATE_GOLDEN=1 to accept a change)`,
    );
  }
});
