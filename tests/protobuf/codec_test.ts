/**
 * The codecs: protobuf binary and Connect's JSON to the plain value a MicroAPI client would have
 * sent (and back), and hostile bytes turned into `invalid_argument`, never a crash.
 */
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { test } from "../_harness.ts";
import { RpcError, Service, z } from "../../mod.ts";
import { createProtoCodecs, MAX_DECODE_DEPTH, type MethodCodec } from "../../src/protobuf/mod.ts";
import { examples, kitchenSink } from "./_helpers.ts";
import { ListUsersRequest } from "../../examples/users.ts";

const noop = () => ({}) as never;

function codecOf(input: z.ZodType, output?: z.ZodType): MethodCodec {
  const service = new Service("t").method("run", output ? { input, output } : { input }, noop);
  return createProtoCodecs([service]).methods[0]!;
}

function rpcError(code: string, message: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${error}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  };
}

test("codecs round-trip the examples' messages, in binary and in JSON, to what zod accepts", () => {
  const codecs = createProtoCodecs(examples.services, examples);
  const cases: [string, "input" | "output", unknown][] = [
    ["/users.Users/GetUser", "input", { user_id: 7 }],
    ["/users.Users/GetUser", "output", { user_id: 7, username: "ada", age: 36 }],
    ["/users.Users/ListUsers", "input", { limit: 3 }],
    ["/analytics.Analytics/Aggregate", "input", { timestamp: 1.7e12, value: -2.5 }],
    ["/analytics.Analytics/Aggregate", "output", { count: 2, sum: 3, mean: 1.5, min: 1, max: 2 }],
    ["/analytics.Analytics/Aggregate", "output", {
      count: 0,
      sum: 0,
      mean: 0,
      min: null,
      max: null,
    }],
    ["/chat.Chat/Conversation", "input", { user: "ada", text: "hi there" }],
    ["/chat.Chat/Conversation", "output", { text: "ok", in_reply_to: 0 }],
  ];
  for (const [path, side, value] of cases) {
    const codec = codecs.byPath(path)![side];
    assert.deepEqual(codec.decodeBinary(codec.encodeBinary(value)), value, `${path} ${side}`);
    assert.deepEqual(codec.decodeJson(codec.encodeJson(value)), value, `${path} ${side} JSON`);
  }
  // A request that leaves the default out: zod fills it in, as for a MicroAPI client.
  const list = codecs.byPath("/users.Users/ListUsers")!.input;
  assert.deepEqual(list.decodeBinary(new Uint8Array()), {});
  assert.deepEqual(ListUsersRequest.parse(list.decodeBinary(new Uint8Array())), { limit: 100 });
  // Zero on the wire is not "left out" for a field with a default: it has presence.
  assert.deepEqual(list.decodeBinary(list.encodeBinary({ limit: 0 })), { limit: 0 });
});

test("codecs restore what a protobuf client leaves out as a MicroAPI client would send it", () => {
  const Request = z.object({
    n: z.number(),
    s: z.string(),
    b: z.boolean(),
    big: z.bigint(),
    blob: z.base64(),
    list: z.array(z.string()),
    map: z.record(z.string(), z.number()),
    optional: z.string().optional(),
    defaulted: z.number().int().default(100),
    nullable: z.string().nullable(),
    nullable_optional: z.number().nullable().optional(),
    list_default: z.array(z.string()).default(["x"]),
    message: z.object({ a: z.string() }).optional(),
    color: z.enum(["red", "green"]).optional(),
    when: z.date().nullable(),
    json: z.unknown(),
  });
  const codec = codecOf(Request).input;
  const decoded = codec.decodeBinary(new Uint8Array());
  assert.deepEqual(decoded, {
    n: 0,
    s: "",
    b: false,
    big: 0n,
    blob: "",
    list: [],
    map: {},
    nullable: null,
    when: null,
    json: null,
  });
  assert.deepEqual(Request.parse(decoded), {
    ...decoded as object,
    defaulted: 100,
    list_default: ["x"],
  });
  assert.deepEqual(codec.decodeJson({}), decoded);

  // Required enums and messages have no zero value a client would send: zod reports them.
  const Strict = z.object({ color: z.enum(["red", "green"]), inner: z.object({ a: z.string() }) });
  const strict = codecOf(Strict).input.decodeBinary(new Uint8Array());
  assert.deepEqual(strict, {});
  assert.deepEqual(
    Strict.safeParse(strict).error?.issues.map((issue) => issue.path.join(".")),
    ["color", "inner"],
  );
});

