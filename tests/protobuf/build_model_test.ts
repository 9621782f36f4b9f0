/**
 * The mapping from zod to protobuf (docs/connect.md, "Protobuf from zod"): names, scalar types,
 * nesting, enums, oneofs, JSON values, presence, requests and responses, comments and errors.
 * Most tests read the `.proto` text, which shows the model as a reader of the mapping sees it.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { Service, stream, streaming, z } from "../../mod.ts";
import { buildProtoModel } from "../../src/protobuf/mod.ts";
import { block, examples, kitchenSink, protoOf, protoTexts } from "./_helpers.ts";

const noop = () => ({}) as never;

function one(input: z.ZodType, output?: z.ZodType, name = "t"): Service {
  return new Service(name).method("run", output ? { input, output } : { input }, noop);
}

test("buildProtoModel() names packages, services, RPCs and paths after the service and version", () => {
  const { files } = buildProtoModel([
    ...examples.services,
    new Service("users", { version: 2 }).method("get_user", {}, noop),
    new Service("user-accounts").method("getUser", {}, noop).method("list_all", {}, noop),
  ]);
  assert.deepEqual(
    files.map((file) => [file.path, file.package, file.service.fullName]),
    [
      ["users/users.proto", "users", "users.Users"],
      ["analytics/analytics.proto", "analytics", "analytics.Analytics"],
      ["chat/chat.proto", "chat", "chat.Chat"],
      ["users/v2/users.proto", "users.v2", "users.v2.Users"],
      ["user_accounts/user_accounts.proto", "user_accounts", "user_accounts.UserAccounts"],
    ],
  );
  assert.deepEqual(files[3]!.service.methods.map((m) => m.path), ["/users.v2.Users/GetUser"]);
  assert.deepEqual(files[4]!.service.methods.map((m) => [m.key, m.name, m.path]), [
    ["getUser", "GetUser", "/user_accounts.UserAccounts/GetUser"],
    ["list_all", "ListAll", "/user_accounts.UserAccounts/ListAll"],
  ]);
});

test("buildProtoModel() gives methods whose names clash in PascalCase a number, in order", () => {
  const { files } = buildProtoModel(kitchenSink.services, kitchenSink);
  const drawing = files.find((file) => file.package === "drawing")!;
  assert.deepEqual(
    drawing.service.methods.map((m) => [m.key, m.name]).slice(-2),
    [["get_record", "GetRecord"], ["getRecord", "GetRecord2"]],
  );
});

test("buildProtoModel() refuses two services that map to one package, naming both", () => {
  assert.throws(
    () => buildProtoModel([new Service("my-svc"), new Service("my_svc")]),
    new TypeError("Services my-svc and my_svc both map to the protobuf package my_svc: rename one"),
  );
});

test("buildProtoModel() maps scalars: strings, booleans, doubles, bytes and integers by range", () => {
  const text = protoOf(one(z.object({
    name: z.string(),
    email: z.email(),
    stamp: z.iso.datetime(),
    on: z.boolean(),
    ratio: z.number(),
    small: z.float32(),
    count: z.number().int(),
    age: z.number().int().min(0).max(150),
    negative: z.number().int().min(-5).max(-1),
    big_unsigned: z.number().int().min(0).max(4_000_000_000),
    past_uint32: z.number().int().min(0).max(2 ** 32),
    positive: z.number().int().positive(),
    i32: z.int32(),
    u32: z.uint32(),
    i64: z.int64(),
    u64: z.uint64(),
    huge: z.bigint(),
    natural: z.bigint().nonnegative(),
    blob: z.base64(),
    url_blob: z.base64url(),
    at: z.date(),
    level: z.literal(3),
    pi: z.literal(3.14),
    yes: z.literal(true),
    tag: z.literal("v1"),
    template: z.templateLiteral(["id-", z.number()]),
  })));
  assert.equal(
    block(text, "RunRequest"),
    `message RunRequest {
  string name = 1;
  string email = 2;
  string stamp = 3;
  bool on = 4;
  double ratio = 5;
  float small = 6;
  int64 count = 7;
  int32 age = 8;
  int32 negative = 9;
  uint32 big_unsigned = 10;
  int64 past_uint32 = 11;
  int64 positive = 12;
  int32 i32 = 13;
  uint32 u32 = 14;
  int64 i64 = 15;
  uint64 u64 = 16;
  int64 huge = 17;
  uint64 natural = 18;
  bytes blob = 19;
  bytes url_blob = 20;
  google.protobuf.Timestamp at = 21;
  int32 level = 22;
  double pi = 23;
  bool yes = 24;
  string tag = 25;
  string template = 26;
}`,
  );
  assert.match(
    text,
    /^rpc|service T \{\n {2}rpc Run\(RunRequest\) returns \(google\.protobuf\.Empty\);/m,
  );
});

test("buildProtoModel() follows .meta({ protobuf: { type } }) for numbers, bigints and custom bytes", () => {
  const text = protoOf(one(z.object({
    zigzag: z.number().int().meta({ protobuf: { type: "sint32" } }),
    fixed: z.bigint().meta({ protobuf: { type: "fixed64" } }),
    raw: z.instanceof(Uint8Array).meta({ protobuf: { type: "bytes" } }),
    optional_zigzag: z.number().int().meta({ protobuf: { type: "sint64" } }).optional(),
  })));
  assert.equal(
    block(text, "RunRequest"),
    `message RunRequest {
  sint32 zigzag = 1;
  fixed64 fixed = 2;
  bytes raw = 3;
  optional sint64 optional_zigzag = 4;
}`,
  );
  assert.throws(
    () => protoOf(one(z.object({ s: z.string().meta({ protobuf: { type: "int32" } }) }))),
    /Invalid protobuf\.type int32 on t\.run input\.s: a string maps to string/,
  );
  assert.throws(
    () =>
      protoOf(one(z.object({ s: z.number().meta({ protobuf: { type: "int96" as "int32" } }) }))),
    /Invalid protobuf\.type "int96" on t\.run input\.s: expected one of double, float/,
  );
});

test("buildProtoModel() nests unnamed objects under their property, keeps named ones top-level and shared", () => {
  const Address = z.object({ city: z.string() });
  const service = one(
    z.object({
      home: Address.describe("Where they live"),
      work: Address,
      settings: z.object({ theme: z.string() }),
      links: z.array(z.object({ url: z.string() })),
      scores: z.record(z.string(), z.object({ best: z.number() })),
    }),
  );
  const text = protoOf(service, { schemaNames: new Map([[Address, "Address"]]) });
  assert.equal(
    block(text, "RunRequest"),
    `message RunRequest {
  message Settings {
    string theme = 1;
  }
  message LinksItem {
    string url = 1;
  }
  message ScoresItem {
    double best = 1;
  }
  // Where they live
  Address home = 1;
  Address work = 2;
  Settings settings = 3;
  repeated LinksItem links = 4;
  map<string, ScoresItem> scores = 5;
}`,
  );
  assert.equal(block(text, "Address"), "message Address {\n  string city = 1;\n}");
});

test("buildProtoModel() gives enums a zero value and prefixed names; literal unions are enums too", () => {
  enum Numeric {
    Low = 1,
    High = 10,
  }
  const Status = z.enum(["in-progress", "done", "unspecified"]).describe("Where a task is");
  const text = protoOf(
    one(z.object({
      status: Status,
      role: z.union([z.literal("admin"), z.literal("guest")]),
      size: z.literal(["s", "m"]),
      numeric: z.enum(Numeric),
    })),
    { schemaNames: new Map([[Status, "TaskStatus"]]) },
  );
  assert.equal(
    block(text, "TaskStatus"),
    `enum TaskStatus {
  TASK_STATUS_UNSPECIFIED = 0;
  TASK_STATUS_IN_PROGRESS = 1;
  TASK_STATUS_DONE = 2;
  TASK_STATUS_UNSPECIFIED_2 = 3;
}`,
  );
  assert.match(text, /\/\/ Where a task is\nenum TaskStatus \{/);
  assert.equal(
    block(text, "RunRequest"),
    `message RunRequest {
  enum Role {
    ROLE_UNSPECIFIED = 0;
    ROLE_ADMIN = 1;
    ROLE_GUEST = 2;
  }
  enum Size {
    SIZE_UNSPECIFIED = 0;
    SIZE_S = 1;
    SIZE_M = 2;
  }
  TaskStatus status = 1;
  Role role = 2;
  Size size = 3;
  int32 numeric = 4;
}`,
  );
});

test("buildProtoModel() maps a discriminated union to a message with a oneof; cases drop the discriminator", () => {
  const Shape = z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("circle"), radius: z.number() }),
    z.object({ kind: z.literal("rect"), width: z.number(), height: z.number() }),
    z.object({ kind: z.enum(["dot", "pixel"]), at: z.number() }),
  ]).describe("Something to draw");
  const text = protoOf(one(z.object({ shape: Shape })), {
    schemaNames: new Map([[Shape, "Shape"]]),
  });
  assert.equal(
    block(text, "Shape"),
    `message Shape {
  message Circle {
    double radius = 1;
  }
  message Rect {
    double width = 1;
    double height = 2;
  }
  message Dot {
    enum Kind {
      KIND_UNSPECIFIED = 0;
      KIND_DOT = 1;
      KIND_PIXEL = 2;
    }
    Kind kind = 1;
    double at = 2;
  }
  oneof kind {
    Circle circle = 1;
    Rect rect = 2;
    Dot dot = 3;
  }
}`,
  );
  assert.match(text, /\/\/ Something to draw\nmessage Shape \{/);
});

test("buildProtoModel() finds the discriminator of a plain union of objects tagged by literals", () => {
  const Event = z.union([
    z.object({ type: z.literal("click"), x: z.number() }),
    z.object({ type: z.literal("key"), code: z.string() }),
  ]);
  const text = protoOf(one(Event));
  assert.match(
    block(text, "RunRequest"),
    /oneof type \{\n {4}Click click = 1;\n {4}Key key = 2;\n {2}\}/,
  );
});

test("buildProtoModel() maps what protobuf cannot type to google.protobuf.Value", () => {
  const text = protoOf(one(
    z.object({
      either: z.union([z.string(), z.number()]),
      untagged: z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]),
      anything: z.unknown(),
      whatever: z.any(),
      pair: z.tuple([z.string(), z.number()]),
      both: z.object({ a: z.string() }).and(z.object({ b: z.string() })),
      lookup: z.map(z.string(), z.number()),
      custom: z.custom<string>((value) => typeof value === "string"),
      only_null: z.null(),
      transformed_out: z.string().transform((s) => s.length),
    }),
    z.object({ computed: z.string().transform((s) => s.length) }),
  ));
  assert.equal(
    block(text, "RunRequest"),
    `message RunRequest {
  google.protobuf.Value either = 1;
  google.protobuf.Value untagged = 2;
  google.protobuf.Value anything = 3;
  google.protobuf.Value whatever = 4;
  google.protobuf.Value pair = 5;
  google.protobuf.Value both = 6;
  google.protobuf.Value lookup = 7;
  google.protobuf.Value custom = 8;
  google.protobuf.Value only_null = 9;
  string transformed_out = 10;
}`,
  );
  assert.equal(
    block(text, "RunResponse"),
    "message RunResponse {\n  google.protobuf.Value computed = 1;\n}",
  );
  const file = Object.values(protoTexts([one(z.object({ anything: z.unknown() }))]))[0]!;
  assert.match(file, /^import "google\/protobuf\/struct\.proto";$/m);
});

test("buildProtoModel() maps a tuple of one scalar type to a repeated field", () => {
  const text = protoOf(one(z.object({ point: z.tuple([z.number(), z.number()]) })));
  assert.match(block(text, "RunRequest"), /^ {2}repeated double point = 1;$/m);
});

test("buildProtoModel() marks fields proto3 optional where a missing value must stay missing", () => {
  const Item = z.object({
    required: z.number(),
    optional: z.number().optional(),
    defaulted: z.number().default(5),
    nullable: z.string().nullable(),
    both: z.string().nullable().optional(),
    list: z.array(z.string()).optional(),
    nested: z.object({ a: z.string() }).optional(),
  });
  const names = { schemaNames: new Map([[Item, "Item"]]) };
  const asInput = block(protoOf(one(Item), names), "Item");
  const asOutput = block(protoOf(one(z.object({}), Item), names), "Item");
  assert.equal(
    asInput,
    `message Item {
  message Nested {
    string a = 1;
  }
  double required = 1;
  optional double optional = 2;
  optional double defaulted = 3;
  optional string nullable = 4;
  optional string both = 5;
  repeated string list = 6;
  Nested nested = 7;
}`,
  );
  // A default is always filled in on the way out, so the response needs no presence for it.
  assert.match(asOutput, /^ {2}double defaulted = 3;$/m);
  assert.match(asOutput, /^ {2}optional double optional = 2;$/m);
});

test("buildProtoModel() wraps lists of lists and nullable elements in a one-field message", () => {
  const text = protoOf(one(z.object({
    matrix: z.array(z.array(z.number())),
    maybe: z.array(z.string().nullable()),
    groups: z.record(z.string(), z.array(z.string())),
  })));
  assert.equal(
    block(text, "RunRequest"),
    `message RunRequest {
  message MatrixItem {
    repeated double value = 1;
  }
  message MaybeItem {
    optional string value = 1;
  }
  message GroupsItem {
    repeated string value = 1;
  }
  repeated MatrixItem matrix = 1;
  repeated MaybeItem maybe = 2;
  map<string, GroupsItem> groups = 3;
}`,
  );
});

test("buildProtoModel() follows recursion through getters and z.lazy", () => {
  interface Node {
    name: string;
    children: Node[];
  }
  const Anonymous: z.ZodType<Node> = z.lazy(() =>
    z.object({ name: z.string(), children: z.array(Anonymous) })
  );
  const Lists: z.ZodType<unknown> = z.lazy(() => z.array(Lists));
  const text = protoOf(one(z.object({ tree: Anonymous, lists: Lists })));
  assert.equal(
    block(text, "RunRequest"),
    `message RunRequest {
  message Tree {
    string name = 1;
    repeated Tree children = 2;
  }
  message ListsItem {
    repeated ListsItem value = 1;
  }
  Tree tree = 1;
  repeated ListsItem lists = 2;
}`,
  );
  const sink = protoTexts(kitchenSink.services, kitchenSink)["drawing/drawing.proto"]!;
  assert.equal(
    block(sink, "TreeNode"),
    "message TreeNode {\n  string name = 1;\n  repeated TreeNode children = 2;\n}",
  );
});

test("buildProtoModel() maps requests and responses that are not objects", () => {
  const Color = z.enum(["red", "green"]);
  const service = new Service("roots")
    .method("none", {}, noop)
    .method("text", { input: z.string(), output: z.number().int() }, noop)
    .method("zigzag", { input: z.number().int().meta({ protobuf: { type: "sint32" } }) }, noop)
    .method("when", { input: z.date(), output: z.unknown() }, noop)
    .method("list", { output: z.array(z.string()) }, noop)
    .method("maybe", { output: z.object({ a: z.string() }).nullable() }, noop)
    .method("color", { input: Color }, noop)
    .method("nothing", { output: z.void() }, noop)
    .method("flow", { input: stream(z.boolean()), output: streaming(z.base64()) }, noop);
  const text = protoOf(service);
  assert.equal(
    text.slice(0, text.indexOf("\n}\n") + 2),
    `service Roots {
  rpc None(google.protobuf.Empty) returns (google.protobuf.Empty);
  rpc Text(google.protobuf.StringValue) returns (google.protobuf.Int64Value);
  rpc Zigzag(ZigzagRequest) returns (google.protobuf.Empty);
  rpc When(google.protobuf.Timestamp) returns (google.protobuf.Value);
  rpc List(google.protobuf.Empty) returns (ListResponse);
  rpc Maybe(google.protobuf.Empty) returns (MaybeResponse);
  rpc Color(ColorRequest) returns (google.protobuf.Empty);
  rpc Nothing(google.protobuf.Empty) returns (google.protobuf.Empty);
  rpc Flow(stream google.protobuf.BoolValue) returns (stream google.protobuf.BytesValue);
}`,
  );
  assert.equal(block(text, "ZigzagRequest"), "message ZigzagRequest {\n  sint32 value = 1;\n}");
  assert.equal(
    block(text, "ListResponse"),
    "message ListResponse {\n  repeated string value = 1;\n}",
  );
  assert.equal(
    block(text, "MaybeResponse"),
    "message MaybeResponse {\n  message Value {\n    string a = 1;\n  }\n  Value value = 1;\n}",
  );
  assert.match(block(text, "ColorRequest"), /^ {2}enum Value \{\n {4}VALUE_UNSPECIFIED = 0;/m);
});

test("buildProtoModel() names requests and responses like the introspection document", () => {
  const Named = z.object({ a: z.string() }).meta({ id: "Explicit" });
  const GetRequest = z.object({ b: z.string() });
  const service = new Service("names")
    .method("get", { input: z.object({}), output: Named }, noop)
    .method("other", { input: GetRequest, output: z.object({ c: z.string() }) }, noop)
    .method("third", { input: z.object({ d: z.string() }) }, noop);
  const text = protoOf(service, { schemaNames: new Map([[GetRequest, "GetRequest"]]) });
  assert.match(text, /rpc Get\(NamesGetRequest\) returns \(Explicit\);/);
  assert.match(text, /rpc Other\(GetRequest\) returns \(OtherResponse\);/);
  assert.match(text, /rpc Third\(ThirdRequest\) returns \(google\.protobuf\.Empty\);/);
});

test("buildProtoModel() reads a pipe's input side for requests and its output side for responses", () => {
  const Stamp = z.object({ at: z.iso.datetime().transform((s) => new Date(s)).pipe(z.date()) });
  const text = protoOf(one(Stamp, Stamp), { schemaNames: new Map([[Stamp, "Stamp"]]) });
  assert.match(text, /rpc Run\(Stamp\) returns \(StampOutput\);/);
  assert.equal(block(text, "Stamp"), "message Stamp {\n  string at = 1;\n}");
  assert.equal(
    block(text, "StampOutput"),
    "message StampOutput {\n  google.protobuf.Timestamp at = 1;\n}",
  );
});

test("buildProtoModel() finds a pipe behind recursion, so each side of a recursive schema gets its message", () => {
  interface Node {
    at: Date;
    children: Node[];
  }
  const Node: z.ZodType<Node, { at: string; children: unknown[] }> = z.lazy(() =>
    z.object({
      children: z.array(Node),
      at: z.iso.datetime().transform((s) => new Date(s)).pipe(z.date()),
    })
  );
  const text = protoOf(one(z.object({ node: Node }), z.object({ node: Node })));
  assert.match(
    block(text, "RunRequest"),
    /message Node \{\n {4}repeated Node children = 1;\n {4}string at = 2;/,
  );
  assert.match(
    block(text, "RunResponse"),
    /message NodeOutput \{\n {4}repeated NodeOutput children = 1;\n {4}google\.protobuf\.Timestamp at = 2;/,
  );
});

test("buildProtoModel() turns descriptions into comments and deprecation into options", () => {
  const text = protoTexts(kitchenSink.services, kitchenSink)["profiles/v2/profiles.proto"]!;
  assert.match(text, /^\/\/ User profiles\nservice Profiles \{$/m);
  assert.match(
    text,
    / {2}\/\/ Deletes a profile\.\n {2}\/\/\n {2}\/\/ Deprecated: Use archive, which can be undone\.\n {2}rpc Delete\(DeleteRequest\) returns \(google\.protobuf\.Empty\) \{\n {4}option deprecated = true;\n {2}\}/,
  );
  assert.match(
    text,
    / {2}\/\/ Old clients\n {2}optional string x_trace_id = 14 \[deprecated = true\];/,
  );
  assert.match(text, / {2}\/\/ Street and number\n {2}string street = 1;/);
  const legacy = protoTexts(kitchenSink.services, kitchenSink)["profiles/profiles.proto"]!;
  assert.match(
    legacy,
    /^\/\/ Deprecated: Use version 2\.\nservice Profiles \{\n {2}option deprecated = true;/m,
  );
});

test("buildProtoModel() turns property names into snake_case fields, unique also as JSON names", () => {
  const text = protoOf(one(z.object({
    userId: z.string(),
    "x-trace-id": z.string(),
    HTTPStatus: z.number(),
    user_id: z.string(),
    "2fa": z.boolean(),
    a1: z.string(),
    a_1: z.string(),
  })));
  assert.equal(
    block(text, "RunRequest"),
    `message RunRequest {
  string user_id = 1;
  string x_trace_id = 2;
  double http_status = 3;
  string user_id_2 = 4;
  bool field_2fa = 5;
  string a1 = 6;
  string a_1_2 = 7;
}`,
  );
});

test("buildProtoModel() says where a schema cannot be sent", () => {
  assert.throws(
    () => buildProtoModel([one(z.object({ callback: z.function() }))]),
    new TypeError(
      "Cannot map t.run input.callback to protobuf: a function cannot be sent over the network",
    ),
  );
  assert.throws(
    () => buildProtoModel([one(z.object({ a: z.string() }).meta({ protobuf: 3 }))]),
    /Invalid \.meta\(\{ protobuf \}\) on t\.run input: expected an object/,
  );
});