test("codecs read Connect JSON: either field name, enums by name or number, int64 as text", () => {
  const Request = z.object({
    user_id: z.number().int(),
    color: z.enum(["red", "green"]),
    tags: z.array(z.string()),
    nick: z.string().nullable(),
  });
  const codec = codecOf(Request).input;
  const want = { user_id: 7, color: "green", tags: ["a"], nick: null };
  assert.deepEqual(
    codec.decodeJson({ userId: "7", color: "COLOR_GREEN", tags: ["a"], nick: null }),
    want,
  );
  assert.deepEqual(codec.decodeJson({ user_id: 7, color: 2, tags: ["a"] }), want);
  assert.deepEqual(codec.decodeJson({ userId: 7, color: 2, tags: ["a"], later: { x: 1 } }), want);
  assert.deepEqual(codec.encodeJson(want), { userId: "7", color: "COLOR_GREEN", tags: ["a"] });
  assert.throws(
    () => codec.decodeJson({ userId: "seven" }),
    rpcError("invalid_argument", /^Invalid JSON for protobuf message t\.RunRequest: .*user_id/),
  );
  assert.throws(
    () => codec.decodeJson([1, 2]),
    rpcError("invalid_argument", /^Invalid JSON for protobuf message t\.RunRequest/),
  );
});

test("codecs refuse an int64 beyond 2^53 for a number field, and keep it exact for a bigint", () => {
  const codecs = createProtoCodecs(examples.services, examples);
  const getUser = codecs.byPath("/users.Users/GetUser")!;
  // What a Connect client sends: a message built from the descriptor, 64-bit ints as bigint.
  const desc = codecs.registry.getMessage("users.GetUserRequest")!;
  const big = toBinary(desc, create(desc, { userId: 2n ** 60n }));
  assert.throws(
    () => getUser.input.decodeBinary(big),
    rpcError("invalid_argument", /user_id is 1152921504606846976, beyond what a JavaScript number/),
  );
  const exact = toBinary(desc, create(desc, { userId: 2n ** 53n - 1n }));
  assert.deepEqual(getUser.input.decodeBinary(exact), { user_id: 2 ** 53 - 1 });
  const bigint = codecOf(z.object({ id: z.bigint() })).input;
  assert.deepEqual(bigint.decodeBinary(bigint.encodeBinary({ id: 2n ** 62n + 1n })), {
    id: 2n ** 62n + 1n,
  });
  assert.deepEqual(bigint.decodeJson({ id: "-9223372036854775808" }), { id: -(2n ** 63n) });
});

test("codecs turn Timestamps into Dates (millisecond precision) and back", () => {
  const codec = codecOf(z.object({ at: z.date() }), z.date());
  const at = new Date("2024-01-02T03:04:05.678Z");
  assert.deepEqual(codec.input.decodeBinary(codec.input.encodeBinary({ at })), { at });
  // Finer than a millisecond is rounded.
  assert.deepEqual(codec.input.decodeJson({ at: "2024-01-02T03:04:05.677912Z" }), { at });
  assert.equal(codec.output.encodeJson(at), "2024-01-02T03:04:05.678Z");
  assert.deepEqual(codec.output.decodeBinary(codec.output.encodeBinary(at)), at);
});

test("codecs map a oneof to the discriminated union's object and back", () => {
  const codecs = createProtoCodecs(kitchenSink.services, kitchenSink);
  const draw = codecs.byPath("/drawing.Drawing/Draw")!.input;
  const circle = { kind: "circle", radius: 2 };
  assert.deepEqual(draw.decodeBinary(draw.encodeBinary(circle)), circle);
  assert.deepEqual(draw.encodeJson({ kind: "rect", width: 1, height: 2 }), {
    rect: { width: 1, height: 2 },
  });
  assert.deepEqual(draw.decodeJson({ rect: { width: 1 } }), { kind: "rect", width: 1, height: 0 });
  // No case set: no discriminator, which zod rejects as it would from any client.
  assert.deepEqual(draw.decodeBinary(new Uint8Array()), {});
  assert.throws(
    () => draw.encodeBinary({ kind: "hexagon" }),
    new TypeError('Cannot encode drawing.Shape as drawing.Shape: no option has kind = "hexagon"'),
  );
});

test("codecs carry google.protobuf.Value fields as JSON, lists and maps, bytes as base64", () => {
  const codecs = createProtoCodecs(kitchenSink.services, kitchenSink);
  const update = codecs.byPath("/profiles.v2.Profiles/Update")!;
  const profile = {
    id: "9b2f0d5e-1c1a-4b8e-9f7e-2d7c8a6b5e4f",
    email: "ada@example.com",
    nickname: null,
    age: 36,
    home: { street: "1 Loop Road", city: "London" },
    work: null,
    tags: ["math"],
    links: [{ label: "site", url: "https://example.com" }],
    settings: { theme: "dark", beta: false },
    scores: { chess: 1.5 },
    quota: { cpu: 2 },
    point: [1, 2],
    role: "admin",
    extra: { any: [1, "x", null, true] },
  };
  const back = update.input.decodeBinary(update.output.encodeBinary(profile));
  // null and a missing message are one thing on the wire; the schema allows both.
  const { work: _, ...withoutWork } = profile;
  assert.deepEqual(back, withoutWork);
  assert.deepEqual(update.input.decodeJson(update.output.encodeJson(profile)), back);

  const bytes = codecOf(z.object({ std: z.base64(), url: z.base64url() })).input;
  const value = { std: "aGk/Pz8=", url: "aGk_Pz8" };
  assert.deepEqual(bytes.decodeBinary(bytes.encodeBinary(value)), value);
  assert.deepEqual(bytes.encodeJson(value), { std: "aGk/Pz8=", url: "aGk/Pz8=" });
});

test("codecs unwrap requests and responses that are not objects", () => {
  const codecs = createProtoCodecs(kitchenSink.services, kitchenSink);
  const echo = codecs.byPath("/types.Types/Echo")!;
  assert.equal(echo.input.typeName, "google.protobuf.StringValue");
  assert.equal(echo.input.decodeBinary(echo.output.encodeBinary("hi")), "hi");
  assert.equal(echo.input.decodeJson("hi"), "hi");
  assert.equal(echo.output.encodeJson("hi"), "hi");
  const records = codecs.byPath("/drawing.Drawing/GetRecord2")!;
  const list = [{ key: "k", value: "v" }];
  assert.deepEqual(records.output.decodeBinary(records.output.encodeBinary(list)), list);
  assert.deepEqual(records.output.encodeJson(list), { value: list });
  const trace = codecs.byPath("/drawing.Drawing/Trace")!;
  assert.equal(trace.input.decodeJson(3), 3);
  assert.equal(trace.input.decodeBinary(trace.input.encodeBinary("x")), "x");
  const ping = codecs.byPath("/drawing.Drawing/Ping")!;
  assert.equal(ping.input.decodeBinary(new Uint8Array()), undefined);
  assert.deepEqual(ping.output.encodeBinary(undefined), new Uint8Array());
  const maybe = codecOf(z.object({}), z.object({ a: z.string() }).nullable()).output;
  assert.equal(maybe.decodeBinary(maybe.encodeBinary(null)), null);
  assert.deepEqual(maybe.decodeBinary(maybe.encodeBinary({ a: "x" })), { a: "x" });
});

/** A small deterministic PRNG, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test("codecs turn malformed protobuf into invalid_argument, never another error", () => {
  const codecs = createProtoCodecs(kitchenSink.services, kitchenSink);
  const update = codecs.byPath("/profiles.v2.Profiles/Update")!.input;
  const fixed: [number[], RegExp][] = [
    [[0x08, 0x96], /^Malformed protobuf message profiles\.v2\.Profile: premature EOF$/],
    [[0x0f], /^Malformed protobuf message profiles\.v2\.Profile: .*wire type 7/],
    [[0x0a, 0x05, 0x61], /premature EOF/],
    [
      [0x0a, 0x02, 0xff, 0xfe],
      /^Malformed protobuf message profiles\.v2\.Profile: a string field is not valid UTF-8$/,
    ],
    [[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /invalid varint/],
  ];
  for (const [bytes, message] of fixed) {
    assert.throws(
      () => update.decodeBinary(new Uint8Array(bytes)),
      rpcError("invalid_argument", message),
    );
  }
  // Random bytes and single-byte corruptions of valid messages, for every request type.
  const next = random(11);
  let rejected = 0;
  for (const method of codecs.methods) {
    const valid = method.input.typeName === "profiles.v2.Profile"
      ? update.decodeBinary(new Uint8Array())
      : undefined;
    const seed = valid === undefined ? new Uint8Array(16) : method.input.encodeBinary(valid);
    for (let i = 0; i < 300; i++) {
      const bytes = i % 2 === 0
        ? Uint8Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256))
        : seed.map((b) => (next() < 0.1 ? Math.floor(next() * 256) : b));
      try {
        method.input.decodeBinary(bytes);
      } catch (error) {
        assert.ok(error instanceof RpcError, `${method.path}: ${error}`);
        assert.equal(error.code, "invalid_argument");
        rejected++;
      }
    }
  }
  assert.ok(rejected > 100, `only ${rejected} inputs were rejected`);
});

test(`codecs refuse messages nested deeper than ${MAX_DECODE_DEPTH} levels`, () => {
  const codecs = createProtoCodecs(kitchenSink.services, kitchenSink);
  const tree = codecs.byPath("/drawing.Drawing/Tree")!.input;
  type Tree = { name: string; children: Tree[] };
  let deep: Tree = { name: "leaf", children: [] };
  for (let i = 0; i < MAX_DECODE_DEPTH + 5; i++) deep = { name: "n", children: [deep] };
  assert.throws(
    () => tree.decodeBinary(tree.encodeBinary(deep)),
    rpcError(
      "invalid_argument",
      /drawing\.TreeNode.*(recursion depth of 100|nested more than 100)/,
    ),
  );
  assert.throws(
    () => tree.decodeJson(tree.encodeJson(deep)),
    rpcError(
      "invalid_argument",
      /drawing\.TreeNode.*(recursion depth of 100|nested more than 100)/,
    ),
  );
  // Far deeper, as raw bytes: field 2 (children) wrapping itself 100 000 times.
  assert.throws(() => tree.decodeBinary(nested(100_000)), rpcError("invalid_argument", /./));
});

/** `levels` TreeNode messages, each the only child of the one around it. */
function nested(levels: number): Uint8Array {
  const lengths = [0];
  for (let i = 1; i < levels; i++) {
    lengths.push(1 + varint(lengths[i - 1]!).length + lengths[i - 1]!);
  }
  const out: number[] = [];
  for (let i = levels - 1; i >= 0; i--) out.push(0x12, ...varint(lengths[i]!));
  return new Uint8Array(out);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

test("codecs say what does not fit when encoding a response the schema should have rejected", () => {
  const codec = codecOf(z.object({}), z.object({ n: z.number().int(), c: z.enum(["a"]) })).output;
  assert.throws(
    () => codec.encodeBinary({ n: 1.5, c: "a" }),
    new TypeError("Cannot encode t.RunResponse.n: 1.5 is not an integer (int64)"),
  );
  assert.throws(
    () => codec.encodeBinary({ n: 1, c: "b" }),
    new TypeError('Cannot encode t.RunResponse.c: "b" is not a value of t.RunResponse.C'),
  );
  assert.throws(
    () => codec.encodeBinary("x"),
    new TypeError("Cannot encode t.RunResponse as t.RunResponse: expected an object"),
  );
});
